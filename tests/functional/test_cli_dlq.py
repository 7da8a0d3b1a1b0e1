"""`press-intake dlq list|redrive` against moto queues created from template.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from cli.main import app
from infra.bootstrap import LocalStack
from tests.functional.conftest import receive_all

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
