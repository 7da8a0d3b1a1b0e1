"""The organisation indexes in template.yaml: the v2 ones project what a listing reads, and
OrgIndexMigration takes a deployed stack there one index per table per deploy, the listings
never reading an index that is missing while a deploy runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from functions.adapters.dynamodb_state import LISTED, item_to_record, record_to_item
from functions.api.views import view_of
from functions.domain.prescreen import Flag
from functions.domain.records import Correction, ReleaseRecord
from functions.domain.states import Status
from functions.settings.api import ApiSettings
from infra.template import Physical, Resolver, load_template

STEPS = ["1", "2", "3", "4", "done"]
# What a stack deployed before OrgIndexMigration has, and what its listings read.
BEFORE = {
    "releases": {"by_org", "by_org_status"},
    "keys": {"by_org"},
    "reads": {"by_org", "by_org_status"},
    "keys_reads": {"by_org"},
}


def _resolver(step: str) -> Resolver:
    return Resolver(
        template=load_template(),
        stack_name="s",
        region="us-east-1",
        account_id="123456789012",
        parameters={"OrgIndexMigration": step},
        physical={"ReleasesTable": Physical(ref="releases", attributes={"Arn": "arn:releases"})},
    )


def _indexes(resolver: Resolver, table: str) -> dict[str, dict[str, Any]]:
    properties = resolver.resolve(resolver.template["Resources"][table]["Properties"])
    return {index["IndexName"]: index for index in properties.get("GlobalSecondaryIndexes", [])}


def _state(step: str) -> dict[str, set[str]]:
    """The indexes of both tables at ``step``, what the API lists from, what the CLI does, and
    which indexes the API may query."""
    resolver = _resolver(step)
    api = resolver.template["Resources"]["ApiFunction"]["Properties"]
    env = api["Environment"]["Variables"]
    statement = next(
        s for policy in api["Policies"] if "Statement" in policy for s in policy["Statement"]
        if s.get("Sid") == "ReleaseListings"
    )  # fmt: skip
    arns = resolver.resolve(statement["Resource"])
    granted = {str(arn).removeprefix("arn:releases/index/") for arn in arns}
    return {
        "releases": set(_indexes(resolver, "ReleasesTable")) - {"outbox"},
        "keys": set(_indexes(resolver, "KeysTable")),
        "reads": {resolver.resolve(env["ORG_INDEX"]), resolver.resolve(env["ORG_STATUS_INDEX"])},
        "keys_reads": {resolver.resolve(resolver.template["Outputs"]["KeysOrgIndexName"]["Value"])},
        "granted": granted,
    }


@pytest.mark.parametrize("index", ["by_org_v2", "by_org_status_v2"])
def test_the_v2_indexes_project_exactly_what_a_listing_reads(index: str) -> None:
    projection = _indexes(_resolver("3"), "ReleasesTable")[index]
    keys = {k["AttributeName"] for k in projection["KeySchema"]}
    assert projection["Projection"]["ProjectionType"] == "INCLUDE"
    # Their own keys and the table's (pk) are in every index: not named again
    assert set(projection["Projection"]["NonKeyAttributes"]) == set(LISTED) - keys - {"pk"}


def test_a_new_stack_has_only_the_v2_indexes_and_the_keys_table_only_keys() -> None:
    resolver = _resolver("done")
    assert set(_indexes(resolver, "ReleasesTable")) == {"by_org_v2", "by_org_status_v2", "outbox"}
    keys = _indexes(resolver, "KeysTable")
    assert set(keys) == {"by_org_v2"}
    assert keys["by_org_v2"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert load_template()["Parameters"]["OrgIndexMigration"]["Default"] == "done"


@pytest.mark.parametrize(
    ("step", "releases", "keys", "reads"),
    [
        ("1", {"by_org", "by_org_status", "by_org_v2"}, {"by_org", "by_org_v2"}, "old"),
        ("2", {"by_org", "by_org_status", "by_org_v2", "by_org_status_v2"}, {"by_org", "by_org_v2"}, "old"),
        ("3", {"by_org", "by_org_status", "by_org_v2", "by_org_status_v2"}, {"by_org", "by_org_v2"}, "v2"),
        ("4", {"by_org_status", "by_org_v2", "by_org_status_v2"}, {"by_org_v2"}, "v2"),
        ("done", {"by_org_v2", "by_org_status_v2"}, {"by_org_v2"}, "v2"),
    ],
)
def test_each_step_renders_its_indexes_and_readers(
    step: str, releases: set[str], keys: set[str], reads: str
) -> None:
    state = _state(step)
    assert state["releases"] == releases
    assert state["keys"] == keys
    if reads == "old":
        assert (state["reads"], state["keys_reads"]) == ({"by_org", "by_org_status"}, {"by_org"})
    else:
        assert (state["reads"], state["keys_reads"]) == ({"by_org_v2", "by_org_status_v2"}, {"by_org_v2"})
    assert state["granted"] == releases  # the API may query the indexes there are, no other


@pytest.mark.parametrize("step", STEPS)
def test_every_deploy_changes_one_index_per_table_and_no_listing_loses_its_index(step: str) -> None:
    previous = BEFORE if step == STEPS[0] else _state(STEPS[STEPS.index(step) - 1])
    now = _state(step)
    # DynamoDB creates or deletes one global secondary index per table update
    for table in ("releases", "keys"):
        assert len(previous[table] ^ now[table]) <= 1, table
    # While the deploy runs, functions and the CLI may read as before or as after it: whichever
    # they read exists before and after it, and the API's role (old or new) may query it
    for reads, table in (("reads", "releases"), ("keys_reads", "keys")):
        either = previous[reads] | now[reads]
        assert either <= previous[table] & now[table], (reads, either)
    assert previous["reads"] | now["reads"] <= now["granted"]
    if "granted" in previous:
        assert now["reads"] <= previous["granted"]


@pytest.mark.parametrize("step", STEPS)
def test_the_api_settings_take_every_steps_indexes(step: str) -> None:
    resolver = _resolver(step)
    env = resolver.template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    values = {name: str(resolver.resolve(env[name])) for name in ("ORG_INDEX", "ORG_STATUS_INDEX")}
    base = {
        "RELEASES_BUCKET": "bucket",
        "RELEASES_TABLE": "table",
        "IDEMPOTENCY_TABLE": "idem",
        "MODERATION_QUEUE_URL": "https://sqs/q",
        "WEBHOOKS_TABLE": "hooks",
        "WEBHOOK_SECRETS_KEY": "key",
        "EVENTS_QUEUE_URL": "https://sqs/e",
        "MEDIA_TABLE": "media",
        "MEDIA_BUCKET": "uploads",
    }
    settings = ApiSettings.from_env({**base, **values})
    assert settings.org_index == values["ORG_INDEX"]
    assert settings.org_status_index == values["ORG_STATUS_INDEX"]
    with pytest.raises(ValidationError):
        ApiSettings.from_env({**base, "ORG_INDEX": "outbox"})


def test_a_listed_item_shows_what_the_whole_item_shows() -> None:
    # Given a published release with a decision, flags, a correction and one on its way
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    record = ReleaseRecord(
        release_id="5b7e4c1e-2f7a-4b8e-9d55-6a4f0c1d2e3f", org_id="org-acme", org_name="Acme",
        status=Status.CORRECTION_REVIEW, version=3, category="personnel", headline="Acme names a CFO",
        language="en", created_at=now, updated_at=now, object_key="orgs/org-acme/x/3.json",
        payload_hash="a" * 64, content_digest="b" * 64, release_at=now, published_at=now,
        prescreen=[Flag("hype_words", "Hype.")],
        decision={"action": "approve", "moderator": "m", "decided_at": now.isoformat(), "version": 2},
        public_url="https://news.example.org/r/", public_version=2, correction_note="Title fixed.",
        corrections=[Correction(version=2, note="Date fixed.", published_at=now)],
    )  # fmt: skip
    item = {**record_to_item(record), "history": [{"action": "submit"}]}
    # When a listing reads only LISTED (and the keys)
    listed = {k: v for k, v in item.items() if k in {*LISTED, "pk", "org_status"} and v is not None}
    # Then the release's view is the same
    full = view_of(item_to_record({k: v for k, v in item.items() if v is not None}), "https://api")
    assert view_of(item_to_record(listed), "https://api") == full
