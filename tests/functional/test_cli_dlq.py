"""`press-intake dlq list|redrive` against moto queues created from template.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from functions.adapters.sqs_events import SqsEventsQueue
from functions.adapters.sqs_site_refresh import SqsSiteRefresh
from functions.domain.delivery import RETRIES_EXHAUSTED
from functions.domain.messages import MailJob, ReleaseNotice, WebhookJob
from functions.domain.publish.shared import EntryChange
from infra.bootstrap import LocalStack
from tests.functional.conftest import receive_all
from tests.unit.publish.samples import entry

runner = CliRunner()


def _dead_letter(sqs: Any, stack: LocalStack, queue: str, bodies: list[str]) -> None:
    url = stack.ref(queue)
    for body in bodies:
        sqs.send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageAttributes={"category": {"DataType": "String", "StringValue": "sports"}},
        )


def test_list_shows_dead_letters_without_consuming_them(
    local_info: Path, stack: LocalStack, sqs: Any
) -> None:
    bodies = [json.dumps({"release_id": f"r{n}", "version": 1}) for n in range(12)]
    _dead_letter(sqs, stack, "ModerationDeadLetterQueue", bodies)

    listed = runner.invoke(app, ["dlq", "list", "--json"])

    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert sorted(r["body"] for r in rows) == sorted(bodies)
    assert all(r["sent_at"] for r in rows)
    # Still there, and visible at once for the next look
    again = json.loads(runner.invoke(app, ["dlq", "list", "--json"]).stdout)
    assert len(again) == 12
    table = runner.invoke(app, ["dlq", "list"]).stdout
    assert "moderation dead letters" in table


def test_redrive_moves_every_dead_letter_back_with_its_attributes(
    local_info: Path, stack: LocalStack, sqs: Any
) -> None:
    bodies = [json.dumps({"release_id": f"r{n}", "version": 1, "action": "publish"}) for n in range(13)]
    _dead_letter(sqs, stack, "PublishDeadLetterQueue", bodies)

    result = runner.invoke(app, ["dlq", "redrive", "--queue", "publish"])

    assert result.exit_code == 0, result.output
    assert "Moved 13 message(s)" in result.stdout
    assert receive_all(sqs, stack.ref("PublishDeadLetterQueue")) == []
    back = receive_all(sqs, stack.ref("PublishQueue"))
    assert sorted(m["Body"] for m in back) == sorted(bodies)
    assert all(m["MessageAttributes"]["category"]["StringValue"] == "sports" for m in back)
    assert receive_all(sqs, stack.ref("ModerationQueue")) == []  # the other queue is untouched


def test_empty_dead_letter_queue(local_info: Path) -> None:
    listed = runner.invoke(app, ["dlq", "list", "--queue", "publish"])
    assert listed.exit_code == 0
    assert "empty" in listed.stdout
    assert "Moved 0 message(s)" in runner.invoke(app, ["dlq", "redrive"]).stdout


def test_unknown_queue_is_a_usage_error(local_info: Path) -> None:
    result = runner.invoke(app, ["dlq", "list", "--queue", "outbox"])
    assert result.exit_code == 2
    assert "Invalid value" in result.output


def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal wide enough that the table shows every cell whole (as an operator widens it)."""
    monkeypatch.setenv("COLUMNS", "400")


def test_list_events_shows_each_dead_letter_with_why_it_is_there(
    local_info: Path, stack: LocalStack, sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the events dead-letter queue with a webhook job the delivery function gave up on
    # after 24 hours (with its reason) and an e-mail job SQS moved there after maxReceiveCount (no reason)
    dead = SqsEventsQueue(sqs, stack.ref("EventsQueue"), stack.ref("EventsDeadLetterQueue"))
    webhook = WebhookJob(
        event_id="msg_2a", event_type="release.published", org_id="org-acme", webhook_id="wh_1", payload="{}"
    )
    dead.dead_letter(webhook, failure=RETRIES_EXHAUSTED, detail="41 attempts over 24 hours; last: HTTP 500")
    mail = MailJob(
        event_id="msg_2b",
        event_type="release.decided",
        org_id="org-acme",
        recipient="press@acme.example",
        notice=ReleaseNotice(release_id="r1", version=1, headline="Acme", status="rejected"),
    )
    SqsEventsQueue(sqs, stack.ref("EventsDeadLetterQueue")).send(mail)

    # When an operator lists them as JSON
    listed = runner.invoke(app, ["dlq", "list", "--queue", "events", "--json"])

    # Then each job is there as sent, with the reason the delivery function recorded, or none
    assert listed.exit_code == 0, listed.output
    rows = {row["body"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {webhook.body(), mail.body()}
    assert (rows[webhook.body()]["reason"], rows[webhook.body()]["detail"]) == (
        "retries_exhausted",
        "41 attempts over 24 hours; last: HTTP 500",
    )
    assert (rows[mail.body()]["reason"], rows[mail.body()]["detail"]) == (None, None)
    assert all(row["sent_at"] and row["message_id"] for row in rows.values())

    # And as a table, each one's id, reason and body, the events queue's only
    _wide(monkeypatch)
    table = runner.invoke(app, ["dlq", "list", "--queue", "events"])
    assert table.exit_code == 0, table.output
    assert "events dead letters" in table.stdout
    assert "retries_exhausted: 41 attempts over 24 hours; last: HTTP 500" in table.stdout
    assert "failed every delivery (no reason recorded)" in table.stdout
    for row in rows.values():
        assert row["message_id"] in table.stdout
    assert '"webhook_id":"wh_1"' in table.stdout
    assert "empty" in runner.invoke(app, ["dlq", "list", "--queue", "publish"]).stdout


def test_list_site_refresh_shows_a_dead_lettered_request(
    local_info: Path, stack: LocalStack, sqs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a site-refresh request SQS moved to the (FIFO) dead-letter queue after maxReceiveCount
    SqsSiteRefresh(sqs, stack.ref("SiteRefreshDeadLetterQueue")).request([EntryChange.published(entry(1))])
    [sent] = receive_all(sqs, stack.ref("SiteRefreshDeadLetterQueue"))
    sqs.change_message_visibility(
        QueueUrl=stack.ref("SiteRefreshDeadLetterQueue"),
        ReceiptHandle=sent["ReceiptHandle"],
        VisibilityTimeout=0,
    )

    # When an operator lists the site-refresh dead letters as JSON
    listed = runner.invoke(app, ["dlq", "list", "--queue", "site-refresh", "--json"])

    # Then the request is there as sent, with no reason (SQS moved it), and stays there
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["message_id"], row["body"]) == (sent["MessageId"], sent["Body"])
    assert (row["reason"], row["detail"]) == (None, None)
    assert row["sent_at"]
    assert "changes" in json.loads(row["body"])

    # And as a table: the queue's name, its id and why it is there
    _wide(monkeypatch)
    table = runner.invoke(app, ["dlq", "list", "--queue", "site-refresh"])
    assert table.exit_code == 0, table.output
    assert "site-refresh dead letters" in table.stdout
    assert sent["MessageId"] in table.stdout
    assert "failed every delivery (no reason recorded)" in table.stdout
    assert (
        len(json.loads(runner.invoke(app, ["dlq", "list", "--queue", "site-refresh", "--json"]).stdout)) == 1
    )
