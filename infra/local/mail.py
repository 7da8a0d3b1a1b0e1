"""The e-mail the local stack's functions send: captured, kept as ``.eml`` files, shown at ``/mail/``.

The delivery function sends through SES (``sesv2 SendEmail``) as on AWS; moto accepts the
message and keeps it in its SES backend. ``MailCapture`` (a worker of the local stack) takes
every new message from there, writes it to the mail folder (``.press-intake/mail/`` by default,
one ``{time}-{id}.eml`` file each, readable by you only) and keeps it for ``MailReader``, which
serves them read-only at ``/mail/``:

- ``/mail/``: the messages, newest first (time, recipient, subject);
- ``/mail/index.json``: the same as JSON (``id``, ``from``, ``to``, ``subject``, ``date``, ``text``,
  and where the HTML part and the raw message are);
- ``/mail/{id}``: one message (its headers and text part), ``/mail/{id}.html`` its HTML part as
  sent (sandboxed: no script, no request leaves the page), ``/mail/{id}.eml`` the raw message.

At a start the folder's earlier messages are read back, so ``/mail/`` shows them too; nothing
is ever sent anywhere.
"""

from __future__ import annotations

import email
import html
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from infra.apigateway.gateway import HttpResponse, problem
from infra.local.sources import _Worker

log = logging.getLogger("press_intake.local")

MAIL_PREFIX = "/mail/"
MAIL_METHODS = ("GET", "HEAD", "OPTIONS")
ACCOUNT = "123456789012"
_ID = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
# The HTML part is the functions' own rendering, but it carries submitters' text: no script,
# no fetch, no navigation away from it, whatever it holds.
_HTML_PART_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


@dataclass(frozen=True)
class CapturedMail:
    id: str
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def header(self, name: str) -> str:
        return str(self.message.get(name, ""))

    def part(self, subtype: str) -> str | None:
        found = self.message.get_body(preferencelist=(subtype,))
        return found.get_content() if found is not None else None

    @property
    def date(self) -> datetime | None:
        try:
            return parsedate_to_datetime(self.header("Date"))
        except (TypeError, ValueError):
            return None

    def summary(self) -> dict[str, Any]:
        date = self.date
        return {
            "id": self.id,
            "from": self.header("From"),
            "to": self.header("To"),
            "subject": self.header("Subject"),
            "date": date.isoformat() if date else None,
            "text": self.part("plain"),
            "html_url": f"{MAIL_PREFIX}{self.id}.html",
            "eml_url": f"{MAIL_PREFIX}{self.id}.eml",
        }


def _file_name(message_id: str, at: datetime) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "-", message_id)[:24]
    return f"{at.astimezone(UTC):%Y%m%dT%H%M%S%f}-{safe}"


class MailCapture(_Worker):
    """Collects what moto's SES backend was given to send."""

    name = "mail"

    def __init__(self, *, region: str, folder: Path | None, interval: float = 0.2) -> None:
        super().__init__()
        self._region = region
        self.folder = folder
        self._interval = interval
        self._lock = threading.Lock()
        self._seen: set[int] = set()
        self.messages: list[CapturedMail] = []
        if folder is not None:
            self._read_folder(folder)

    def _read_folder(self, folder: Path) -> None:
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.eml")):
            try:
                self.messages.append(CapturedMail(id=path.stem, raw=path.read_bytes()))
            except OSError:
                log.warning("could not read %s", path)

    def run_once(self) -> None:
        self.collect()
        self._stop.wait(self._interval)

    def collect(self) -> int:
        """Take the messages sent since the last call; how many there were."""
        from moto.ses.models import ses_backends

        backend = ses_backends[ACCOUNT][self._region]
        fresh = [m for m in list(backend.sent_messages) if id(m) not in self._seen]
        for sent in fresh:
            self._seen.add(id(sent))
            raw = getattr(sent, "raw_data", None)
            if raw is None:  # SendEmail with Simple content: keep what moto has of it
                raw = f"Subject: {getattr(sent, 'subject', '')}\n\n{getattr(sent, 'body', '')}"
            self._keep(
                str(getattr(sent, "id", "message")), raw.encode("utf-8") if isinstance(raw, str) else raw
            )
        return len(fresh)

    def _keep(self, message_id: str, raw: bytes) -> None:
        captured = CapturedMail(id=_file_name(message_id, datetime.now(UTC)), raw=raw)
        with self._lock:
            self.messages.append(captured)
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.folder / f"{captured.id}.eml"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as output:
            output.write(raw)
        log.info("mail to %s: %s (%s)", captured.header("To"), captured.header("Subject"), path)

    def find(self, mail_id: str) -> CapturedMail | None:
        with self._lock:
            return next((m for m in self.messages if m.id == mail_id), None)

    def newest_first(self) -> list[CapturedMail]:
        with self._lock:
            return list(reversed(self.messages))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:60em}}
