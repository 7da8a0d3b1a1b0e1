"""Submit -> moderate -> published pages, index and feeds under /site/ of the local stack."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import lxml.html

from tests.helpers import personnel_release
from tests.integration.conftest import RunningStack, wait_for


def _index_links(stack: RunningStack) -> list[str | None]:
    index = stack.request("GET", stack.info["site_url"], key=None)
    assert index.status == 200
    return [a.get("href") for a in lxml.html.fromstring(index.body).iter("a")]


def _approve_all(stack: RunningStack) -> list[dict[str, Any]]:
    result = stack.cli("moderate", "--once", "--decision", "approve", "--max", "50", "--json", "--wait", "1")
    assert result.returncode in (0, 3), result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_an_approved_release_appears_on_the_site(local_stack: RunningStack) -> None:
    _approve_all(local_stack)
    release_id = local_stack.request(
        "POST", "/releases", json_body=personnel_release(headline="Rovers sign a new goalkeeper today")
    ).json()["id"]

    assert release_id in [r["release_id"] for r in _approve_all(local_stack)]

    view = wait_for(
        lambda: (
            (v := local_stack.request("GET", f"/releases/{release_id}").json())["status"] == "published" and v
        )
    )
    page_url = view["public_url"]
    assert page_url == f"{local_stack.info['site_url']}releases/{release_id}.html"
    page = local_stack.request("GET", page_url, key=None)
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    assert lxml.html.fromstring(page.body).findtext(".//h1") == "Rovers sign a new goalkeeper today"
    ninjs = local_stack.request("GET", f"{local_stack.info['site_url']}releases/{release_id}.json", key=None)
    assert ninjs.json()["pubStatus"] == "usable"
    # And the index lists it once the site refresh has run (right after the publisher's batch)
    assert wait_for(lambda: page_url in _index_links(local_stack), 5)
    for path in ("feeds/all.xml", "feeds/all.atom", "feeds/personnel.xml"):
        feed = local_stack.request("GET", local_stack.info["site_url"] + path, key=None)
        assert feed.status == 200
        assert page_url in [e.link for e in feedparser.parse(feed.body).entries]


def test_a_release_due_in_seconds_is_public_within_seconds_of_its_time_and_not_before(
    local_stack: RunningStack,
) -> None:
    # Given a release due a few seconds from now, approved at once
    _approve_all(local_stack)
    release_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=12)
    release_id = local_stack.request(
        "POST", "/releases", json_body=personnel_release(release_at=release_at.isoformat())
    ).json()["id"]
    _approve_all(local_stack)

    # Then it waits, scheduled, with nothing on the site
    wait_for(
        lambda: local_stack.request("GET", f"/releases/{release_id}").json()["status"] == "scheduled", 10
    )
    site = local_stack.info["site_url"]
    page = f"{site}releases/{release_id}.html"
    assert local_stack.request("GET", page, key=None).status == 404

    # And its page appears within a few seconds after release_at, and never before it
    misses_before_release = 0
    while True:
        status = local_stack.request("GET", page, key=None).status
        answered = datetime.now(UTC)
        if status == 200:
            break
        assert status == 404
        misses_before_release += answered < release_at
        assert answered < release_at + timedelta(seconds=6), "not public 6 s after its release time"
        time.sleep(0.2)
    assert answered >= release_at
    assert misses_before_release > 0  # the page was looked for, and missing, before its time
    # (the status is the last thing a publication changes)
    view = wait_for(
        lambda: (
            (v := local_stack.request("GET", f"/releases/{release_id}").json())["status"] == "published" and v
        ),
        5,
    )
    assert datetime.fromisoformat(view["published_at"]) >= release_at
    assert datetime.fromisoformat(view["published_at"]) >= release_at - timedelta(seconds=30)
    assert wait_for(lambda: page in _index_links(local_stack), 5)
