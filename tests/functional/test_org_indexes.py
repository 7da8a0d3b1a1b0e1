"""The organisation listings from the v2 indexes (they project only what a listing shows) answer
what the indexes they replace answered, on a stack midway through OrgIndexMigration (step 3:
both kinds exist), and the state item's history stays bounded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from cli.main import app
from functions.adapters.dynamodb_keys import DynamoKeyRepository
from functions.adapters.dynamodb_state import HISTORY_LIMIT, DynamoStateRepository
from functions.domain.ports import ConditionFailed
from functions.domain.records import Correction
from functions.domain.states import Action, Status
from infra.apigateway.routes import api_routes
from infra.bootstrap import LocalStack
from tests.functional.conftest import issue_key, reset_function_caches, stack_with, template
from tests.helpers import ApiClient, personnel_release

OLD = {"ORG_INDEX": "by_org", "ORG_STATUS_INDEX": "by_org_status"}
V2 = {"ORG_INDEX": "by_org_v2", "ORG_STATUS_INDEX": "by_org_status_v2"}


@pytest.fixture
def midway(aws: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    """A stack at OrgIndexMigration step 3: the old organisation indexes and the v2 ones."""
    stack, _ = stack_with(monkeypatch, {"OrgIndexMigration": "3"})
    yield stack
    reset_function_caches()


def _api(monkeypatch: pytest.MonkeyPatch, indexes: dict[str, str]) -> ApiClient:
    """The API function reading these indexes (a fresh execution environment)."""
    from functions.handlers.api import lambda_handler

    for name, value in indexes.items():
        monkeypatch.setenv(name, value)
    reset_function_caches()
    return ApiClient(lambda_handler, api_routes(template()))


def _pages(api: ApiClient, query: dict[str, str]) -> list[dict[str, Any]]:
    """Every page of GET /releases, two releases at a time, following the cursors."""
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        following = {"cursor": cursor} if cursor else {}
        response = api.get("/releases", query={"limit": "2", **query, **following})
        assert response.status == 200, response.body
        pages.append(response.json())
        cursor = pages[-1]["next_cursor"]
        if not cursor:
            return pages


def _a_newsroom(api: ApiClient, stack: LocalStack) -> dict[str, str]:
    """Releases in every state a listing shows something different for: pending with prescreen
    flags, withdrawn, published with a decision, public URL and a correction on its way."""
    repo = DynamoStateRepository(boto3.client("dynamodb"), stack.ref("ReleasesTable"))
    ids = {}
    for name in ("pending", "withdrawn", "published", "shouting"):
        headline = "ACME SHOUTS ABOUT ITS WIDGET" if name == "shouting" else f"Acme release {name}"
        response = api.post("/releases", personnel_release(headline=headline))
        assert response.status == 202, response.body
        ids[name] = str(response.json()["id"])
    assert api.delete(f"/releases/{ids['withdrawn']}").status == 200
    now = datetime.now(UTC)
    current = repo.get(ids["published"])
    assert current is not None
    decision = {"action": "approve", "moderator": "mona", "decided_at": now.isoformat(), "version": 1}
    current = repo.transition(
        ids["published"], Action.APPROVE, org_id="org-acme", expected_version=1, actor="moderator:mona",
        now=now, current=current, decision=decision,
    )  # fmt: skip
    repo.transition(
        ids["published"], Action.PUBLISH, org_id="org-acme", expected_version=1, actor="publisher",
        now=now + timedelta(seconds=1), current=current, published_at=now, public_version=1,
        public_url="https://news.example.org/releases/acme/",
    )  # fmt: skip
    for version, note in ((2, "The date was wrong."), (3, "The title was wrong.")):
        corrected = personnel_release(headline="Acme release published", correction_note=note)
        assert api.put(f"/releases/{ids['published']}", corrected).status == 200
        if version == 3:
            break  # this one stays pending
        current = repo.get(ids["published"])
        assert current is not None
        later = now + timedelta(seconds=version)
        current = repo.transition(
            ids["published"], Action.APPROVE_CORRECTION, org_id="org-acme", expected_version=version,
            actor="moderator:mona", now=later, current=current, decision={**decision, "version": version},
        )  # fmt: skip
        repo.transition(
            ids["published"], Action.PUBLISH_CORRECTION, org_id="org-acme", expected_version=version,
            actor="publisher", now=later, current=current, public_version=version,
            correction=Correction(version=version, note=note, published_at=later),
        )  # fmt: skip
    return ids


def test_the_release_list_is_the_same_from_the_v2_indexes_with_every_field_it_shows(
    midway: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an organisation's releases in several states, on a stack with both kinds of index
    ids = _a_newsroom(_api(monkeypatch, OLD), midway)
    queries = [{}, *({"status": status} for status in ("pending_review", "withdrawn", "correction_review"))]
    # When GET /releases is answered from the old indexes and from the v2 ones
    old = [_pages(_api(monkeypatch, OLD), query) for query in queries]
    new = [_pages(_api(monkeypatch, V2), query) for query in queries]
    # Then every page is the same, cursors included, and shows what the old indexes showed
    assert new == old
    listed = {item["id"]: item for page in new[0] for item in page["items"]}
    assert set(listed) == set(ids.values())
    published = listed[ids["published"]]
    assert published["decision"]["action"] == "approve"
    assert published["public_url"] == "https://news.example.org/releases/acme/"
    assert published["pending_correction"] == {"version": 3, "note": "The title was wrong."}
    assert [(c["version"], c["note"]) for c in published["corrections"]] == [(2, "The date was wrong.")]
    assert published["public_version"] == 2
    assert {f["code"] for f in listed[ids["shouting"]]["prescreen_flags"]} >= {"all_caps_headline"}
    assert [item["id"] for item in new[2][0]["items"]] == [ids["withdrawn"]]


def test_the_api_reads_the_indexes_its_settings_name(
    midway: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.cold_start import aws_client

    queried: list[str] = []
    for indexes in (OLD, V2):
        # Given the API function told to read one pair of indexes
        api = _api(monkeypatch, indexes)
        assert api.post("/releases", personnel_release()).status == 202
        queried.clear()
        aws_client("dynamodb").meta.events.register(
            "provide-client-params.dynamodb.Query", lambda params, **_: queried.append(params["IndexName"])
        )
        # When it lists, all and by status
        api.get("/releases")
        api.get("/releases", query={"status": "pending_review"})
        # Then it queried those
        assert queried == [indexes["ORG_INDEX"], indexes["ORG_STATUS_INDEX"]]


def test_the_keys_list_is_the_same_from_the_keys_only_index(midway: LocalStack) -> None:
    # Given keys of two organisations, one revoked
    acme, _ = issue_key(midway, "org-acme", "Acme")
    issue_key(midway, "org-acme", "Acme")
    issue_key(midway, "org-rovers", "Rovers FC")
    client = boto3.client("dynamodb")
    table = midway.ref("KeysTable")
    DynamoKeyRepository(client, table).revoke(acme, datetime.now(UTC))
    # When Acme's keys are listed from the old index (every attribute) and the v2 one (keys only)
    old = DynamoKeyRepository(client, table, org_index="by_org").list("org-acme")
    new = DynamoKeyRepository(client, table).list("org-acme")
    # Then both give the same whole records
    assert new == old
    assert len(new) == 2
    assert {k.status for k in new} == {"active", "revoked"}
    assert all(k.secret_hash and k.usage_key for k in new)


@pytest.mark.parametrize(("step", "index"), [("1", "by_org"), ("3", "by_org_v2"), ("done", "by_org_v2")])
def test_keys_list_reads_the_index_the_stack_names(
    aws: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, step: str, index: str
) -> None:
    from cli import target

    # Given a stack at a step of the upgrade, as the CLI finds it
    stack, _ = stack_with(monkeypatch, {"OrgIndexMigration": step})
    key_id, _ = issue_key(stack, "org-acme", "Acme")
    assert stack.outputs()["KeysOrgIndexName"] == index
    info = tmp_path / ".press-intake" / "local.json"
    info.parent.mkdir()
    info.write_text(json.dumps({"region": "us-east-1", "resources": stack.outputs()}))
    monkeypatch.chdir(tmp_path)
    target._client.cache_clear()
    queried: list[str] = []

    class Recording(DynamoKeyRepository):
        def __init__(self, client: Any, table: str, *, org_index: str = "by_org_v2") -> None:
            queried.append(org_index)
            super().__init__(client, table, org_index=org_index)

    monkeypatch.setattr("cli.keys.DynamoKeyRepository", Recording)
    # When an operator lists an organisation's keys
    result = CliRunner().invoke(app, ["keys", "list", "--org", "org-acme", "--json"])
    target._client.cache_clear()
    # Then the CLI read that index and found the key
    assert result.exit_code == 0, result.output
    assert [row["key_id"] for row in json.loads(result.stdout)] == [key_id]
    assert queried == [index]


# -- history ------------------------------------------------------------------------------------


def _history(stack: LocalStack, release_id: str) -> list[dict[str, Any]]:
    item = boto3.client("dynamodb").get_item(
        TableName=stack.ref("ReleasesTable"), Key={"pk": {"S": f"release#{release_id}"}}
    )["Item"]
    return [
        {name: next(iter(value.values())) for name, value in entry["M"].items()}
        for entry in item["history"]["L"]
    ]


def test_the_state_item_keeps_the_newest_history_entries(api: ApiClient, stack: LocalStack) -> None:
    # Given a release revised many times through the API
    release_id = str(api.post("/releases", personnel_release()).json()["id"])
    for n in range(2, HISTORY_LIMIT + 5):
        response = api.put(f"/releases/{release_id}", personnel_release(headline=f"Acme take {n:02d}"))
        assert response.status == 200, response.body
    # When it is withdrawn
    assert api.delete(f"/releases/{release_id}").status == 200
    # Then its state item holds the newest HISTORY_LIMIT entries, oldest first, ending with the
    # withdrawal; the status view still answers
    history = _history(stack, release_id)
    assert len(history) == HISTORY_LIMIT
    assert [h["action"] for h in history] == ["revise"] * (HISTORY_LIMIT - 1) + ["withdraw"]
    assert [int(h["version"]) for h in history[:-1]] == list(range(6, HISTORY_LIMIT + 5))
    assert history[-1]["status"] == "withdrawn"
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)
    assert api.get(f"/releases/{release_id}").json()["status"] == "withdrawn"


def _full_history(api: ApiClient, stack: LocalStack) -> str:
    """A pending release whose state item holds HISTORY_LIMIT entries (submitted, then revised)."""
    release_id = str(api.post("/releases", personnel_release()).json()["id"])
    for n in range(2, HISTORY_LIMIT + 1):
        revised = personnel_release(headline=f"Acme take number {n:02d}")
        assert api.put(f"/releases/{release_id}", revised).status == 200
    assert len(_history(stack, release_id)) == HISTORY_LIMIT
    return release_id


def test_a_write_without_the_record_appends_and_the_next_one_trims(api: ApiClient, stack: LocalStack) -> None:
    from tests.functional.test_api_releases import _force_status

    client = boto3.client("dynamodb")
    repo = DynamoStateRepository(client, stack.ref("ReleasesTable"))
    release_id = _full_history(api, stack)
    # Given a full history, and a transition not given the record read (it cannot know the length)
    _force_status(stack, client, release_id, Status.APPROVED.value)
    assert len(_history(stack, release_id)) == HISTORY_LIMIT + 1
    # When the next write is given the record
    current = repo.get(release_id)
    assert current is not None
    assert current.history is not None
    published = repo.transition(
        release_id, Action.PUBLISH, org_id="org-acme", expected_version=current.version,
        actor="publisher", now=datetime.now(UTC), current=current,
    )  # fmt: skip
    # Then the history is back to the limit, the newest entries kept, and the returned record
    # holds what the item holds
    history = _history(stack, release_id)
    assert len(history) == HISTORY_LIMIT
    assert [h["action"] for h in history[-3:]] == ["revise", "approve", "publish"]
    assert published.history is not None
    assert [h["action"] for h in published.history] == [h["action"] for h in history]


def test_a_trim_from_a_stale_read_is_refused(api: ApiClient, stack: LocalStack) -> None:
    client = boto3.client("dynamodb")
    table = stack.ref("ReleasesTable")
    repo = DynamoStateRepository(client, table)
    release_id = _full_history(api, stack)
    stale = repo.get(release_id)
    assert stale is not None
    # Given the history grew after the record was read (by a writer that changed nothing else)
    client.update_item(
        TableName=table,
        Key={"pk": {"S": f"release#{release_id}"}},
        UpdateExpression="SET history = list_append(history, :entry)",
        ExpressionAttributeValues={
            ":entry": {"L": [{"M": {"action": {"S": "note"}, "actor": {"S": "ops"}}}]}
        },
    )
    before = _history(stack, release_id)
    # When a write built on the stale record would rewrite the history
    with pytest.raises(ConditionFailed):
        repo.transition(
            release_id, Action.APPROVE, org_id="org-acme", expected_version=stale.version,
            actor="moderator:b", now=datetime.now(UTC), current=stale,
        )  # fmt: skip
    # Then nothing changed: the entry written meanwhile is there, the release still pending
    assert _history(stack, release_id) == before
    assert before[-1]["actor"] == "ops"
    assert api.get(f"/releases/{release_id}").json()["status"] == "pending_review"
