"""`press-intake keys` through typer's runner, against moto resources from template.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from cli.main import app
from functions.domain import keys
from infra.bootstrap import LocalStack
from infra.lambdas import LocalFunctions

runner = CliRunner()


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def test_create_prints_the_key_once_and_stores_only_its_hash(
    local_info: Path, stack: LocalStack, dynamodb: Any
) -> None:
    result = _run("keys", "create", "--org", "org-acme", "--name", "Acme Corporation", "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["key"].startswith(f"pik_{created['key_id']}_")
    item = dynamodb.get_item(TableName=stack.ref("KeysTable"), Key={"key_id": {"S": created["key_id"]}})[
        "Item"
    ]
    parsed = keys.parse_token(created["key"])
    assert parsed is not None
    assert parsed.secret not in json.dumps(item)
    assert item["status"]["S"] == "active"
    assert item["org_name"]["S"] == "Acme Corporation"


def test_created_key_authorizes_requests(local_info: Path, functions_env: LocalFunctions) -> None:
    created = json.loads(_run("keys", "create", "--org", "org-acme", "--name", "Acme", "--json").stdout)
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api/v1/GET/releases",
        "headers": {"Authorization": f"Bearer {created['key']}"},
        "requestContext": {"requestId": "r"},
    }
    assert functions_env.invoke("AuthorizerFunction", event)["context"]["org_id"] == "org-acme"


def test_human_output_warns_the_secret_is_shown_once(local_info: Path) -> None:
    result = _run("keys", "create", "--org", "org-acme", "--name", "Acme")
    assert result.exit_code == 0
    assert "pik_" in result.stdout
    assert "cannot be shown again" in result.stdout


def test_list_never_prints_secrets(local_info: Path) -> None:
    a = json.loads(_run("keys", "create", "--org", "org-acme", "--name", "Acme", "--json").stdout)
    b = json.loads(_run("keys", "create", "--org", "org-rovers", "--name", "Rovers FC", "--json").stdout)
    everything = _run("keys", "list", "--json")
    assert everything.exit_code == 0
    rows = json.loads(everything.stdout)
    assert {r["key_id"] for r in rows} == {a["key_id"], b["key_id"]}
    for created in (a, b):
        parsed = keys.parse_token(created["key"])
        assert parsed is not None
        assert parsed.secret not in everything.stdout
        assert parsed.secret not in _run("keys", "list").stdout
    assert "secret_hash" not in everything.stdout
    only_rovers = json.loads(_run("keys", "list", "--org", "org-rovers", "--json").stdout)
    assert [r["key_id"] for r in only_rovers] == [b["key_id"]]
    table = _run("keys", "list").stdout
    assert "Rovers FC" in table
    assert a["key_id"] in table


def test_revoke_marks_the_key_and_says_when_it_takes_effect(local_info: Path) -> None:
    created = json.loads(_run("keys", "create", "--org", "org-acme", "--name", "Acme", "--json").stdout)
    result = _run("keys", "revoke", created["key_id"])
    assert result.exit_code == 0, result.output
    assert "60 seconds" in result.stdout
    rows = json.loads(_run("keys", "list", "--json").stdout)
    assert rows[0]["status"] == "revoked"
    assert rows[0]["revoked_at"]
    assert _run("keys", "revoke", created["key_id"]).exit_code == 0  # twice is harmless


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "--org", "Acme Corp", "--name", "Acme"], "--org must be"),
        (["keys", "create", "--org", "org-acme", "--name", "   "], "--name must be"),
        (["keys", "create", "--org", "org-acme", "--name", "Acme", "--role", "admin"], "--role must be"),
        (["keys", "create", "--name", "Acme"], "Missing option '--org'"),
        (["keys", "create", "--org", "org-acme"], "Missing option '--name'"),
        (["keys", "revoke", "not-a-key-id"], "is not a key id"),
        (["keys", "revoke"], "Missing argument"),
        (["keys", "list", "--org", "BAD ORG"], "--org must be"),
        (["--stack", "x", "--local", "keys", "list"], "either --stack NAME or --local"),
        (["keys", "frobnicate"], "No such command"),
    ],
)
def test_usage_errors_exit_2_with_a_message(local_info: Path, args: list[str], message: str) -> None:
    result = _run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_revoking_an_unknown_key_exits_1(local_info: Path) -> None:
    result = _run("keys", "revoke", "a" * 16)
    assert result.exit_code == 1
    assert "no key aaaaaaaaaaaaaaaa" in result.output


def test_without_a_stack_or_local_info_the_command_says_what_to_do(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run("keys", "list")
    assert result.exit_code == 2
    assert "press-intake local" in result.output
    assert "--stack" in result.output


def test_a_broken_info_file_is_a_clear_error(local_info: Path) -> None:
    local_info.write_text("{not json")
    result = _run("keys", "list")
    assert result.exit_code == 2
    assert "not valid JSON" in result.output


def test_an_unknown_stack_is_a_clear_error(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run("--stack", "no-such-stack", "keys", "list")
    assert result.exit_code == 2
    assert "no-such-stack" in result.output
    assert "Traceback" not in result.output


def test_aws_failures_are_one_line_exit_1(local_info: Path, stack: LocalStack, dynamodb: Any) -> None:
    dynamodb.delete_table(TableName=stack.ref("KeysTable"))
    result = _run("keys", "list")
    assert result.exit_code == 1
    assert "ResourceNotFoundException" in result.output
    assert "Traceback" not in result.output


# -- per-organisation limits ----------------------------------------------------------------------


def _plan_of(stack: LocalStack, org: str) -> dict[str, Any]:
    import boto3

    apigateway = boto3.client("apigateway")
    (key,) = [k for k in apigateway.get_api_keys()["items"] if k["name"].endswith(f"/{org}")]
    (plan,) = apigateway.get_usage_plans(keyId=key["id"])["items"]
    return dict(plan)


def test_create_puts_the_organisation_in_the_default_plan_once(
    local_info: Path, stack: LocalStack, dynamodb: Any
) -> None:
    outputs = [
        _run("keys", "create", "--org", "org-acme", "--name", "Acme", "--json").stdout for _ in range(2)
    ]
    first, second = (json.loads(output) for output in outputs)
    assert first["limits"] == second["limits"]
    assert first["limits"]["plan"] == "default"
    assert (first["limits"]["rate"], first["limits"]["burst"]) == (10, 20)
    assert _plan_of(stack, "org-acme")["id"] == stack.ref("OrganisationsUsagePlan")
    # Both keys carry the organisation's one usage key, whose value is never printed
    items = [
        dynamodb.get_item(TableName=stack.ref("KeysTable"), Key={"key_id": {"S": created["key_id"]}})["Item"]
        for created in (first, second)
    ]
    assert items[0]["usage_key"] == items[1]["usage_key"]
    value = items[0]["usage_key"]["S"]
    assert all(value not in output for output in outputs)
    assert value not in _run("keys", "list", "--json").stdout


def test_create_with_rate_and_burst_gives_the_organisation_its_own_plan(
    local_info: Path, stack: LocalStack
) -> None:
    result = _run("keys", "create", "--org", "org-big", "--name", "Big", "--rate", "50", "--burst", "80")
    assert result.exit_code == 0, result.output
    assert "50 requests/s, bursts of 80 (its own plan)" in result.stdout
    plan = _plan_of(stack, "org-big")
    assert plan["throttle"] == {"rateLimit": 50.0, "burstLimit": 80}
    assert plan["id"] != stack.ref("OrganisationsUsagePlan")


def test_limits_shows_sets_and_resets_an_organisations_limits(local_info: Path, stack: LocalStack) -> None:
    _run("keys", "create", "--org", "org-acme", "--name", "Acme")
    shown = _run("keys", "limits", "--org", "org-acme")
    assert shown.exit_code == 0, shown.output
    assert "10 requests/s, bursts of 20 (the default plan)" in shown.stdout
    # A limit not given keeps its current value
    raised_output = _run("keys", "limits", "--org", "org-acme", "--rate", "30", "--json").stdout
    assert '"rate": 30,' in raised_output  # a whole number, as given
    raised = json.loads(raised_output)
    assert (raised["plan"], raised["rate"], raised["burst"]) == ("own", 30, 20)
    lowered = json.loads(_run("keys", "limits", "--org", "org-acme", "--burst", "5", "--json").stdout)
    assert (lowered["rate"], lowered["burst"], lowered["usage_plan_id"]) == (30, 5, raised["usage_plan_id"])
    reset = json.loads(_run("keys", "limits", "--org", "org-acme", "--default", "--json").stdout)
    assert (reset["plan"], reset["rate"], reset["burst"]) == ("default", 10, 20)
    assert _plan_of(stack, "org-acme")["id"] == stack.ref("OrganisationsUsagePlan")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "create", "--org", "org-acme", "--name", "Acme", "--rate", "0"], "--rate"),
        (["keys", "create", "--org", "org-acme", "--name", "Acme", "--burst", "-3"], "--burst"),
        (["keys", "limits", "--org", "org-acme", "--rate", "ten"], "--rate"),
        (["keys", "limits", "--org", "org-acme", "--rate", "20000"], "the rate must be"),
        (["keys", "limits", "--org", "org-acme", "--burst", "6000"], "the burst must be"),
        (["keys", "limits", "--org", "org-acme", "--default", "--rate", "5"], "--default cannot be combined"),
        (["keys", "limits", "--org", "Not An Org"], "--org must be"),
        (["keys", "limits"], "Missing option '--org'"),
    ],
)
def test_limits_usage_errors_exit_2(local_info: Path, args: list[str], message: str) -> None:
    _run("keys", "create", "--org", "org-acme", "--name", "Acme")
    result = _run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_limits_of_an_organisation_without_keys_exits_1(local_info: Path) -> None:
    result = _run("keys", "limits", "--org", "org-nobody", "--rate", "5", "--burst", "5")
    assert result.exit_code == 1
    assert "no keys for organisation org-nobody" in result.output


def test_notify_sets_shows_and_clears_an_organisations_notification_address(
    local_info: Path, stack: LocalStack
) -> None:
    from functions.adapters.dynamodb_webhooks import DynamoWebhooks

    # Given an organisation with a key
    _run("keys", "create", "--org", "org-acme", "--name", "Acme", "--json")
    # When its notification address is set
    result = _run("keys", "notify", "--org", "org-acme", "--email", "office@acme.example", "--json")
    # Then it is kept where the events function reads it, and shown
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"org_id": "org-acme", "notify_address": "office@acme.example"}
    hooks = DynamoWebhooks(boto3.client("dynamodb"), stack.ref("WebhooksTable"))
    assert hooks.organisation("org-acme").notify_address == "office@acme.example"
    assert "office@acme.example" in _run("keys", "notify", "--org", "org-acme").stdout
    # and --clear removes it
    cleared = _run("keys", "notify", "--org", "org-acme", "--clear", "--json")
    assert json.loads(cleared.stdout)["notify_address"] is None
    assert hooks.organisation("org-acme").notify_address is None


def test_notify_refuses_what_is_not_an_address_or_not_an_organisation(local_info: Path) -> None:
    _run("keys", "create", "--org", "org-acme", "--name", "Acme", "--json")
    bad = _run("keys", "notify", "--org", "org-acme", "--email", "office@acme.example\r\nBcc: x@y.example")
    assert bad.exit_code == 2
    assert "not an e-mail address" in bad.output
    both = _run("keys", "notify", "--org", "org-acme", "--email", "a@acme.example", "--clear")
    assert both.exit_code == 2
    unknown = _run("keys", "notify", "--org", "org-nobody", "--email", "a@nobody.example")
    assert unknown.exit_code == 1
    assert "no organisation org-nobody" in unknown.output
