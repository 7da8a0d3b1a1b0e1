"""The publication service: from an approved release (or correction) to pages, ninjs and the
site's shared pages.

One message of the publish queue (``functions.domain.messages.PublishMessage``) is handled at a
time, idempotently (SQS delivers at least once):

- ``publish`` of a release whose ``release_at`` is still ahead, even by a second, publishes
  nothing: it re-arms itself for the remainder (status ``scheduled``). Within the last
  ``MAX_DELAY`` (SQS's longest message delay, 15 minutes) the same message goes back on the
  publish queue delayed by the remainder rounded up to the second; further ahead a one-time
  schedule puts it back at ``release_at``. A schedule fires within its minute, possibly before
  the second it names: that delivery re-arms itself the same way.
- ``publish`` when due first renders everything the publication needs (ninjs document, page,
  catalog entry, that entry as RSS and Atom items). A release that cannot be rendered fails
  alone (``Unpublishable``: the caller dead-letters it with the reason) before anything shared
  changes, so it never enters a catalog. Then it writes the ninjs document and the page, asks
  for the shared objects to be refreshed with the entry (``SiteRefresh``: catalogs, index,
  category, organisation and archive pages, feeds, sitemaps; ``functions.domain.publish.shared``),
  and only then marks the release ``published``. A crash anywhere in between is repaired by the
  redelivery: every step can run twice, and a delivery after publication changes nothing.
- A batch of messages (``prepare`` each, then ``refresh`` once with every change, then each
  ``Pending.finish``) asks for one refresh for all of them: the shared objects are rewritten
  once per batch, never per release. ``handle`` is the same for one message.
- ``publish`` of an approved correction (``correction_approved``) does the same with the new
  version: the page with a "Corrected on ..." notice and its note (and every earlier
  correction's), ninjs ``version`` n+1 with its ``versionCreated``, the entry replaced where it
  is listed (feeds' Atom ``updated``, sitemaps' ``lastmod``), then ``published`` again with the
  new version public. Until then version n stays on the site.
- ``kill`` of a published release replaces its page with a notice (withdrawn by the newsroom,
  when, and the reason's wording), marks its ninjs ``canceled`` with a new ``version``, removes
  it from everything shared and marks it ``killed``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Unpack
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.domain.messages import PublishAction, PublishMessage
from functions.domain.ports import (
    Catalogs,
    ConditionFailed,
    PublishQueue,
    ReleaseStore,
    Schedules,
    SiteMedia,
    SiteWriter,
    StateRepository,
    TransitionChanges,
)
from functions.domain.publish.model import CatalogEntry, PublishedRelease, entry_for, media_site_prefix
from functions.domain.publish.shared import ApplyNow, EntryChange, SharedSite, SiteRefresh
from functions.domain.records import Correction, ReleaseRecord, schedule_name
from functions.domain.site import Site
from functions.domain.states import Action, action_for, already, can, is_public

log = logging.getLogger(__name__)

# The longest delay SQS gives a message (DelaySeconds): closer than this to release_at, an early
# delivery re-arms itself on the publish queue; further ahead, with a one-time schedule.
MAX_DELAY = timedelta(seconds=900)
HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"


class Outcome(StrEnum):
    PUBLISHED = "published"
    CORRECTED = "corrected"  # a correction is public
    ALREADY_PUBLISHED = "already_published"
    DELAYED = "delayed"  # early: back on the publish queue, delayed by the remainder
    SCHEDULED = "scheduled"  # early: a one-time schedule delivers it at release_at
    STALE = "stale"  # a message for an older version
    NOT_PUBLISHABLE = "not_publishable"  # its status does not allow it (withdrawn, rejected...)
    CHANGED = "changed"  # the release changed while this message was handled
    KILLED = "killed"
    ALREADY_KILLED = "already_killed"
    NOT_KILLABLE = "not_killable"
    DEAD_LETTERED = "dead_lettered"  # Unpublishable: the publisher function dead-lettered it
    DUPLICATE = "duplicate"  # the same message again in one batch: handled once, by the first


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    detail: str = ""
    lag_seconds: float | None = None  # a publication: publication_lag(), the PublicationLag metric


def publication_lag(record: ReleaseRecord, published_at: datetime) -> float | None:
    """Seconds from when a release could first be published (its ``release_at``, else its
    approval) to ``published_at``; None when neither is known."""
    decided = (record.decision or {}).get("decided_at")
    since = record.release_at or (datetime.fromisoformat(decided) if isinstance(decided, str) else None)
    return None if since is None else max(0.0, (published_at - since).total_seconds())


class FailureReason(StrEnum):
    """Why a message can never succeed: the publisher dead-letters it at once, with this."""

    RENDER_FAILED = "render_failed"


class Unpublishable(Exception):
    """A release that cannot be published however often it is tried; nothing shared changed."""

    def __init__(self, release_id: str, version: int, reason: FailureReason, detail: str) -> None:
        super().__init__(f"release {release_id} v{version}: {reason.value}: {detail}")
        self.release_id = release_id
        self.version = version
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class _Rendered:
    """Everything a publication writes, rendered before anything is written."""

    ninjs: bytes
    page: bytes
    entry: CatalogEntry
    page_url: str
    release: PublishedRelease


@dataclass
class Pending:
    """A message handled up to what its batch does together: ``changes`` for the shared objects
    (requested once for the whole batch), then ``finish`` (the state transition), only after
    that request was accepted, so that a release marked published is never missing from them."""

    changes: list[EntryChange]
    finish: Callable[[], Handled]

    @classmethod
    def done(cls, handled: Handled) -> Pending:
        return cls([], lambda: handled)


class UnknownRelease(Exception):
    """A message for a release that does not exist: left to fail into the dead-letter queue."""


def schedule_zone(release_at: datetime, content: dict[str, Any]) -> str:
    """The IANA zone a release's schedule is written in: the event's own zone when it agrees
    with release_at's offset, else a fixed-offset zone for whole hours, else UTC."""
    offset = release_at.utcoffset() or timedelta(0)
    zone_name = (
        ((content.get("details") or {}).get("timezone")) if content.get("category") == "event" else None
    )
    if zone_name:
        try:
            if release_at.astimezone(ZoneInfo(zone_name)).utcoffset() == offset:
                return str(zone_name)
        except ZoneInfoNotFoundError:
            pass
    hours, remainder = divmod(int(offset.total_seconds()), 3600)
    if remainder == 0 and hours != 0:
        return f"Etc/GMT{-hours:+d}"  # POSIX sign: Etc/GMT+5 is UTC-05:00
    return "UTC"