td,th{{padding:.2em .8em;text-align:left;vertical-align:top}}
pre{{white-space:pre-wrap;background:#f6f6f6;padding:1em}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def _page(title: str, body: str) -> HttpResponse:
    text = _PAGE.format(title=html.escape(title), body=body)
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return HttpResponse(status=200, headers=headers, body=text.encode("utf-8"))


class MailReader:
    """``/mail/`` of the local stack: read-only views of the captured messages."""

    def __init__(self, capture: MailCapture) -> None:
        self._capture = capture

    def respond(self, method: str, path: str) -> HttpResponse:
        method = method.upper()
        allow = ("Allow", ", ".join(MAIL_METHODS))
        if method == "OPTIONS":
            return HttpResponse(status=204, headers=[allow], body=b"")
        if method not in ("GET", "HEAD"):
            return problem(
                405,
                "method-not-allowed",
                "Method not allowed",
                f"The captured mail is read-only: {method} is not supported on {path}; use GET or HEAD.",
                [allow],
            )
        response = self._get(path if path.startswith(MAIL_PREFIX) else MAIL_PREFIX)
        if method == "HEAD":
            return HttpResponse(response.status, response.headers, b"")
        return response

    def _get(self, path: str) -> HttpResponse:
        name = path[len(MAIL_PREFIX) :]
        if name == "":
            return self._index()
        if name == "index.json":
            documents = [m.summary() for m in self._capture.newest_first()]
            return HttpResponse(
                status=200,
                headers=[("Content-Type", "application/json"), ("Cache-Control", "no-store")],
                body=json.dumps({"messages": documents}).encode("utf-8"),
            )
        stem, _, suffix = name.rpartition(".") if name.endswith((".html", ".eml")) else (name, "", "")
        found = self._capture.find(stem) if _ID.match(stem) else None
        if found is None:
            return problem(404, "not-found", "Not found", f"No captured mail at {path}.")
        if suffix == "eml":
            return HttpResponse(status=200, headers=[("Content-Type", "message/rfc822")], body=found.raw)
        return self._html_part(found) if suffix == "html" else self._message(found)

    @staticmethod
    def _html_part(mail: CapturedMail) -> HttpResponse:
        part = mail.part("html")
        if part is None:
            return problem(404, "not-found", "Not found", "This message has no HTML part.")
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Security-Policy", _HTML_PART_POLICY),
            ("X-Content-Type-Options", "nosniff"),
        ]
        return HttpResponse(status=200, headers=headers, body=part.encode("utf-8"))

    def _index(self) -> HttpResponse:
        rows = "".join(
            f"<tr><td>{html.escape(str(m.date or ''))}</td><td>{html.escape(m.header('To'))}</td>"
            f'<td><a href="{MAIL_PREFIX}{html.escape(m.id)}">{html.escape(m.header("Subject"))}</a></td></tr>'
            for m in self._capture.newest_first()
        )
        table = (
            f"<table><tr><th>date</th><th>to</th><th>subject</th></tr>{rows}</table>"
            if rows
            else "<p>No mail yet.</p>"
        )
        folder = self._capture.folder
        where = f"<p>Also kept as .eml files in {html.escape(str(folder))}.</p>" if folder else ""
        return _page("Mail sent by the local stack", table + where)

    def _message(self, mail: CapturedMail) -> HttpResponse:
        headers = "".join(
            f"<tr><th>{name}</th><td>{html.escape(mail.header(name))}</td></tr>"
            for name in ("From", "To", "Subject", "Date", "Message-ID")
        )
        text = mail.part("plain")
        body = (
            f"<table>{headers}</table>"
            f"<h2>Text part</h2><pre>{html.escape(text or '(none)')}</pre>"
            f'<p><a href="{MAIL_PREFIX}{mail.id}.html">The HTML part</a> · '
            f'<a href="{MAIL_PREFIX}{mail.id}.eml">The raw message</a> · '
            f'<a href="{MAIL_PREFIX}">All mail</a></p>'
        )
        return _page(mail.header("Subject") or mail.id, body)
