"""``press-intake stats [--json]``: the operations dashboard's figures, in the terminal.

The same figures as the template's ``OperationsDashboard``, over the last ``--minutes``:
submissions, decisions and publications per minute, the moderation, publish, events, media and site-refresh
verification queues (depth, oldest message), their dead-letter queues, the API's 4xx/5xx per
minute and p99 latency, and the publication lag after ``release_at`` (or approval).

- A deployed stack (``--stack NAME``): CloudWatch ``GetMetricData`` on the very metrics the
  dashboard shows (Powertools' metrics of the functions, AWS's of SQS and API Gateway).
- The local stack: the queues' attributes (exact) and the state table (every release's
  timestamps), which is what the local stack has: nothing collects metrics there. Decisions
  are read from each release's last decision (a release decided twice in the window counts
  once), the oldest "message" is the release waiting longest in that state, and the API's
  figures are not counted (``null``; the local stack's log shows every request's status and
  time). ``notes`` in the output says which figures are approximate.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlparse

import typer
from rich.console import Console
from rich.table import Table

from cli.common import target_from
from cli.target import Target

console = Console()

# What the functions' metrics are filed under: template.yaml's Globals (tests/unit checks it).
NAMESPACE = "PressIntake"
SERVICE = "press-intake"
SUBMISSIONS = ("ReleaseSubmitted",)  # new releases (revisions are ReleaseRevised)
PUBLICATIONS = ("ReleasePublished",)
QUEUES = {  # name -> (queue output, dead-letter queue output)
    "moderation": ("ModerationQueueUrl", "ModerationDeadLetterQueueUrl"),
    "publish": ("PublishQueueUrl", "PublishDeadLetterQueueUrl"),
    "events": ("EventsQueueUrl", "EventsDeadLetterQueueUrl"),  # webhook and e-mail deliveries
    "media": ("MediaVerificationQueueUrl", "MediaDeadLetterQueueUrl"),  # uploads to verify
    # the one writer of the newsroom's shared objects (index, feeds, sitemaps), fed per batch
    "site-refresh": ("SiteRefreshQueueUrl", "SiteRefreshDeadLetterQueueUrl"),
}


@dataclass
class QueueFigures:
    depth: int | None  # messages waiting (visible)
    in_flight: int | None  # received, not yet deleted
    oldest_seconds: float | None  # age of the oldest waiting message
    dead_letters: int | None  # in its dead-letter queue


@dataclass
class Figures:
    source: str
    window_minutes: int
    at: str
    submissions_per_minute: float | None
    decisions_per_minute: float | None
    publications_per_minute: float | None
    queues: dict[str, QueueFigures]
    api_4xx_per_minute: float | None
    api_5xx_per_minute: float | None
    api_latency_p99_ms: float | None
    publication_lag_seconds: dict[str, float | None]
    notes: list[str] = field(default_factory=list)


def stats(
    ctx: typer.Context,
    minutes: Annotated[
        int, typer.Option("--minutes", min=1, max=1440, help="The window the rates and the lag cover.")
    ] = 60,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The dashboard's figures: flow per minute, queues, dead letters, the API, publication lag."""
    target = target_from(ctx.obj)
    now = datetime.now(UTC)
    figures = local_figures(target, now, minutes) if target.local else deployed_figures(target, now, minutes)
    if as_json:
        typer.echo(json.dumps(asdict(figures), indent=2))
        return
    _print(figures)


# ---------------------------------------------------------------------------------------------
# The local stack: queue attributes and the state table
# ---------------------------------------------------------------------------------------------


