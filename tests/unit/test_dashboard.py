"""The operations dashboard in template.yaml: valid JSON, and every figure on it exists."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra.template import Physical, Resolver, load_template, resources_of_type

STACK = "press-intake"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def resolver(template: dict[str, Any]) -> Resolver:
    # Every resource as CloudFormation would name it: a queue's QueueName is "<logical id>-name"
    physical = {
        name: Physical(ref=f"{name}-ref", attributes={"QueueName": f"{name}-name", "Arn": f"arn:{name}"})
        for name in template["Resources"]
    }
    return Resolver(
        template=template, stack_name=STACK, region="eu-west-1", account_id="1", physical=physical
    )


@pytest.fixture(scope="module")
def widgets(template: dict[str, Any], resolver: Resolver) -> list[dict[str, Any]]:
    (dashboard,) = resources_of_type(template, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(resolver.resolve(dashboard["Properties"]["DashboardBody"]))
    return [w["properties"] for w in body["widgets"]]


def metrics_of(widgets: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric, dimensions) of every line of every widget."""
    lines = []
    for widget in widgets:
        for line in widget["metrics"]:
            names = [part for part in line if isinstance(part, str)]
            namespace, metric, *dims = names
            lines.append((namespace, metric, dict(zip(dims[::2], dims[1::2], strict=True))))
    return lines


def emitted_metric_names() -> set[str]:
    """What the functions emit with Powertools: literal add_metric names and the publisher's."""
    from functions.handlers.publisher import _METRICS

    found = set(_METRICS.values())
    for source in (ROOT / "functions").rglob("*.py"):
        found |= set(re.findall(r'add_metric\(\s*name="(\w+)"', source.read_text(encoding="utf-8")))
    return found


def test_the_dashboard_body_is_json_with_a_titled_metric_widget_per_figure(
    widgets: list[dict[str, Any]],
) -> None:
    titles = [w["title"] for w in widgets]
    assert len(titles) == len(set(titles)) == 9
    assert all(w["region"] == "eu-west-1" for w in widgets)
    assert all(w["metrics"] for w in widgets)


def test_every_own_metric_on_it_is_emitted_by_the_code(
    widgets: list[dict[str, Any]], template: dict[str, Any]
) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    own = [(m, d) for ns, m, d in metrics_of(widgets) if ns == variables["POWERTOOLS_METRICS_NAMESPACE"]]
    assert {m for m, _ in own} <= emitted_metric_names()
    assert {"ReleaseSubmitted", "ReleasePublished", "PublicationLag"} <= {m for m, _ in own}
    # Powertools adds the service as the one dimension
    assert all(d == {"service": variables["POWERTOOLS_SERVICE_NAME"]} for _, d in own)
    # And no other namespace is made up: only AWS's own
    assert {ns for ns, _, _ in metrics_of(widgets)} == {
        variables["POWERTOOLS_METRICS_NAMESPACE"],
        "AWS/SQS",
        "AWS/ApiGateway",
    }


def test_every_queue_shows_depth_and_every_dead_letter_queue_is_on_it(
    widgets: list[dict[str, Any]], template: dict[str, Any]
) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")
    dead = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in queues.values()
        if "RedrivePolicy" in (q.get("Properties") or {})
    }
    shown: dict[str, set[str]] = {}
    for namespace, metric, dims in metrics_of(widgets):
        if namespace == "AWS/SQS":
            logical = dims["QueueName"].removesuffix("-name")
            assert logical in queues, dims
            shown.setdefault(logical, set()).add(metric)
    assert dead == {
        "ModerationDeadLetterQueue",
        "PublishDeadLetterQueue",
        "SiteRefreshDeadLetterQueue",
        "EventsDeadLetterQueue",
        "MediaDeadLetterQueue",
    }
    assert all("ApproximateNumberOfMessagesVisible" in shown[q] for q in dead)
    for source in set(queues) - dead:
        assert {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"} <= shown[source]


def test_the_api_figures_name_the_stack_api_and_its_stage(
    widgets: list[dict[str, Any]], template: dict[str, Any], resolver: Resolver
) -> None:
    (api,) = resources_of_type(template, "AWS::Serverless::Api").values()
    expected = {"ApiName": resolver.resolve(api["Properties"]["Name"]), "Stage": resolver.ref("StageName")}
    api_lines = [(m, d) for ns, m, d in metrics_of(widgets) if ns == "AWS/ApiGateway"]
    assert {m for m, _ in api_lines} == {"4XXError", "5XXError", "Latency"}
    assert all(d == expected for _, d in api_lines)
    (latency,) = [w for w in widgets if any("Latency" in line for line in w["metrics"])]
    assert latency["stat"] == "p99"