class PublicationService:
    def __init__(
        self,
        *,
        states: StateRepository,
        store: ReleaseStore,
        site: SiteWriter,
        catalogs: Catalogs,
        schedules: Schedules,
        queue: PublishQueue,
        clock: Callable[[], datetime],
        identity: Site,
        feed_size: int = 50,
        media: SiteMedia | None = None,
        refresh: SiteRefresh | None = None,
    ) -> None:
        self._states = states
        self._store = store
        self._site = site
        self._schedules = schedules
        self._queue = queue
        self._clock = clock
        self._identity = identity
        self._stylesheet_ready = False
        self._media = media  # the attachments' renditions (none without it)
        self.shared = SharedSite(
            catalogs=catalogs, writer=site, site=identity, clock=clock, feed_size=feed_size
        )
        # Where the shared objects' changes go: the site-refresh queue in the publisher; without
        # one, this process applies them at once.
        self._refresh = refresh or ApplyNow(self.shared)
        self._known: dict[str, ReleaseRecord] = {}  # state items read ahead for a batch (prefetch)

    @property
    def _site_url(self) -> str:
        return self._identity.url

    # -- entry point ------------------------------------------------------------------------------

    def handle(self, message: PublishMessage) -> Handled:
        """Handle one message. Raises ``Unpublishable`` for a release that can never be published,
        ``UnknownRelease`` for an unknown one, and whatever AWS raises (retried by redelivery)."""
        pending = self.prepare(message)
        self.refresh(pending.changes)
        return pending.finish()

    def prefetch(self, release_ids: Sequence[str]) -> None:
        """Read the state items of a batch's releases at once (one read for all of them); each
        is used once, by the first ``prepare`` of its release."""
        self._known = dict(self._states.get_many(release_ids)) if release_ids else {}

    def prepare(self, message: PublishMessage) -> Pending:
        """Everything of one message but the shared objects and the state transition (raises as
        ``handle``)."""
        record = self._known.pop(message.release_id, None) or self._states.get(message.release_id)
        if record is None:
            raise UnknownRelease(message.release_id)
        if message.action is PublishAction.KILL:
            return self._kill(record, message.reason)
        return self._publish(record, message.version)

    def refresh(self, changes: Sequence[EntryChange]) -> None:
        """Ask for the shared objects to take ``changes`` (one request: a batch's)."""
        if changes:
            self._refresh.request(changes)

    # -- publish ------------------------------------------------------------------------------------

    def _publish(self, record: ReleaseRecord, version: int) -> Pending:
        if version != record.version:
            return Pending.done(Handled(Outcome.STALE, f"version {version}, current {record.version}"))
        if is_public(record.status) and record.public_version == version:
            return Pending.done(Handled(Outcome.ALREADY_PUBLISHED))
        action = action_for(Action.PUBLISH, record.status)  # a release's first, or a correction
        if not can(action, record.status):
            return Pending.done(Handled(Outcome.NOT_PUBLISHABLE, f"the release is {record.status}"))
        now = self._clock()
        if record.release_at is not None and now < record.release_at:
            return Pending.done(self._rearm(record, record.release_at, now))
        document = self._store.get_document(record.object_key)
        correcting = action is Action.PUBLISH_CORRECTION
        correction = None
        if correcting:
            note = str((document.get("correction") or {}).get("note") or record.correction_note or "")
            correction = Correction(version=version, note=note, published_at=now)
        corrections = [*record.corrections, *([correction] if correction else [])]
        first_published = (record.published_at or now) if correcting else now
        rendered = self._render(record, document, published_at=first_published, corrections=corrections)
        rid = record.release_id
        self._ensure_stylesheet()
        published_keys = self._publish_media(rendered.release)  # before the page that shows them
        self._site.put(f"releases/{rid}.json", rendered.ninjs, JSON)
        self._site.put(f"releases/{rid}.html", rendered.page, HTML)
        if correcting:
            # What an earlier version showed and this one no longer does. A first publication
            # has nothing of its own on the site yet: nothing to look for.
            self._remove_media(rid, keep=published_keys)
        entry = rendered.entry
        change = EntryChange.corrected(entry) if correcting else EntryChange.published(entry)
        changes: TransitionChanges = {"public_version": version}
        if correction is not None:
            changes["correction"] = correction
        else:
            changes["published_at"] = now
            changes["public_url"] = rendered.page_url

        def finish() -> Handled:
            try:
                self._move(record, action, now, **changes)
            except ConditionFailed:
                latest = self._states.get(rid)
                if latest is None or not (is_public(latest.status) and latest.public_version == version):
                    # Withdrawn or killed at the last moment: take it down rather than leave it public.
                    log.warning("release %s changed while publishing; taking it down", rid)
                    killed = latest is not None and already(Action.KILL, latest.status)
                    self.refresh([self._take_down(latest or record, now, by_newsroom=killed)])
                    return Handled(Outcome.CHANGED, f"the release is {latest.status if latest else 'gone'}")
            return Handled(
                Outcome.CORRECTED if correcting else Outcome.PUBLISHED,
                lag_seconds=None if correcting else publication_lag(record, now),
            )

        return Pending([change], finish)

    def _ensure_stylesheet(self) -> None:
        """The stylesheet the pages name is on the site (once per process: its name carries its
        digest, so a deploy that changes it gets a new file before the first page names it)."""
        if self._stylesheet_ready:
            return
        from functions.domain.publish.setup import stylesheet

        item = stylesheet()
        self._site.put_if_newer(item.key, item.body, item.content_type, seq=0, max_age=item.max_age)
        self._stylesheet_ready = True

    def _render(
        self,
        record: ReleaseRecord,
        document: dict[str, Any],
        *,
        published_at: datetime,
        corrections: list[Correction],
    ) -> _Rendered:
        """Every byte the publication writes, or ``Unpublishable``: rendering is pure, so what
        fails here fails the same way every time and is not worth a retry."""
        from functions.domain.publish.ninjs import to_ninjs
        from functions.domain.publish.site import check_feed_item, render_page

        try:
            release = PublishedRelease.from_document(
                document,
                first_created=record.created_at,
                published_at=published_at,
                site_url=self._site_url,
                corrections=corrections,
            )
            entry = entry_for(release)
            check_feed_item(entry, site=self._identity)
            return _Rendered(
                ninjs=_json_bytes(to_ninjs(release, self._identity)),
                page=render_page(release, self._identity).encode(),
                entry=entry,
                page_url=release.page_url,
                release=release,
            )
        except MemoryError:
            raise
        except Exception as error:  # anything a pure renderer raises is permanent
            detail = f"{type(error).__name__}: {error}"
            raise Unpublishable(
                record.release_id, record.version, FailureReason.RENDER_FAILED, detail
            ) from error

    def _rearm(self, record: ReleaseRecord, release_at: datetime, now: datetime) -> Handled:
        """Early: deliver the same message again at ``release_at``, publishing nothing now."""
        remainder = release_at - now
        message = PublishMessage(release_id=record.release_id, version=record.version)
        if remainder <= MAX_DELAY:
            delay = max(1, math.ceil(remainder.total_seconds()))
            self._queue.send(message, delay_seconds=delay)
            handled = Handled(Outcome.DELAYED, f"due in {delay} s, at {release_at.isoformat()}")
        else:
            document = self._store.get_document(record.object_key)
            zone = schedule_zone(release_at, document.get("content") or {})
            self._schedules.ensure(
                schedule_name(record.release_id, record.version), at=release_at, zone=zone, message=message
            )
            handled = Handled(Outcome.SCHEDULED, f"for {release_at.isoformat()} ({zone})")
        if can(Action.SCHEDULE, record.status):
            try:
                self._move(record, Action.SCHEDULE, now)
            except ConditionFailed:
                return Handled(Outcome.CHANGED, "not scheduled: the release changed meanwhile")
        return handled

    # -- kill ---------------------------------------------------------------------------------------

    def _kill(self, record: ReleaseRecord, reason: str | None) -> Pending:
        killed = already(Action.KILL, record.status)
        if not (killed or can(Action.KILL, record.status)):
            return Pending.done(Handled(Outcome.NOT_KILLABLE, f"the release is {record.status}"))
        # The decision the state item carries (a kill recorded by the moderators), else this one.
        decision = record.decision if (record.decision or {}).get("action") == Action.KILL.value else None
        now = self._clock()
        if decision is None:
            decision = {
                "action": Action.KILL.value,
                "reason_codes": [reason] if reason else [],
                "decided_at": now.isoformat(),
                "version": record.version,
            }
        killed_at = _decided_at(decision, now)
        removal = self._take_down(record, killed_at, reason_codes=list(decision.get("reason_codes") or []))

        def finish() -> Handled:
            if killed:  # again for a killed one: a redelivery repairs a crash
                return Handled(Outcome.ALREADY_KILLED)
            try:
                self._move(record, Action.KILL, now, decision=decision)
            except ConditionFailed:
                return Handled(Outcome.ALREADY_KILLED)
            return Handled(Outcome.KILLED)

        return Pending([removal], finish)

    def _move(
        self, record: ReleaseRecord, action: Action, now: datetime, **changes: Unpack[TransitionChanges]
    ) -> None:
        """One conditional transition of ``record`` (raises ``ConditionFailed`` if it moved on)."""
        self._states.transition(
            record.release_id,
            action,
            org_id=record.org_id,
            expected_version=record.version,
            actor="publisher",
            now=now,
            current=record,
            **changes,
        )

    def _take_down(
        self,
        record: ReleaseRecord,
        killed_at: datetime,
        *,
        reason_codes: list[str] | None = None,
        by_newsroom: bool = True,
    ) -> EntryChange:
        """The release's page becomes a notice, its ninjs ``canceled`` (a version after every
        version the release had); returned, the change that takes it out of everything shared.
        What is public is the public version (a pending correction never was)."""
        from functions.domain.moderation import REASON_CODES
        from functions.domain.publish.ninjs import to_ninjs
        from functions.domain.publish.site import render_killed_page

        rid = record.release_id
        public = record.public_version or record.version
        key = (
            record.object_key
            if public == record.version
            else self._store.version_key(org_id=record.org_id, release_id=rid, version=public)
        )
        document = self._store.get_document(key)
        release = PublishedRelease.from_document(
            document,
            first_created=record.created_at,
            published_at=record.published_at or killed_at,
            site_url=self._site_url,
            corrections=record.corrections,
        )
        reason = " ".join(REASON_CODES.get(code, code) for code in reason_codes or []) or None
        canceled = replace(release, canceled=True, version_created=killed_at, version=record.version + 1)
        self._site.put(
            f"releases/{rid}.json", _json_bytes(to_ninjs(canceled, self._identity, reason=reason)), JSON
        )
        notice = render_killed_page(
            rid,
            release.headline,
            site=self._identity,
            killed_at=killed_at,
            reason=reason,
            language=release.language,
            by_newsroom=by_newsroom,
        )
        self._site.put(f"releases/{rid}.html", notice.encode(), HTML)
        self._remove_media(rid, keep=set())
        return EntryChange.removed(entry_for(release))

    # -- attachments --------------------------------------------------------------------------------

    def _publish_media(self, release: PublishedRelease) -> set[str]:
        """Copy every rendition the release shows to the site (only ever when it is published:
        nothing of a release is public before its time); the site keys written."""
        written: set[str] = set()
        if not release.attachments:
            return written
        if self._media is None:
            raise Unpublishable(
                release.release_id,
                release.version,
                FailureReason.RENDER_FAILED,
                "no media store is configured",
            )
        for attachment in release.attachments:
            for rendition in attachment.renditions:
                self._media.copy(rendition.source_key, rendition.site_key, rendition.content_type)
                written.add(rendition.site_key)
        return written

    def _remove_media(self, release_id: str, *, keep: set[str]) -> None:
        if self._media is None:
            return
        stale = [key for key in self._media.keys(media_site_prefix(release_id)) if key not in keep]
        if stale:
            self._media.delete(stale)


def _decided_at(decision: dict[str, Any], default: datetime) -> datetime:
    try:
        value = datetime.fromisoformat(str(decision.get("decided_at")))
    except ValueError:
        return default
    return value if value.tzinfo is not None else default


def _json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()
