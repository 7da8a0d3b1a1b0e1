"""The owner's newsroom on the real local stack: its settings as flags, an empty newsroom before
anything is published, a styled 404 for unknown paths, the site's headers from the template."""

from __future__ import annotations

import subprocess
import urllib.robotparser
from pathlib import Path

import lxml.html

from tests.integration.conftest import cli_command, stack_env, start_stack, stop_stack


def test_a_fresh_local_stack_shows_the_owners_empty_newsroom_and_a_styled_404(tmp_path: Path) -> None:
    # Given a fresh local stack started with the owner's settings
    stack = start_stack(
        tmp_path,
        "--memory",
        "--site-name",
        "Harbour Gazette",
        "--site-tagline",
        "News from the harbour towns",
        "--site-time-zone",
        "Europe/London",
    )
    try:
        site = str(stack.info["site_url"])

        # When a reader opens the site before anything is published
        index = stack.request("GET", site, key=None)

        # Then it is the owner's empty newsroom, not a 404
        assert (index.status, index.content_type) == (200, "text/html")
        root = lxml.html.document_fromstring(index.body)
        assert root.findtext(".//title") == "Harbour Gazette"
        assert "News from the harbour towns" in root.text_content()
        assert "No releases have been published yet" in root.text_content()
        # styled by the site's own stylesheet, which the site's policy allows (no inline style)
        policy = index.headers["content-security-policy"]
        assert "style-src 'self';" in policy
        assert "unsafe-inline" not in policy
        [stylesheet] = root.xpath("//link[@rel='stylesheet']/@href")
        css = stack.request("GET", str(stylesheet), key=None)
        assert (css.status, css.content_type) == (200, "text/css")
        assert b"prefers-color-scheme: dark" in css.body

        # An unknown path gets the site's 404 page, with the status 404
        missing = stack.request("GET", f"{site}releases/no-such-release.html", key=None)
        assert (missing.status, missing.content_type) == (404, "text/html")
        assert "Harbour Gazette" in lxml.html.document_fromstring(missing.body).text_content()

        # robots.txt names the sitemaps, which are there
        robots = urllib.robotparser.RobotFileParser()
        robots.parse(stack.request("GET", f"{site}robots.txt", key=None).body.decode().splitlines())
        assert robots.site_maps() == [f"{site}sitemap.xml", f"{site}news-sitemap.xml"]
        for url in robots.site_maps() or []:
            assert stack.request("GET", url, key=None).status == 200, url
    finally:
        assert stop_stack(stack) == 0, stack.log.read_text()


def test_a_bad_site_setting_is_a_usage_error_before_anything_starts(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 - our own CLI
        [*cli_command(), "local", "--memory", "--site-time-zone", "Mars/Olympus_Mons"],
        cwd=tmp_path,
        env=stack_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--site-time-zone" in done.stderr
    assert "IANA time zone" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
