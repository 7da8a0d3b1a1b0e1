"""The publication service: from an approved release to pages, ninjs, the newsroom index and feeds.

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
  changes, so it never enters a catalog. Then it writes the ninjs document and the page, adds
  the entry to its category's and the site's catalogs (bounded, conditional writes),
  re-renders the feeds and the index from them, and only then marks the release ``published``.
  A crash anywhere in between is repaired by the redelivery: every step can run twice, and a
  delivery after publication changes nothing.
- ``kill`` of a published release replaces its page with a notice, marks its ninjs
  ``canceled``, removes it from the catalogs (so from the index and feeds) and marks it
  ``killed``.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Unpack
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.domain.messages import PublishAction, PublishMessage
from functions.domain.models import CATEGORIES
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
from functions.domain.publish.model import (
    CatalogEntry,
    PublishedRelease,
    entry_for,
    insert,
    media_site_prefix,
    remove,
)
from functions.domain.records import ReleaseRecord, schedule_name
from functions.domain.states import Action, already, can

log = logging.getLogger(__name__)

ALL = "all"
INDEX_LATEST = 20
INDEX_PER_CATEGORY = 10
# The longest delay SQS gives a message (DelaySeconds): closer than this to release_at, an early
# delivery re-arms itself on the publish queue; further ahead, with a one-time schedule.
MAX_DELAY = timedelta(seconds=900)
HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"

Entries = list[CatalogEntry]


class Outcome(StrEnum):
    PUBLISHED = "published"
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


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    detail: str = ""


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
        site_url: str,
        feed_size: int = 50,
        media: SiteMedia | None = None,
    ) -> None:
        self._states = states
        self._store = store
        self._site = site
        self._catalogs = catalogs
        self._schedules = schedules
        self._queue = queue
        self._clock = clock
        self._site_url = site_url
        self._feed_size = feed_size
        self._media = media  # the attachments' renditions (none without it)

    # -- entry point ------------------------------------------------------------------------------

    def handle(self, message: PublishMessage) -> Handled:
        """Handle one message. Raises ``Unpublishable`` for a release that can never be published,
        ``UnknownRelease`` for an unknown one, and whatever AWS raises (retried by redelivery)."""
        record = self._states.get(message.release_id)
        if record is None:
            raise UnknownRelease(message.release_id)
        if message.action is PublishAction.KILL:
            return self._kill(record, message.reason)
        return self._publish(record, message.version)

    # -- publish ------------------------------------------------------------------------------------

    def _publish(self, record: ReleaseRecord, version: int) -> Handled:
        if version != record.version:
            return Handled(Outcome.STALE, f"version {version}, current {record.version}")
        if already(Action.PUBLISH, record.status):
            return Handled(Outcome.ALREADY_PUBLISHED)
        if not can(Action.PUBLISH, record.status):
            return Handled(Outcome.NOT_PUBLISHABLE, f"the release is {record.status}")
        now = self._clock()
        if record.release_at is not None and now < record.release_at:
            return self._rearm(record, record.release_at, now)
        rendered = self._render(record, self._store.get_document(record.object_key), now)
        rid = record.release_id
        published_keys = self._publish_media(rendered.release)  # before the page that shows them
        self._site.put(f"releases/{rid}.json", rendered.ninjs, JSON)
        self._site.put(f"releases/{rid}.html", rendered.page, HTML)
        self._remove_media(rid, keep=published_keys)  # what an earlier version showed and this one not
        entry, limit = rendered.entry, self._feed_size
        self._refresh(record.category, lambda entries: insert(entries, entry, limit))
        try:
            self._move(record, Action.PUBLISH, now, published_at=now, public_url=rendered.page_url)
        except ConditionFailed:
            latest = self._states.get(rid)
            if latest is None or not already(Action.PUBLISH, latest.status):
                # Withdrawn at the last moment: take it down again rather than leave it public.
                log.warning("release %s changed while publishing; taking it down", rid)
                self._take_down(record, now)
                return Handled(Outcome.CHANGED, f"the release is {latest.status if latest else 'gone'}")
        return Handled(Outcome.PUBLISHED)

    def _render(self, record: ReleaseRecord, document: dict[str, Any], now: datetime) -> _Rendered:
        """Every byte the publication writes, or ``Unpublishable``: rendering is pure, so what
        fails here fails the same way every time and is not worth a retry."""
        from functions.domain.publish.ninjs import to_ninjs
        from functions.domain.publish.site import check_feed_item, render_page

        try:
            release = PublishedRelease.from_document(
                document, first_created=record.created_at, published_at=now, site_url=self._site_url
            )
            entry = entry_for(release)
            check_feed_item(entry, site_url=self._site_url)
            return _Rendered(
                ninjs=_json_bytes(to_ninjs(release)),
                page=render_page(release, site_url=self._site_url).encode(),
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

    def _kill(self, record: ReleaseRecord, reason: str | None) -> Handled:
        killed = already(Action.KILL, record.status)
        if not (killed or can(Action.KILL, record.status)):
            return Handled(Outcome.NOT_KILLABLE, f"the release is {record.status}")
        now = self._clock()
        self._take_down(record, now)  # again for a killed one: a redelivery repairs a crash
        if killed:
            return Handled(Outcome.ALREADY_KILLED)
        try:
            self._move(
                record,
                Action.KILL,
                now,
                decision={
                    "action": Action.KILL.value,
                    "reason_codes": [reason] if reason else [],
                    "decided_at": now.isoformat(),
                    "version": record.version,
                },
            )
        except ConditionFailed:
            return Handled(Outcome.ALREADY_KILLED)
        return Handled(Outcome.KILLED)

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
            **changes,
        )

    def _take_down(self, record: ReleaseRecord, now: datetime) -> None:
        from functions.domain.publish.ninjs import to_ninjs
        from functions.domain.publish.site import render_killed_page

        rid = record.release_id
        document = self._store.get_document(record.object_key)
        release = PublishedRelease.from_document(
            document,
            first_created=record.created_at,
            published_at=record.published_at or now,
            site_url=self._site_url,
        )
        canceled = replace(release, canceled=True, version_created=now)
        self._site.put(f"releases/{rid}.json", _json_bytes(to_ninjs(canceled)), JSON)
        notice = render_killed_page(rid, record.headline, site_url=self._site_url, killed_at=now)
        self._site.put(f"releases/{rid}.html", notice.encode(), HTML)
        self._remove_media(rid, keep=set())
        self._refresh(record.category, lambda entries: remove(entries, rid))

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

    # -- shared pages -----------------------------------------------------------------------------

    def _refresh(self, category: str, change: Callable[[Entries], Entries]) -> None:
        """Change the category's catalog, then the site's, then re-render what depends on them.

        The category catalog changes first: whoever updates the site catalog later reads every
        category catalog after that, so the newest index always has every entry.
        """
        in_category, category_seq = self._catalogs.update(category, change)
        everything, all_seq = self._catalogs.update(ALL, change)
        now = self._clock()
        self._feeds(category, in_category, category_seq, now)
        self._feeds(ALL, everything, all_seq, now)
        self._index(everything, all_seq, now, fresh={category: (in_category, category_seq)})

    def _feeds(self, name: str, items: Entries, seq: int, now: datetime) -> None:
        from functions.domain.publish.site import CATEGORY_LABELS, render_atom, render_rss

        label = CATEGORY_LABELS.get(name, name)
        title = "Newsroom" if name == ALL else f"Newsroom: {label}"
        description = (
            "All press releases, newest first" if name == ALL else f"{label} press releases, newest first"
        )
        for suffix, render, content_type in (("xml", render_rss, RSS), ("atom", render_atom, ATOM)):
            path = f"feeds/{name}.{suffix}"
            body = render(
                items,
                site_url=self._site_url,
                title=title,
                feed_path=path,
                description=description,
                updated=now,
            )
            self._site.put_if_newer(path, body, content_type, seq=seq)

    def _index(
        self, everything: Entries, seq: int, now: datetime, fresh: dict[str, tuple[Entries, int]]
    ) -> None:
        from functions.domain.publish.site import render_index

        by_category: dict[str, Entries] = {}
        for category in CATEGORIES:
            if category in fresh:
                entries, category_seq = fresh[category]
            else:  # only as far as the index needs: the first INDEX_PER_CATEGORY entries
                entries, category_seq = self._catalogs.get(category, limit=INDEX_PER_CATEGORY)
            by_category[category] = entries[:INDEX_PER_CATEGORY]
            if category_seq == 0:  # never used: the index links to its feeds, so they exist (empty)
                self._feeds(category, [], 0, now)
        page = render_index(everything[:INDEX_LATEST], by_category, site_url=self._site_url, generated_at=now)
        self._site.put_if_newer("index.html", page.encode(), HTML, seq=seq)


def _json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()
