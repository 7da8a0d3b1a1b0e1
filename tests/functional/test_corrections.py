"""Corrections and kills end to end on moto: the API (PUT with a correction_note), the
moderators' decision, the publisher, and what readers, feed readers, crawlers and newsroom
systems then get. Version n stays public while version n+1 is reviewed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import lxml.etree
import lxml.html
import pytest

from functions.adapters.sqs_publish import SqsPublishQueue
from functions.domain.messages import PublishAction, PublishMessage
from functions.domain.moderation import Decision, DecisionAction
from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions
from tests.functional.test_publisher import World
from tests.helpers import ApiClient, personnel_release
from tests.site_checks import json_ld

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
CORRECTED_HEADLINE = "Acme names Jane Doe chief financial officer from February"


@pytest.fixture
def world(
    stack: LocalStack, functions_env: LocalFunctions, api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> World:
    """The API, the moderators and the publisher of one stack, as in test_publisher."""
    return World.with_functions_env(stack, functions_env, api, monkeypatch)


def _published(world: World, monkeypatch: pytest.MonkeyPatch, at: datetime) -> str:
    world.publisher_at(monkeypatch, at)
    release_id = world.submit_and_approve()
    assert world.drain() == {"batchItemFailures": []}
    return release_id


def _correct(world: World, release_id: str, **overrides: Any) -> Any:
    body = personnel_release(
        headline=CORRECTED_HEADLINE,
        correction_note="Corrects the start date: February, not January.",
        **overrides,
    )
    return world.api.put(f"/releases/{release_id}", body, headers={"If-Match": '"1"'})


def _page(world: World, release_id: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(world.site(f"releases/{release_id}.html") or b"")


def _ninjs(world: World, release_id: str) -> dict[str, Any]:
    return dict(json.loads(world.site(f"releases/{release_id}.json") or b"{}"))


def test_an_approved_correction_republishes_everything_with_its_notice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a release published on 2 March
    published_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    release_id = _published(world, monkeypatch, published_at)

    # When its organisation corrects it
    answer = _correct(world, release_id)
    assert answer.status == 200, answer.body
    assert (answer.json()["status"], answer.json()["version"]) == ("correction_review", 2)

    # Then version 1 stays public while version 2 is reviewed, and the status view shows both
    view = world.api.get(f"/releases/{release_id}").json()
    assert (view["status"], view["version"], view["public_version"]) == ("correction_review", 2, 1)
    assert view["pending_correction"] == {
        "version": 2,
        "note": "Corrects the start date: February, not January.",
    }
    assert _page(world, release_id).findtext(".//h1") == "Acme names Jane Doe chief financial officer"
    assert _ninjs(world, release_id)["version"] == "1"

    # When a moderator approves it and the publisher publishes it
    corrected_at = published_at + timedelta(hours=2)
    result = world.moderation.decide(release_id, 2, Decision(DecisionAction.APPROVE, moderator="maria"))
    assert result.outcome.value == "decided"
    world.publisher_at(monkeypatch, corrected_at)
    assert world.drain() == {"batchItemFailures": []}

    # Then the page is the corrected text with a visible notice and the note
    page = _page(world, release_id)
    assert page.findtext(".//h1") == CORRECTED_HEADLINE
    notice = " ".join(page.xpath("//aside[@class='corrections']")[0].text_content().split())
    assert "Corrected on" in notice
    assert "Corrects the start date: February, not January." in notice
    [article] = json_ld(world.site(f"releases/{release_id}.html") or b"")
    assert article["dateModified"] == corrected_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert article["datePublished"] == published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    # ninjs: version 2, created when it became public
    ninjs = _ninjs(world, release_id)
    assert ninjs["version"] == "2"
    assert datetime.fromisoformat(ninjs["versionCreated"]) == corrected_at
    assert ninjs["headlines"][0]["value"] == CORRECTED_HEADLINE
    # feeds: one entry, its Atom updated the correction's time, its title the corrected one
    atom = world.feed("all", "atom")
    [entry] = atom.entries
    assert entry.title == CORRECTED_HEADLINE
    assert datetime(*entry.updated_parsed[:6], tzinfo=UTC) == corrected_at
    assert datetime(*entry.published_parsed[:6], tzinfo=UTC) == published_at
    # the sitemap's lastmod
    day = published_at.date().isoformat()
    sitemap = lxml.etree.fromstring(world.site(f"sitemap-{day}.xml") or b"")
    assert sitemap.findtext(f"{SM}url/{SM}lastmod") == corrected_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    # and the status view: published again, version 2 public, the correction listed
    view = world.api.get(f"/releases/{release_id}").json()
    assert (view["status"], view["version"], view["public_version"]) == ("published", 2, 2)
    assert view["pending_correction"] is None
    assert [(c["version"], c["note"]) for c in view["corrections"]] == [
        (2, "Corrects the start date: February, not January.")
    ]
    assert datetime.fromisoformat(view["published_at"]) == published_at  # first published


def test_a_rejected_correction_leaves_version_one_public_and_says_why(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    release_id = _published(world, monkeypatch, datetime.now(UTC))
    before = {key: world.site_object(key)["ETag"] for key in world.site_keys()}
    assert _correct(world, release_id).status == 200

    rejected = Decision(
        DecisionAction.REJECT, moderator="maria", reason_codes=("unverifiable",), note="Cite it."
    )
    assert world.moderation.decide(release_id, 2, rejected).outcome.value == "decided"
    assert world.publish_queue() == []  # nothing for the publisher to do

    # Nothing on the site changed
    assert {key: world.site_object(key)["ETag"] for key in world.site_keys()} == before
    view = world.api.get(f"/releases/{release_id}").json()
    assert (view["status"], view["version"], view["public_version"]) == ("published", 2, 1)
    assert view["pending_correction"] is None
    assert view["decision"]["action"] == "reject"
    assert view["decision"]["version"] == 2
    assert view["decision"]["reason_codes"] == ["unverifiable"]
    assert view["decision"]["note"] == "Cite it."
    assert "moderator" not in view["decision"]
    # And it can be corrected again (version 3: versions are never reused)
    again = world.api.put(
        f"/releases/{release_id}", personnel_release(correction_note="With a source this time.")
    )
    assert (again.status, again.json()["version"]) == (200, 3)


def test_a_correction_asked_for_changes_goes_back_to_its_submitter(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    release_id = _published(world, monkeypatch, datetime.now(UTC))
    assert _correct(world, release_id).status == 200
    changes = Decision(DecisionAction.REQUEST_CHANGES, moderator="maria", note="Say which date changed.")
    assert world.moderation.decide(release_id, 2, changes).outcome.value == "decided"
    assert world.api.get(f"/releases/{release_id}").json()["status"] == "correction_changes_requested"
    revised = world.api.put(
        f"/releases/{release_id}",
        personnel_release(correction_note="Corrects the effective date (1 February 2027)."),
        headers={"If-Match": '"2"'},
    )
    assert (revised.status, revised.json()["status"], revised.json()["version"]) == (
        200,
        "correction_review",
        3,
    )


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"correction_note": None}, "correction_note", "missing"),
        ({"category": "community", "details": {}}, "category", "immutable"),
    ],
)
def test_a_correction_that_breaks_the_rules_is_refused_and_changes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch, overrides: dict[str, Any], field: str, code: str
) -> None:
    release_id = _published(world, monkeypatch, datetime.now(UTC))
    body = {**personnel_release(correction_note="A note."), **overrides}
    body = {key: value for key, value in body.items() if value is not None}

    answer = world.api.put(f"/releases/{release_id}", body)

    assert answer.status == 422, answer.body
    assert (field, code) in {(e["field"], e["code"]) for e in answer.json()["errors"]}
    assert world.api.get(f"/releases/{release_id}").json()["version"] == 1


def test_a_kill_is_a_new_ninjs_version_and_the_notice_names_the_newsroom(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a published release with a correction under review
    release_id = _published(world, monkeypatch, datetime.now(UTC))
    assert _correct(world, release_id).status == 200

    # When the newsroom kills it
    killed_at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    world.publisher_at(monkeypatch, killed_at)
    SqsPublishQueue(world.sqs, world.stack.ref("PublishQueue")).send(
        PublishMessage(release_id=release_id, version=2, action=PublishAction.KILL, reason="inappropriate")
    )
    assert world.drain() == {"batchItemFailures": []}

    # Then receivers keyed on uri + version see a new version: canceled
    ninjs = _ninjs(world, release_id)
    assert (ninjs["pubStatus"], ninjs["version"]) == ("canceled", "3")
    # The page says who withdrew it (the newsroom, not a moderator), when and why
    notice = " ".join(_page(world, release_id).xpath("//p[@class='notice']")[0].text_content().split())
    assert notice.startswith("Withdrawn by the Newsroom on ")  # the site's default name
    assert notice.endswith(": Offensive, unlawful or unsafe content.")
    assert "maria" not in notice
    assert "moderator" not in notice
    # The headline withdrawn is the public version's, never the correction that was never public
    assert CORRECTED_HEADLINE not in (world.site(f"releases/{release_id}.html") or b"").decode()
    assert world.api.get(f"/releases/{release_id}").json()["status"] == "killed"
    # A redelivered kill renders the same notice
    page = world.site(f"releases/{release_id}.html")
    SqsPublishQueue(world.sqs, world.stack.ref("PublishQueue")).send(
        PublishMessage(release_id=release_id, version=2, action=PublishAction.KILL, reason="inappropriate")
    )
    world.publisher_at(monkeypatch, killed_at + timedelta(hours=1))
    assert world.drain() == {"batchItemFailures": []}
    assert world.site(f"releases/{release_id}.html") == page
    assert _ninjs(world, release_id)["version"] == "3"


def test_a_correction_keeps_the_embargo_of_its_release(world: World) -> None:
    # A correction can only come after publication, and cannot move the release's time: nothing
    # of a corrected release can be public before its release_at
    release_id = world.submit_and_approve(release_at=(datetime.now(UTC) + timedelta(days=2)).isoformat())
    world.drain()
    assert world.api.get(f"/releases/{release_id}").json()["status"] == "scheduled"

    answer = world.api.put(f"/releases/{release_id}", personnel_release(correction_note="Too early."))

    assert answer.status == 409
    assert "corrected only while it is" in answer.json()["detail"]
    assert world.site(f"releases/{release_id}.html") is None


def test_an_organisations_correction_of_another_organisations_release_is_404(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    release_id = _published(world, monkeypatch, datetime.now(UTC))
    other = world.api.as_org("org-other")
    answer = other.put(f"/releases/{release_id}", personnel_release(correction_note="Not ours."))
    assert answer.status == 404
    assert world.api.get(f"/releases/{release_id}").json()["version"] == 1


def test_the_moderation_console_shows_a_correction_and_its_note(
    world: World, monkeypatch: pytest.MonkeyPatch, local_info: Any
) -> None:
    from rich.console import Console
    from typer.testing import CliRunner

    from cli.main import app
    from cli.moderate import open_session, render

    release_id = _published(world, monkeypatch, datetime.now(UTC))
    assert _correct(world, release_id).status == 200

    # The console shows the moderator that this is a correction of the public version, with its note
    session = open_session(None, "maria", hold=30)
    item = session.desk.next_item(wait=0)
    assert item is not None
    assert (item.release_id, item.version) == (release_id, 2)
    screen = Console(record=True, width=120)
    screen.print(render(item))
    shown = screen.export_text()
    assert "2 (correction of published version 1)" in shown
    assert "Corrects the start date: February, not January." in shown
    session.close()  # hands the item back at once, as quitting the console does

    decided = CliRunner().invoke(
        app, ["moderate", "--once", "--decision", "approve", "--json", "--wait", "0"]
    )
    assert decided.exit_code == 0, decided.output
    [line] = [json.loads(line) for line in decided.stdout.splitlines() if line.startswith("{")]
    assert (line["release_id"], line["version"], line["status"]) == (release_id, 2, "correction_approved")
    assert world.drain() == {"batchItemFailures": []}
    assert world.api.get(f"/releases/{release_id}").json()["public_version"] == 2
