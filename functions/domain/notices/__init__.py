"""The e-mails submitters get: a short message with a text and an HTML part, per notice.

``compose`` renders a ``MailJob`` with the Jinja2 templates next to this module (the HTML ones
autoescaped) into an ``email.message.EmailMessage`` ready for SES: ``From`` the site's name and
the sender address, ``To`` the one recipient, a ``Subject`` naming the release's headline.

Whatever a submitter typed (the headline, the organisation's name) and what a moderator wrote
(the note) is data, never markup or headers: escaped in the HTML part, stripped of control
characters in the text part, and in headers reduced to one line without any control character
(no CR, LF or other line break can start a header of its own) before the ``email`` package
encodes it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from functions.domain.characters import remove_forbidden
from functions.domain.messages import MailJob, ReleaseNotice, WebhookDisabledNotice
from functions.domain.moderation import REASON_CODES

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"
SUBJECT_HEADLINE_MAX = 120

# What each release notice says, by the release's status when it was sent.
_RELEASE_NOTICES: dict[str, tuple[str, str]] = {
    "changes_requested": (
        "Changes requested",
        "The moderators ask for changes before your release can be published.",
    ),
    "rejected": ("Not accepted", "Your release was not accepted for publication."),
    "published": ("Published", "Your release is published."),
    "killed": ("Taken down", "Your release was taken down and is no longer public."),
}
_NEXT_STEP = {
    "changes_requested": "Send the revised release (PUT /releases/{id}) and it goes back to review.",
}

_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


class UndeliverableMail(ValueError):
    """A mail job that can never be sent as it is (a recipient that is not an address)."""


def text_line(value: str, limit: int | None = None) -> str:
    """``value`` on one line: line breaks and tabs become spaces, control and invisible
    formatting characters go, runs of spaces shrink to one; cut to ``limit`` characters."""
    flat = _CONTROLS.sub("", _LINE_BREAKS.sub(" ", remove_forbidden(value).replace("\t", " ")))
    flat = " ".join(flat.split())
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return flat


def text_block(value: str) -> str:
    """Multi-line text for the text part: lines kept, control characters removed."""
    lines = _LINE_BREAKS.split(remove_forbidden(value).replace("\t", "    "))
    return "\n".join(_CONTROLS.sub("", line).rstrip() for line in lines).strip()


@cache
def _environment() -> Environment:
    """The templates: ``*.html.j2`` autoescaped, ``*.txt.j2`` plain text (filtered instead)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["line"] = text_line
    environment.filters["block"] = text_block
    return environment


def _release_values(notice: ReleaseNotice) -> tuple[str, dict[str, Any]]:
    label, lead = _RELEASE_NOTICES.get(
        notice.status, (notice.status.replace("_", " ").capitalize(), f"Your release is now {notice.status}.")
    )
    decision = notice.decision
    reasons = [
        {"code": code, "text": REASON_CODES.get(code, "")}
        for code in (decision.reason_codes if decision else ())
    ]
    values = {
        "notice": notice,
        "lead": lead,
        "reasons": reasons,
        "note": decision.note if decision and decision.note else None,
        "next_step": _NEXT_STEP.get(notice.status, "").replace("{id}", notice.release_id),
    }
    return f"{label}: {text_line(notice.headline, SUBJECT_HEADLINE_MAX)}", values


def _disabled_values(notice: WebhookDisabledNotice) -> tuple[str, dict[str, Any]]:
    values = {"notice": notice, "since": notice.failing_since.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    return f"Webhook disabled: {text_line(notice.url, SUBJECT_HEADLINE_MAX)}", values


def render(job: MailJob, *, site_name: str) -> tuple[str, str, str]:
    """(subject, text part, HTML part) of a mail job."""
    notice = job.notice
    if isinstance(notice, ReleaseNotice):
        subject, values = _release_values(notice)
        name = "release"
    else:
        subject, values = _disabled_values(notice)
        name = "webhook_disabled"
    values["site_name"] = site_name
    text = _environment().get_template(f"{name}.txt.j2").render(values)
    html = _environment().get_template(f"{name}.html.j2").render(values)
    return f"[{text_line(site_name, 80)}] {subject}", text, html


def _address(value: str, display_name: str = "") -> Address:
    if text_line(value) != value or value.count("@") != 1:
        raise UndeliverableMail(f"{value!r} is not an e-mail address")
    local, _, domain = value.partition("@")
    try:
        return Address(display_name=display_name, username=local, domain=domain)
    except (ValueError, IndexError) as error:
        raise UndeliverableMail(f"{value!r} is not an e-mail address ({error})") from None


def compose(job: MailJob, *, sender: str, site_name: str, now: datetime) -> EmailMessage:
    """The e-mail of one mail job, with its text and HTML parts."""
    subject, text, html = render(job, site_name=site_name)
    message = EmailMessage(policy=SMTP)
    sender_address = _address(sender, text_line(site_name, 80))
    message["From"] = sender_address
    message["To"] = _address(job.recipient)
    message["Subject"] = subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = make_msgid(domain=sender_address.domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a notice
    message["X-Press-Intake-Event"] = text_line(job.event_type, 100)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
