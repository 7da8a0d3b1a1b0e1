"""Publication: from an approved release to pages, ninjs, the newsroom index and feeds.

One message of the publish queue is ``{release_id, version, action}``; handling it is
idempotent (SQS delivers at least once):

- ``publish`` of a release whose ``release_at`` is still ahead creates a one-time schedule that
  puts the same message back on the queue at that time (status ``scheduled``); nothing becomes
  public before then.
- ``publish`` when due writes the release's ninjs document and page, adds it to its category's
  and the site's catalogs (bounded, conditional writes), re-renders the feeds and the index
  from them, and only then marks the release ``published``. A crash anywhere in between is
  repaired by the redelivery: every step can run twice.
- ``kill`` of a published release replaces its page with a notice, marks its ninjs
  ``canceled``, removes it from the catalogs (so from the index and feeds) and marks it
  ``killed``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.domain.models import CATEGORIES
from functions.domain.ports import ConditionFailed, ReleaseStore, Schedules, StateRepository
from functions.domain.records import ReleaseRecord, schedule_name
from functions.domain.states import Action, Status, transition_for

log = logging.getLogger(__name__)

ALL = "all"
INDEX_LATEST = 20
INDEX_PER_CATEGORY = 10
# A schedule fires on the minute; a delivery this close to release_at is treated as due.
DUE_TOLERANCE = timedelta(seconds=30)
HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"

Entries = list[dict[str, Any]]


class SiteWriter(Protocol):
    def put(self, key: str, body: bytes, content_type: str, *, max_age: int = 300) -> None: ...

    def put_if_newer(
        self, key: str, body: bytes, content_type: str, *, seq: int, max_age: int = 60
    ) -> bool: ...


class Catalogs(Protocol):
    def get(self, name: str) -> tuple[Entries, int]: ...

    def update(self, name: str, change: Callable[[Entries], Entries]) -> tuple[Entries, int]: ...


@dataclass(frozen=True)
class PublishMessage:
    release_id: str
    version: int
    action: Literal["publish", "kill"]
    reason: str | None = None

    @classmethod
    def parse(cls, body: str) -> PublishMessage:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("a publish message is a JSON object")
        action = data.get("action", "publish")
        if action not in ("publish", "kill"):
            raise ValueError(f"unknown action {action!r}")
        return cls(str(data["release_id"]), int(data["version"]), action, data.get("reason"))


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
        clock: Callable[[], datetime],
        site_url: str,
        feed_size: int = 50,
    ) -> None:
        self._states = states
        self._store = store
        self._site = site
        self._catalogs = catalogs
        self._schedules = schedules
        self._clock = clock
        self._site_url = site_url
        self._feed_size = feed_size

    # -- entry point ------------------------------------------------------------------------------

    def handle(self, message: PublishMessage) -> str:
        record = self._states.get(message.release_id)
        if record is None:
            raise UnknownRelease(message.release_id)
        if message.action == "kill":
            return self._kill(record, message.reason)
        return self._publish(record, message.version)

    # -- publish ------------------------------------------------------------------------------------

    def _publish(self, record: ReleaseRecord, version: int) -> str:
        if version != record.version:
            return f"stale: version {version}, current {record.version}"
        if record.status == Status.PUBLISHED:
            return "already published"
        if record.status not in (Status.APPROVED, Status.SCHEDULED):
            return f"not published: the release is {record.status}"
        now = self._clock()
        if record.release_at is not None and record.release_at > now + DUE_TOLERANCE:
            return self._schedule(record)
        from functions.domain.publish.model import PublishedRelease, entry_for, insert
        from functions.domain.publish.ninjs import to_ninjs
        from functions.domain.publish.site import render_page

        document = self._store.get_document(record.object_key)
        release = PublishedRelease.from_document(
            document, first_created=record.created_at, published_at=now, site_url=self._site_url
        )
        rid = record.release_id
        self._site.put(f"releases/{rid}.json", _json_bytes(to_ninjs(release)), JSON)
        self._site.put(f"releases/{rid}.html", render_page(release, site_url=self._site_url).encode(), HTML)
        entry = entry_for(release).to_json()
        limit = self._feed_size

        def add(entries: Entries) -> Entries:
            return _as_json(insert(_entries(entries), _entry(entry), limit))

        self._refresh(record.category, add)
        try:
            self._move(record, Action.PUBLISH, now, published_at=now, public_url=release.page_url)
        except ConditionFailed:
            latest = self._states.get(rid)
            if latest is None or latest.status != Status.PUBLISHED:
                # Withdrawn at the last moment: take it down again rather than leave it public.
                log.warning("release %s changed while publishing; taking it down", rid)
                self._take_down(record, now)
                return f"not published: the release is {latest.status if latest else 'gone'}"
        return "published"

    def _schedule(self, record: ReleaseRecord) -> str:
        if record.release_at is None:
            raise ValueError("only releases with a release time are scheduled")
        document = self._store.get_document(record.object_key)
        zone = schedule_zone(record.release_at, document.get("content") or {})
        payload = {"release_id": record.release_id, "version": record.version, "action": "publish"}
        self._schedules.ensure(
            schedule_name(record.release_id, record.version), at=record.release_at, zone=zone, payload=payload
        )
        if record.status == Status.APPROVED:
            try:
                self._move(record, Action.SCHEDULE, self._clock())
            except ConditionFailed:
                return "not scheduled: the release changed meanwhile"
        return f"scheduled for {record.release_at.isoformat()} ({zone})"

    # -- kill ---------------------------------------------------------------------------------------

    def _kill(self, record: ReleaseRecord, reason: str | None) -> str:
        if record.status not in (Status.PUBLISHED, Status.KILLED):
            return f"not killed: the release is {record.status}"
        now = self._clock()
        self._take_down(record, now)
        if record.status == Status.KILLED:
            return "already killed"
        try:
            self._move(
                record,
                Action.KILL,
                now,
                decision={
                    "action": "kill",
                    "reason_codes": [reason] if reason else [],
                    "decided_at": now.isoformat(),
                    "version": record.version,
                },
            )
        except ConditionFailed:
            return "already killed"
        return "killed"

    def _move(self, record: ReleaseRecord, action: Action, now: datetime, **changes: Any) -> None:
        """One conditional transition of ``record`` (raises ``ConditionFailed`` if it moved on)."""
        transition = transition_for(action)
        self._states.transition(
            record.release_id,
            org_id=record.org_id,
            expected_version=record.version,
            from_statuses=sorted(transition.sources),
            to_status=transition.target.value,
            action=action.value,
            actor="publisher",
            now=now,
            **changes,
        )

    def _take_down(self, record: ReleaseRecord, now: datetime) -> None:
        from functions.domain.publish.model import PublishedRelease, remove
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

        def drop(entries: Entries) -> Entries:
            return _as_json(remove(_entries(entries), rid))

        self._refresh(record.category, drop)

    # -- shared pages -----------------------------------------------------------------------------

    def _refresh(self, category: str, change: Callable[[Entries], Entries]) -> None:
        """Change the category's catalog, then the site's, then re-render what depends on them.

        The category catalog changes first: whoever updates the site catalog later reads every
        category catalog after that, so the newest index always has every entry.
        """
        category_entries, category_seq = self._catalogs.update(category, change)
        all_entries, all_seq = self._catalogs.update(ALL, change)
        now = self._clock()
        self._feeds(category, category_entries, category_seq, now)
        self._feeds(ALL, all_entries, all_seq, now)
        self._index(all_entries, all_seq, now, fresh={category: (category_entries, category_seq)})

    def _feeds(self, name: str, entries: Entries, seq: int, now: datetime) -> None:
        from functions.domain.publish.site import render_atom, render_rss

        items = _entries(entries)
        from functions.domain.publish.site import CATEGORY_LABELS

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
        self, all_entries: Entries, seq: int, now: datetime, fresh: dict[str, tuple[Entries, int]]
    ) -> None:
        from functions.domain.publish.site import render_index

        by_category = {}
        for category in CATEGORIES:
            entries, category_seq = fresh.get(category) or self._catalogs.get(category)
            by_category[category] = _entries(entries[:INDEX_PER_CATEGORY])
            if category_seq == 0:  # never used: the index links to its feeds, so they exist (empty)
                self._feeds(category, [], 0, now)
        page = render_index(
            _entries(all_entries)[:INDEX_LATEST], by_category, site_url=self._site_url, generated_at=now
        )
        self._site.put_if_newer("index.html", page.encode(), HTML, seq=seq)


def _json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def _entry(data: dict[str, Any]) -> Any:
    from functions.domain.publish.model import CatalogEntry

    return CatalogEntry.from_json(data)


def _entries(data: Entries) -> list[Any]:
    return [_entry(item) for item in data]


def _as_json(entries: list[Any]) -> Entries:
    return [entry.to_json() for entry in entries]
