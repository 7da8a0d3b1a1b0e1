"""The e-mails submitters get: parts, subjects, and submitter text kept as text."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default

import pytest

from functions.domain.messages import DecisionNotice, MailJob, ReleaseNotice, WebhookDisabledNotice
from functions.domain.notices import UndeliverableMail, compose, text_line

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
SENDER = "notifications@press-intake.test"


def _job(
    status: str = "changes_requested", recipient: str = "press@acme.example", **notice: object
) -> MailJob:
    values: dict[str, object] = {
        "release_id": "6f6b1f6e-0000-4000-8000-000000000001",
        "version": 2,
        "headline": "Acme names Jane Doe chief financial officer",
        "org_name": "Acme",
        "status": status,
        **notice,
    }
    return MailJob(
        event_id="msg_1",
        event_type=f"release.{status}",
        org_id="acme",
        recipient=recipient,
        notice=ReleaseNotice.model_validate(values),
    )


def _sent(job: MailJob, site_name: str = "Rovers Newsroom") -> EmailMessage:
    """The message as a mail client reads it back from the wire."""
    raw = compose(job, sender=SENDER, site_name=site_name, now=NOW).as_bytes()
    parsed = email.message_from_bytes(raw, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _subject(message: EmailMessage) -> str:
    """The subject as a mail client shows it (a folded header unfolded, outer spaces dropped)."""
    return " ".join(str(message["Subject"]).split())


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


@pytest.mark.parametrize(
    ("status", "subject", "says"),
    [
        ("changes_requested", "Changes requested", "ask for changes"),
        ("rejected", "Not accepted", "not accepted"),
        ("published", "Published", "is published"),
        ("killed", "Taken down", "taken down"),
    ],
)
def test_each_decision_has_its_subject_and_both_parts(status: str, subject: str, says: str) -> None:
    message = _sent(_job(status))
    assert _subject(message) == f"[Rovers Newsroom] {subject}: Acme names Jane Doe chief financial officer"
    assert message["From"] == f"Rovers Newsroom <{SENDER}>"
    assert message["To"] == "press@acme.example"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text, html = _parts(message)
    assert says in text
    assert says in html
    assert "Rovers Newsroom" in text


def test_the_decision_reasons_note_and_link_are_in_the_mail() -> None:
    job = _job(
        "rejected",
        decision=DecisionNotice(action="reject", reason_codes=("promotional_tone",), note="Cite a source."),
        public_url=None,
    )
    text, html = _parts(_sent(job))
    assert "promotional_tone: Reads as advertising rather than news." in text
    assert "Cite a source." in text
    assert "Cite a source." in html
    published = _parts(_sent(_job("published", public_url="https://news.example.org/releases/r.html")))
    assert "https://news.example.org/releases/r.html" in published[0]
    assert 'href="https://news.example.org/releases/r.html"' in published[1]


def test_submitter_text_is_escaped_in_html_and_never_markup() -> None:
    job = _job(
        headline='Acme <script>alert("x")</script> & <b>friends</b>',
        org_name="Acme <img src=x onerror=alert(1)>",
        decision=DecisionNotice(action="request_changes", note="Remove <iframe src=//evil>"),
    )
    text, html = _parts(_sent(job))
    assert "<script>" not in html
    assert "<img" not in html
    assert "<iframe" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;friends&lt;/b&gt;" in html
    assert '<script>alert("x")</script>' in text  # the text part shows what was typed, as text


def test_no_header_can_be_injected_through_a_headline() -> None:
    job = _job(
        headline="Big news\r\nBcc: everyone@victims.example\r\n\r\nFree money", org_name="Acme\nX-Evil: 1"
    )
    raw = compose(job, sender=SENDER, site_name="News", now=NOW).as_bytes()
    message = email.message_from_bytes(raw, policy=default)
    assert message["Bcc"] is None
    assert message["X-Evil"] is None
    assert isinstance(message, EmailMessage)
    assert _subject(message) == "[News] Changes requested: Big news Bcc: everyone@victims.example Free money"
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in head


def test_control_characters_are_stripped_from_the_text_part_and_headers() -> None:
    job = _job(
        headline="Acme\x1b[31m red\u202e reversed\x07",
        decision=DecisionNotice(action="request_changes", note="line one\x1b]8;;evil\x07\nline two\x00"),
    )
    message = _sent(job)
    text, _ = _parts(message)
    for control in ("\x1b", "\x07", "\x00", "\u202e"):
        assert control not in text
        assert control not in _subject(message)
    assert "line one]8;;evil\nline two" in text.replace("\r\n", "\n")


def test_a_long_headline_is_shortened_in_the_subject_only() -> None:
    headline = "Acme " + "very " * 37 + "long"  # 194 characters: a headline may have 200
    message = _sent(_job(headline=headline))
    assert len(_subject(message)) < 160
    assert _subject(message).endswith("…")
    assert headline in _parts(message)[0].replace("\r\n", "\n")


@pytest.mark.parametrize("recipient", ["press@acme.example\r\nBcc: x@y.example", "no-at-sign", "a@b@c"])
def test_a_recipient_that_is_not_one_address_is_undeliverable(recipient: str) -> None:
    with pytest.raises(UndeliverableMail):
        compose(_job(recipient=recipient), sender=SENDER, site_name="News", now=NOW)


def test_the_webhook_disabled_notice_says_what_and_how_to_enable_it() -> None:
    job = MailJob(
        event_id="wh_1:disabled",
        event_type="webhook.disabled",
        org_id="acme",
        recipient="office@acme.example",
        notice=WebhookDisabledNotice(
            webhook_id="wh_1",
            url="https://hooks.example.org/in",
            failing_since=NOW,
            reason="HTTP 500 for 3 days.",
        ),
    )
    message = _sent(job)
    assert _subject(message) == "[Rovers Newsroom] Webhook disabled: https://hooks.example.org/in"
    text, html = _parts(message)
    assert "POST /webhooks/wh_1/enable" in text
    assert "HTTP 500 for 3 days." in html


def test_text_line_makes_one_clean_line() -> None:
    assert text_line("a\r\nb\tc\u2028d  e\u0085f\x0bg") == "a b c d e fg"  # VT: a forbidden control
    assert text_line("x" * 10, 5) == "xxxx…"
