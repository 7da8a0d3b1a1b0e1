"""The publication service with in-memory fakes and an injected clock: an embargo holds to the
second, early deliveries re-arm themselves, and one release that cannot be rendered never
blocks the others."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import lxml.html
import pytest
from pydantic import TypeAdapter

from functions.domain.intake import IntakeService
from functions.domain.messages import PublishMessage
from functions.domain.models import ReleaseSubmission
from functions.domain.moderation import Decision, DecisionAction, ModerationService
from functions.domain.publish.service import (
    FailureReason,
    Outcome,
    PublicationService,
    Unpublishable,
)
from functions.domain.records import Caller
from functions.domain.site import Site
from tests.fakes import (
    Clock,
    MemoryCatalogs,
    MemoryPublishQueue,
    MemoryQueue,
    MemorySchedules,
    MemorySite,
    MemoryStates,
    MemoryStore,
)
from tests.helpers import personnel_release

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
SITE = "https://news.example.org/"
ACME = Caller(org_id="org-acme", org_name="Acme Corporation")


class Desk:
    """Submission, approval and publication over the same fakes; one clock for the publisher."""

    def __init__(self) -> None:
        self.states, self.store = MemoryStates(), MemoryStore()
        self.site, self.catalogs = MemorySite(), MemoryCatalogs()
        self.schedules, self.queue = MemorySchedules(), MemoryPublishQueue()
        self.clock = Clock(NOW)
        self.intake = IntakeService(
            store=self.store, states=self.states, queue=MemoryQueue(), clock=Clock(NOW)
        )
        self.moderation = ModerationService(
            states=self.states, publish=MemoryPublishQueue(), clock=Clock(NOW)
        )
        self.publisher = PublicationService(
            states=self.states,
            store=self.store,
            site=self.site,
            catalogs=self.catalogs,
            schedules=self.schedules,
            queue=self.queue,
            clock=self.clock,
            identity=Site(url=SITE),
        )

    def approved(self, release_id: str, *, caller: Caller = ACME, **overrides: Any) -> str:
        submission = TypeAdapter(ReleaseSubmission).validate_python(personnel_release(**overrides))
        self.intake.submit(caller, submission, release_id=release_id)
        self.moderation.decide(release_id, 1, Decision(DecisionAction.APPROVE, moderator="alice"))
        return release_id

    def deliver(self, release_id: str, at: datetime) -> Outcome:
        self.clock.now = at
        return self.publisher.handle(PublishMessage(release_id=release_id, version=1)).outcome

    def status(self, release_id: str) -> str:
        record = self.states.get(release_id)
        assert record is not None
        return record.status

    def public(self, release_id: str) -> bool:
        """Whether anything of the release is on the site (page, ninjs, index, feeds)."""
        pages = {f"releases/{release_id}.html", f"releases/{release_id}.json"}
        if pages & set(self.site.objects):
            return True
        shared = [body for key, (body, _, _) in self.site.objects.items() if key not in pages]
        return any(release_id.encode() in body for body in shared)

    def feed_links(self, name: str, kind: str) -> list[str]:
        parsed = feedparser.parse(self.site.body(f"feeds/{name}.{kind}") or b"")
        assert not parsed.bozo, parsed.get("bozo_exception")
        return [entry.link for entry in parsed.entries]


@pytest.fixture
def desk() -> Desk:
    return Desk()


def _page(release_id: str) -> str:
    return f"{SITE}releases/{release_id}.html"


# -- embargo to the second ----------------------------------------------------------------------------


def test_a_release_due_now_is_published_everywhere(desk: Desk) -> None:
    rid = desk.approved("rel-now", release_at=NOW.isoformat())

    assert desk.deliver(rid, NOW) is Outcome.PUBLISHED

    assert desk.status(rid) == "published"
    assert {f"releases/{rid}.html", f"releases/{rid}.json", "index.html"} <= set(desk.site.objects)
    for name in ("all", "personnel"):
        for kind in ("xml", "atom"):
            assert desk.feed_links(name, kind) == [_page(rid)]
    assert desk.queue.messages == []
    assert desk.schedules.schedules == {}


def test_a_release_due_in_ten_seconds_re_arms_itself_for_the_remainder(desk: Desk) -> None:
    rid = desk.approved("rel-10s", release_at=(NOW + timedelta(seconds=10)).isoformat())

    assert desk.deliver(rid, NOW) is Outcome.DELAYED

    # The same message goes back on the publish queue, invisible for exactly the remainder
    assert desk.queue.messages == [
        {"release_id": rid, "version": 1, "action": "publish", "delay_seconds": 10}
    ]
    assert desk.status(rid) == "scheduled"
    assert not desk.public(rid)
    assert desk.site.writes == []
    assert desk.catalogs.updates == 0
    assert desk.schedules.schedules == {}

    # And when it comes back, on time, it is published
    assert desk.deliver(rid, NOW + timedelta(seconds=10)) is Outcome.PUBLISHED
    assert desk.status(rid) == "published"


def test_a_remainder_with_a_fraction_of_a_second_is_rounded_up(desk: Desk) -> None:
    rid = desk.approved("rel-frac", release_at=(NOW + timedelta(seconds=10, milliseconds=200)).isoformat())

    desk.deliver(rid, NOW)

    assert desk.queue.messages[-1]["delay_seconds"] == 11


@pytest.mark.parametrize("early", [timedelta(seconds=1), timedelta(milliseconds=1)])
def test_nothing_is_public_the_moment_before_release_at(desk: Desk, early: timedelta) -> None:
    release_at = NOW + timedelta(minutes=3)
    rid = desk.approved("rel-edge", release_at=release_at.isoformat())

    assert desk.deliver(rid, release_at - early) is Outcome.DELAYED

    assert not desk.public(rid)
    assert desk.site.writes == []
    assert desk.status(rid) == "scheduled"
    assert desk.queue.messages[-1]["delay_seconds"] == 1
    assert desk.deliver(rid, release_at) is Outcome.PUBLISHED


def test_a_release_due_in_twenty_minutes_gets_a_one_time_schedule(desk: Desk) -> None:
    release_at = NOW + timedelta(minutes=20)
    rid = desk.approved("rel-20m", release_at=release_at.isoformat())

    assert desk.deliver(rid, NOW) is Outcome.SCHEDULED

    assert desk.schedules.schedules == {
        f"release-{rid}-v1": {
            "at": release_at,
            "zone": "UTC",
            "payload": {"release_id": rid, "version": 1, "action": "publish"},
        }
    }
    assert desk.queue.messages == []
    assert desk.status(rid) == "scheduled"
    assert not desk.public(rid)


def test_a_schedule_firing_forty_seconds_early_re_arms_for_the_remainder(desk: Desk) -> None:
    # Given a release scheduled 20 minutes ahead
    release_at = NOW + timedelta(minutes=20)
    rid = desk.approved("rel-early", release_at=release_at.isoformat())
    desk.deliver(rid, NOW)

    # When its schedule fires 40 s early (schedules fire within their minute)
    assert desk.deliver(rid, release_at - timedelta(seconds=40)) is Outcome.DELAYED

    # Then nothing is public, and the message comes back in 40 s
    assert desk.queue.messages == [
        {"release_id": rid, "version": 1, "action": "publish", "delay_seconds": 40}
    ]
    assert not desk.public(rid)
    assert desk.status(rid) == "scheduled"
    # The release became scheduled once: approved -> scheduled is one transition
    assert [h["action"] for h in desk.states.history[rid]].count("schedule") == 1

    assert desk.deliver(rid, release_at) is Outcome.PUBLISHED
    assert desk.feed_links("all", "xml") == [_page(rid)]


def test_a_duplicate_delivery_after_publication_changes_nothing(desk: Desk) -> None:
    rid = desk.approved("rel-dup")
    desk.deliver(rid, NOW)
    writes, updates = list(desk.site.writes), desk.catalogs.updates

    assert desk.deliver(rid, NOW + timedelta(minutes=1)) is Outcome.ALREADY_PUBLISHED
    assert desk.deliver(rid, NOW + timedelta(days=1)) is Outcome.ALREADY_PUBLISHED

    assert desk.site.writes == writes
    assert desk.catalogs.updates == updates
    assert desk.queue.messages == []
    assert desk.status(rid) == "published"


def test_a_withdrawn_release_whose_delayed_message_arrives_stays_unpublished(desk: Desk) -> None:
    rid = desk.approved("rel-gone", release_at=(NOW + timedelta(seconds=30)).isoformat())
    desk.deliver(rid, NOW)
    desk.intake.withdraw(ACME, rid)

    assert desk.deliver(rid, NOW + timedelta(seconds=30)) is Outcome.NOT_PUBLISHABLE
    assert not desk.public(rid)


# -- one release never blocks the others ------------------------------------------------------------


def test_a_release_that_cannot_be_rendered_fails_alone_before_anything_shared_changes(desk: Desk) -> None:
    # Given a release whose organisation name holds a character no feed can carry (names come
    # from the key records, not from the submission)
    bad = desk.approved("rel-bad", caller=Caller(org_id="org-odd", org_name="Odd\x0bOrg"))

    # When it is delivered, it fails with a reason and nothing at all is written
    with pytest.raises(Unpublishable) as failed:
        desk.deliver(bad, NOW)
    assert failed.value.reason is FailureReason.RENDER_FAILED
    assert "U+000B" in failed.value.detail
    assert desk.site.writes == []
    assert desk.catalogs.catalogs == {}
    assert desk.status(bad) == "approved"

    # And the next release of anyone is published as usual
    good = desk.approved("rel-good")
    assert desk.deliver(good, NOW) is Outcome.PUBLISHED
    for name in ("all", "personnel"):
        assert desk.feed_links(name, "xml") == [_page(good)]
        assert desk.feed_links(name, "atom") == [_page(good)]
    assert [entry.release_id for entry in desk.catalogs.get("all")[0]] == [good]


def test_an_unrenderable_catalog_entry_is_skipped_and_the_site_still_updates(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    # Given catalogs holding entries written before intake refused such characters, and one
    # that is not an entry at all
    stale = {
        "release_id": "rel-stale",
        "headline": "Vertical\x0btab",
        "dateline": None,
        "opening": "Stale.",
        "category": "personnel",
        "language": "en",
        "published_at": (NOW - timedelta(days=1)).isoformat(),
        "url": _page("rel-stale"),
        "org_name": "Acme",
    }
    broken = {"release_id": "rel-broken", "headline": "No date"}
    for name in ("all", "personnel"):
        desk.catalogs.catalogs[name] = ([stale, broken], 7)

    # When a new release is published
    rid = desk.approved("rel-new")
    with caplog.at_level(logging.ERROR):
        assert desk.deliver(rid, NOW) is Outcome.PUBLISHED

    # Then the feeds and the index carry it, well formed, without the bad entries
    for name in ("all", "personnel"):
        for kind in ("xml", "atom"):
            assert desk.feed_links(name, kind) == [_page(rid)]
    index = lxml.html.fromstring(desk.site.body("index.html") or b"")
    links = [a.get("href") for a in index.iter("a")]
    assert _page(rid) in links
    assert _page("rel-stale") not in links
    # And the skipped entries were logged by release id
    skipped = " ".join(r.getMessage() for r in caplog.records)
    assert "rel-stale" in skipped
    assert "rel-broken" in skipped


# -- publication lag (the PublicationLag metric) -------------------------------------------------------


def test_the_publication_lag_counts_from_release_at(desk: Desk) -> None:
    # Given a release embargoed until NOW + 60 s, delivered 2.5 s after that
    rid = desk.approved("rel-lag", release_at=(NOW + timedelta(seconds=60)).isoformat())
    desk.clock.now = NOW + timedelta(seconds=62.5)
    handled = desk.publisher.handle(PublishMessage(release_id=rid, version=1))
    # Then the lag is measured from release_at, not from approval
    assert handled.outcome is Outcome.PUBLISHED
    assert handled.lag_seconds == 2.5


def test_the_publication_lag_counts_from_approval_without_release_at(desk: Desk) -> None:
    rid = desk.approved("rel-lag-now")  # approved at NOW, no release_at
    desk.clock.now = NOW + timedelta(seconds=4)
    handled = desk.publisher.handle(PublishMessage(release_id=rid, version=1))
    assert handled.outcome is Outcome.PUBLISHED
    assert handled.lag_seconds == 4.0
    # And what is not a publication carries no lag
    again = desk.publisher.handle(PublishMessage(release_id=rid, version=1))
    assert again.outcome is Outcome.ALREADY_PUBLISHED
    assert again.lag_seconds is None