def _queue_counts(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _decided_at(record: Any) -> datetime | None:
    decided = (record.decision or {}).get("decided_at")
    return datetime.fromisoformat(decided) if isinstance(decided, str) else None


def _lag(values: list[float]) -> dict[str, float | None]:
    ordered = sorted(values)

    def rank(p: float) -> float | None:
        return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else None

    return {"p50": rank(50), "p99": rank(99), "max": ordered[-1] if ordered else None}


def local_figures(target: Target, now: datetime, minutes: int) -> Figures:
    from functions.domain.publish.service import publication_lag
    from functions.domain.states import Status

    since = now - timedelta(minutes=minutes)
    from functions.adapters.dynamodb_state import DynamoStateRepository

    states = DynamoStateRepository(target.client("dynamodb"), target.output("ReleasesTableName"))
    records = list(states.every_release())
    submitted = sum(since <= r.created_at <= now for r in records)
    decided = [r for r in records if (at := _decided_at(r)) is not None and since <= at <= now]
    published = [r for r in records if r.published_at is not None and since <= r.published_at <= now]
    lags = [
        lag
        for r in published
        if r.published_at is not None and (lag := publication_lag(r, r.published_at)) is not None
    ]
    waiting = {
        "moderation": [now - r.updated_at for r in records if r.status is Status.PENDING_REVIEW],
        "publish": [now - (_decided_at(r) or r.updated_at) for r in records if r.status is Status.APPROVED],
    }
    sqs = target.client("sqs")
    queues = {}
    for name, (queue, dead) in QUEUES.items():
        depth, in_flight = _queue_counts(sqs, target.output(queue))
        oldest = max(
            waiting.get(name, ()), default=None
        )  # events, media, site-refresh: nothing in the state table ages them
        queues[name] = QueueFigures(
            depth=depth,
            in_flight=in_flight,
            oldest_seconds=round(oldest.total_seconds(), 1) if oldest is not None else None,
            dead_letters=_queue_counts(sqs, target.output(dead))[0],
        )
    return Figures(
        source="local stack: queue attributes and the state table",
        window_minutes=minutes,
        at=now.isoformat(),
        submissions_per_minute=round(submitted / minutes, 3),
        decisions_per_minute=round(len(decided) / minutes, 3),
        publications_per_minute=round(len(published) / minutes, 3),
        queues=queues,
        api_4xx_per_minute=None,
        api_5xx_per_minute=None,
        api_latency_p99_ms=None,
        publication_lag_seconds=_lag(lags),
        notes=[
            "Decisions: each release's last decision, if made in the window (earlier ones are overwritten).",
            "Oldest message: the release waiting longest for a moderator (pending_review) or, for the "
            "publish queue, approved and not yet published; not the queue's own message age.",
            "API figures are not counted by the local stack (its log shows each request's status and time).",
        ],
    )


# ---------------------------------------------------------------------------------------------
# A deployed stack: CloudWatch GetMetricData, the dashboard's metrics
# ---------------------------------------------------------------------------------------------


def _queue_name(url: str) -> str:
    return urlparse(url).path.rstrip("/").rsplit("/", 1)[-1]


def _query(
    key: str, namespace: str, metric: str, dimensions: dict[str, str], stat: str, period: int
) -> dict[str, Any]:
    return {
        "Id": key,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": n, "Value": v} for n, v in dimensions.items()],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def deployed_figures(target: Target, now: datetime, minutes: int) -> Figures:
    window = minutes * 60
    own = {"service": SERVICE}
    api_url = urlparse(target.output("ApiUrl"))
    api = {"ApiName": f"{target.stack_name}-api", "Stage": api_url.path.strip("/").split("/")[0]}
    queries: list[dict[str, Any]] = []
    for index, metric in enumerate(SUBMISSIONS):
        queries.append(_query(f"submitted{index}", NAMESPACE, metric, own, "Sum", window))
    for index, metric in enumerate(PUBLICATIONS):
        queries.append(_query(f"published{index}", NAMESPACE, metric, own, "Sum", window))
    moderation = {"QueueName": _queue_name(target.output("ModerationQueueUrl"))}
    queries.append(_query("decided", "AWS/SQS", "NumberOfMessagesDeleted", moderation, "Sum", window))
    for name, (queue, dead) in QUEUES.items():
        queue_dims = {"QueueName": _queue_name(target.output(queue))}
        dead_dims = {"QueueName": _queue_name(target.output(dead))}
        queries += [
            _query(
                f"{name}_depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", queue_dims, "Maximum", 60
            ),
            _query(
                f"{name}_in_flight",
                "AWS/SQS",
                "ApproximateNumberOfMessagesNotVisible",
                queue_dims,
                "Maximum",
                60,
            ),
            _query(f"{name}_oldest", "AWS/SQS", "ApproximateAgeOfOldestMessage", queue_dims, "Maximum", 60),
            _query(f"{name}_dead", "AWS/SQS", "ApproximateNumberOfMessagesVisible", dead_dims, "Maximum", 60),
        ]
    queries += [
        _query("api4xx", "AWS/ApiGateway", "4XXError", api, "Sum", window),
        _query("api5xx", "AWS/ApiGateway", "5XXError", api, "Sum", window),
        _query("latency", "AWS/ApiGateway", "Latency", api, "p99", window),
        _query("lag_p50", NAMESPACE, "PublicationLag", own, "p50", window),
        _query("lag_p99", NAMESPACE, "PublicationLag", own, "p99", window),
        _query("lag_max", NAMESPACE, "PublicationLag", own, "Maximum", window),
    ]
    values = _metric_data(target.client("cloudwatch"), queries, now - timedelta(seconds=window), now)

    def latest(key: str) -> float | None:
        series = values.get(key) or []
        return series[0] if series else None  # newest first

    def total(*keys: str) -> float | None:
        found = [sum(values[k]) for k in keys if values.get(k)]
        return sum(found) if found else (0.0 if all(k in values for k in keys) else None)

    def per_minute(*keys: str) -> float | None:
        summed = total(*keys)
        return None if summed is None else round(summed / minutes, 3)

    def count(key: str) -> int | None:
        value = latest(key)
        return None if value is None else int(value)

    queues = {
        name: QueueFigures(
            depth=count(f"{name}_depth"),
            in_flight=count(f"{name}_in_flight"),
            oldest_seconds=latest(f"{name}_oldest"),
            dead_letters=count(f"{name}_dead"),
        )
        for name in QUEUES
    }
    return Figures(
        source=f"CloudWatch, {target.description}",
        window_minutes=minutes,
        at=now.isoformat(),
        submissions_per_minute=per_minute(*(f"submitted{i}" for i in range(len(SUBMISSIONS)))),
        decisions_per_minute=per_minute("decided"),
        publications_per_minute=per_minute(*(f"published{i}" for i in range(len(PUBLICATIONS)))),
        queues=queues,
        api_4xx_per_minute=per_minute("api4xx"),
        api_5xx_per_minute=per_minute("api5xx"),
        api_latency_p99_ms=latest("latency"),
        publication_lag_seconds={
            "p50": latest("lag_p50"),
            "p99": latest("lag_p99"),
            "max": latest("lag_max"),
        },
        notes=[
            "Decisions: messages deleted from the moderation queue (each decision deletes its message; "
            "a moderator skipping a withdrawn release deletes one too).",
            "Queue figures are SQS's latest one-minute maxima (SQS publishes them every minute or so); "
            "null means CloudWatch has no datapoint in the window.",
        ],
    )


def _metric_data(
    cloudwatch: Any, queries: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, list[float]]:
    """Values per query id, newest first (GetMetricData takes at most 500 queries a call)."""
    values: dict[str, list[float]] = {}
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampDescending",
        }
        if token:
            kwargs["NextToken"] = token
        response = cloudwatch.get_metric_data(**kwargs)
        for result in response.get("MetricDataResults", []):
            values.setdefault(result["Id"], []).extend(float(v) for v in result.get("Values", []))
        token = response.get("NextToken")
        if not token:
            return values


# ---------------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------------


def _shown(value: float | int | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    text = f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
    return f"{text} {unit}".rstrip()


def _print(figures: Figures) -> None:
    table = Table(title=f"press-intake, last {figures.window_minutes} min ({figures.source})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("submissions per minute", _shown(figures.submissions_per_minute))
    table.add_row("decisions per minute", _shown(figures.decisions_per_minute))
    table.add_row("publications per minute", _shown(figures.publications_per_minute))
    for name, queue in figures.queues.items():
        table.add_row(
            f"{name} queue: waiting / in flight", f"{_shown(queue.depth)} / {_shown(queue.in_flight)}"
        )
        table.add_row(f"{name} queue: oldest", _shown(queue.oldest_seconds, "s"))
        table.add_row(f"{name} dead-letter queue", _shown(queue.dead_letters))
    table.add_row("API 4xx per minute", _shown(figures.api_4xx_per_minute))
    table.add_row("API 5xx per minute", _shown(figures.api_5xx_per_minute))
    table.add_row("API latency p99", _shown(figures.api_latency_p99_ms, "ms"))
    lag = figures.publication_lag_seconds
    table.add_row(
        "publication lag p50 / p99 / max",
        " / ".join(_shown(lag.get(k), "s") for k in ("p50", "p99", "max")),
    )
    console.print(table)
    for note in figures.notes:
        console.print(f"  note: {note}", soft_wrap=True, highlight=False)
