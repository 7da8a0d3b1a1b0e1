"""E-mail to submitters on moto's SES: one per decision that matters, to the right people, captured."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from functions.adapters.dynamodb_state import DynamoStateRepository
from functions.adapters.dynamodb_webhooks import DynamoWebhooks
from functions.adapters.sqs_publish import SqsPublishQueue
from functions.domain.messages import PublishAction, PublishMessage
from functions.domain.moderation import Decision, DecisionAction, ModerationService
from infra.bootstrap import LocalStack
from infra.local.mail import CapturedMail, MailCapture
from tests.functional.pipeline import Pipeline, api_client, pipeline_stack
from tests.helpers import ApiClient, personnel_release


@pytest.fixture
def world(aws: None, monkeypatch: pytest.MonkeyPatch) -> tuple[LocalStack, Pipeline]:
    stack, functions = pipeline_stack(monkeypatch)
    return stack, Pipeline(stack, functions)


def _mail(folder: Path) -> list[CapturedMail]:
    capture = MailCapture(region="us-east-1", folder=folder)
    capture.collect()
    return capture.messages


def _moderation(stack: LocalStack) -> ModerationService:
    return ModerationService(
        states=DynamoStateRepository(boto3.client("dynamodb"), stack.ref("ReleasesTable")),
        publish=SqsPublishQueue(boto3.client("sqs"), stack.ref("PublishQueue")),
        clock=lambda: datetime.now(UTC),
    )


def _submit(client: ApiClient, **overrides: Any) -> str:
    response = client.post("/releases", personnel_release(**overrides))
    assert response.status == 202, response.body
    return str(response.json()["id"])


def test_each_decision_that_matters_mails_the_contact_once(world: Any, tmp_path: Path) -> None:
    stack, pipeline = world
    acme = api_client()
    moderation = _moderation(stack)
    sent_back = _submit(acme, headline="Acme release sent back")
    rejected = _submit(acme, headline="Acme release rejected")
    published = _submit(acme, headline="Acme release published then killed")
    pipeline.settle()
    assert _mail(tmp_path / "accepted") == []  # accepted: no mail
    moderation.decide(sent_back, 1, Decision(DecisionAction.REQUEST_CHANGES, "alice", note="Add a phone."))
    moderation.decide(rejected, 1, Decision(DecisionAction.REJECT, "alice", reason_codes=("not_newsworthy",)))
    moderation.decide(published, 1, Decision(DecisionAction.APPROVE, "alice"))
    pipeline.settle()
    SqsPublishQueue(boto3.client("sqs"), stack.ref("PublishQueue")).send(
        PublishMessage(release_id=published, version=1, action=PublishAction.KILL, reason="inappropriate")
    )
    pipeline.settle()
    for _ in range(3):
        pipeline.step()  # a redelivered job would send again: nothing more may come
    folder = tmp_path / "mail"
    mail = _mail(folder)
    subjects = sorted(m.header("Subject") for m in mail)
    assert subjects == [
        "[Rovers Newsroom] Changes requested: Acme release sent back",
        "[Rovers Newsroom] Not accepted: Acme release rejected",
        "[Rovers Newsroom] Published: Acme release published then killed",
        "[Rovers Newsroom] Taken down: Acme release published then killed",
    ]
    assert {m.header("To") for m in mail} == {"press@acme.example"}  # the releases' contact
    assert {m.header("From") for m in mail} == {"Rovers Newsroom <notifications@press-intake.test>"}
    for message in mail:
        assert message.part("plain")
        assert message.part("html")
    by_subject = {m.header("Subject"): m for m in mail}
    assert "Add a phone." in (by_subject[subjects[0]].part("plain") or "")
    assert "not_newsworthy" in (by_subject[subjects[1]].part("html") or "")
    assert f"/releases/{published}.html" in (by_subject[subjects[2]].part("plain") or "")
    # who decided stays internal
    assert "alice" not in "".join(m.raw.decode("utf-8", "replace") for m in mail)
    # each kept as an .eml file too, readable by its owner only
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 4
    assert all(oct(f.stat().st_mode & 0o777) == "0o600" for f in files)


def test_the_organisations_address_gets_the_mail_too(world: Any, tmp_path: Path) -> None:
    stack, pipeline = world
    DynamoWebhooks(boto3.client("dynamodb"), stack.ref("WebhooksTable")).set_notify_address(
        "org-acme", "office@acme.example"
    )
    acme = api_client()
    release = _submit(acme)
    pipeline.settle()
    _moderation(stack).decide(release, 1, Decision(DecisionAction.REJECT, "mod", reason_codes=("duplicate",)))
    pipeline.settle()
    assert sorted(m.header("To") for m in _mail(tmp_path)) == ["office@acme.example", "press@acme.example"]


def test_a_headline_cannot_add_recipients_or_markup(world: Any, tmp_path: Path) -> None:
    stack, pipeline = world
    acme = api_client()
    # Intake refuses control characters in a headline; what it allows is still only text in a mail
    release = _submit(acme, headline='Acme <img src=x onerror="alert(1)"> & Bcc: all@victims.example')
    pipeline.settle()
    _moderation(stack).decide(
        release, 1, Decision(DecisionAction.REJECT, "mod", reason_codes=("other",), note="<b>No</b>")
    )
    pipeline.settle()
    (message,) = _mail(tmp_path)
    assert message.header("Bcc") == ""
    assert "<img" not in (message.part("html") or "")
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; Bcc: all@victims.example" in (
        message.part("html") or ""
    )
    assert "&lt;b&gt;No&lt;/b&gt;" in (message.part("html") or "")


def test_without_a_sender_identity_no_mail_is_sent(
    aws: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The template's default: MailIdentity empty, so no identity, no mail job, no SES permission
    stack, functions = pipeline_stack(monkeypatch, parameters={})
    assert stack.function_environment("DeliveryFunction")["MAIL_FROM"] == ""
    assert "MailSenderIdentity" not in stack.resources()
    pipeline = Pipeline(stack, functions)
    acme = api_client()
    release = _submit(acme)
    pipeline.settle()
    _moderation(stack).decide(release, 1, Decision(DecisionAction.REJECT, "mod", reason_codes=("duplicate",)))
    pipeline.settle()
    assert _mail(tmp_path) == []
    assert pipeline.visible("EventsQueue") == 0
