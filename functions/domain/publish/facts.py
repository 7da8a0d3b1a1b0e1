"""A release's typed details as labelled facts people read, and the times they read them in.

The HTML page shows the facts as a definition list; the ninjs document carries the same facts as
its ``details`` description, so the two never disagree. Month names are fixed English words (no
locale dependence); event times are in the event's own time zone (times of publication are in
the site's display zone: ``functions.domain.site.human_time``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.domain.publish.model import PublishedRelease
from functions.domain.site import html_datetime, human_date, utc_offset


@dataclass(frozen=True)
class Fact:
    """One labelled detail; ``datetime`` is the machine-readable value of a date or time fact."""

    label: str
    text: str
    datetime: str | None = None


def event_zone(zone: str | None) -> ZoneInfo | None:
    """The event's IANA zone, if it names one."""
    try:
        return ZoneInfo(zone) if zone else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_time(value: datetime, zone: str | None) -> str:
    """``6 June 2026, 18:00 (Europe/London, UTC+01:00)``: in the event's zone, with its offset
    then; in the time's own offset when the zone is unknown."""
    found = event_zone(zone)
    local = value.astimezone(found) if found else value
    label = f"{zone}, {utc_offset(local)}" if found else utc_offset(local)
    return f"{human_date(local.date())}, {local:%H:%M} ({label})"


def _day(label: str, value: Any) -> Fact:
    day = date.fromisoformat(str(value))
    return Fact(label, human_date(day), day.isoformat())


def _texts(details: dict[str, Any], fields: tuple[tuple[str, str], ...]) -> list[Fact]:
    return [Fact(label, str(details[key])) for key, label in fields if details.get(key)]


def _business(details: dict[str, Any]) -> list[Fact]:
    tickers = [f"{t['exchange']}: {t['symbol']}" for t in details.get("tickers") or []]
    if not tickers:
        return []
    return [Fact("Listed as" if len(tickers) == 1 else "Securities", ", ".join(tickers))]


def _sports(details: dict[str, Any]) -> list[Fact]:
    facts = _texts(details, (("sport", "Sport"),))
    if details.get("teams"):
        facts.append(Fact("Teams", ", ".join(str(team) for team in details["teams"])))
    facts += _texts(details, (("result", "Result"),))
    if details.get("event_date"):
        facts.append(_day("Date", details["event_date"]))
    return facts


def _personnel(details: dict[str, Any]) -> list[Fact]:
    facts = _texts(details, (("person", "Person"), ("role", "Role"), ("previous_role", "Previously")))
    if details.get("effective_date"):
        facts.append(_day("Effective", details["effective_date"]))
    return facts


def _community(details: dict[str, Any]) -> list[Fact]:
    return _texts(details, (("group", "Group"), ("area", "Area")))


def _event(details: dict[str, Any]) -> list[Fact]:
    facts = []
    for key, label in (("starts_at", "Starts"), ("ends_at", "Ends")):
        if details.get(key):
            moment = datetime.fromisoformat(details[key])
            zone = details.get("timezone") if event_zone(details.get("timezone")) else None
            facts.append(Fact(label, local_time(moment, zone), html_datetime(moment, zone)))
    return facts + _texts(details, (("venue", "Venue"),))


_FACTS: dict[str, Callable[[dict[str, Any]], list[Fact]]] = {
    "business": _business,
    "sports": _sports,
    "personnel": _personnel,
    "community": _community,
    "event": _event,
}

DETAILS_HEADINGS = {
    "business": "Market information",
    "sports": "Match details",
    "personnel": "Appointment",
    "community": "Community",
    "event": "When and where",
}


def detail_facts(release: PublishedRelease) -> list[Fact]:
    """The release's typed ``details`` as labelled facts, in a fixed order per category."""
    facts = _FACTS.get(release.category)
    return facts(release.details) if facts else []


def facts_text(facts: list[Fact]) -> str:
    """``Person: Jane Doe; Role: Chief Financial Officer; Effective: 1 January 2027``."""
    return "; ".join(f"{fact.label}: {fact.text}" for fact in facts)
