"""``press-intake dlq list|redrive``: dead letters of the moderation, publish, site-refresh and
events queues."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.common import target_from
from functions.adapters.sqs_publish import FAILURE, FAILURE_DETAIL

app = typer.Typer(help="Inspect and redrive dead-letter queues.", no_args_is_help=True)
console = Console()

PEEK_SECONDS = 5
NO_REASON = "failed every delivery (no reason recorded)"


class QueueName(StrEnum):
    moderation = "moderation"
    publish = "publish"
    site_refresh = "site-refresh"
    events = "events"


_OUTPUTS = {
    QueueName.moderation: ("ModerationQueueUrl", "ModerationDeadLetterQueueUrl"),
    QueueName.publish: ("PublishQueueUrl", "PublishDeadLetterQueueUrl"),
    QueueName.site_refresh: ("SiteRefreshQueueUrl", "SiteRefreshDeadLetterQueueUrl"),
    QueueName.events: ("EventsQueueUrl", "EventsDeadLetterQueueUrl"),
}


def _queues(ctx: typer.Context, queue: QueueName) -> tuple[Any, str, str]:
    target = target_from(ctx.obj)
    source, dead = (target.output(name) for name in _OUTPUTS[queue])
    return target.client("sqs"), source, dead


def _attribute(message: dict[str, Any], name: str) -> str | None:
    value = (message.get("MessageAttributes") or {}).get(name) or {}
    return str(value["StringValue"]) if value.get("StringValue") else None


def peek(sqs: Any, url: str, limit: int) -> list[dict[str, Any]]:
    """Read up to ``limit`` messages without consuming them (they become visible again at once)."""
    seen: dict[str, dict[str, Any]] = {}
    while len(seen) < limit:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, limit - len(seen)),
            VisibilityTimeout=PEEK_SECONDS,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen[message["MessageId"]] = message
    for message in seen.values():
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return list(seen.values())


@app.command("list")
def list_dead_letters(
    ctx: typer.Context,
    queue: Annotated[
        QueueName, typer.Option("--queue", help="Which queue's dead letters.")
    ] = QueueName.moderation,
    limit: Annotated[int, typer.Option("--max", min=1, max=1000, help="At most this many.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Show the messages waiting in a dead-letter queue (without consuming them)."""
    sqs, _, dead = _queues(ctx, queue)
    messages = peek(sqs, dead, limit)
    rows = [
        {
            "message_id": m["MessageId"],
            "body": m["Body"],
            "sent_at": datetime.fromtimestamp(int(m["Attributes"]["SentTimestamp"]) / 1000, UTC).isoformat()
            if "SentTimestamp" in m.get("Attributes", {})
            else None,
            "receive_count": int(m.get("Attributes", {}).get("ApproximateReceiveCount", 0)),
            # Set when the publisher or the delivery function dead-lettered the message itself
            # (a release it cannot render, a webhook that failed for 24 hours); absent when SQS
            # moved it after maxReceiveCount failed deliveries.
            "reason": _attribute(m, FAILURE),
            "detail": _attribute(m, FAILURE_DETAIL),
        }
        for m in messages
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        console.print(f"The {queue.value} dead-letter queue is empty.")
        return
    table = Table(title=f"{queue.value} dead letters")
    table.add_column("message id", no_wrap=True)
    table.add_column("sent", no_wrap=True)
    table.add_column("reason", overflow="fold")
    table.add_column("body", overflow="fold")
    for row in rows:
        reason = f"{row['reason']}: {row['detail'] or ''}" if row["reason"] else NO_REASON
        table.add_row(row["message_id"], (row["sent_at"] or "")[:19], escape(reason), escape(row["body"]))
    console.print(table)


@app.command()
def redrive(
    ctx: typer.Context,
    queue: Annotated[
        QueueName, typer.Option("--queue", help="Which queue's dead letters.")
    ] = QueueName.moderation,
) -> None:
    """Move every dead letter back to its queue for another try."""
    sqs, source, dead = _queues(ctx, queue)
    moved = move_all(sqs, dead, source)
    console.print(f"Moved {moved} message(s) from the {queue.value} dead-letter queue back to its queue.")


def move_all(sqs: Any, from_url: str, to_url: str) -> int:
    """Receive -> send -> delete, ten at a time: a message is deleted only once its copy is sent.

    SQS's own StartMessageMoveTask is asynchronous and absent from the local stand-in (moto);
    this loop works the same everywhere and says how many it moved. From a FIFO queue (the
    site-refresh one) each message keeps its group and order; its deduplication id is its
    message id, so a move interrupted between send and delete and run again sends it once.
    """
    fifo = to_url.endswith(".fifo")
    moved = 0
    while True:
        batch = sqs.receive_message(
            QueueUrl=from_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=30,
            AttributeNames=["MessageGroupId"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            return moved
        entries = []
        for index, message in enumerate(batch):
            entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            if fifo:
                entry["MessageGroupId"] = (message.get("Attributes") or {}).get("MessageGroupId") or "site"
                entry["MessageDeduplicationId"] = f"redrive-{message['MessageId']}"
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=to_url, Entries=entries)
        ok = {item["Id"] for item in sent.get("Successful", [])}
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch) if str(i) in ok
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=from_url, Entries=done)
        moved += len(done)
        if len(done) < len(batch):
            failed = [f.get("Message", "") for f in sent.get("Failed", [])]
            raise RuntimeError(f"{len(batch) - len(done)} message(s) could not be moved: {failed}")
