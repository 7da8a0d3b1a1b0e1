"""The local stack's data on disk: what ``press-intake local`` keeps across a restart.

One snapshot file (``snapshot.json`` in the data folder, ``.press-intake/data/`` by default)
holds the data of the emulated services, read from and written back into moto's backends:

- S3: every bucket's objects, every version and delete marker, with content type, metadata,
  ETag, modification time and tags;
- DynamoDB: every table's items, and the changes a stream consumer (the events function) has
  not yet taken from a table's stream: restored into the new stream, they reach it after the
  restart (restoring the items writes nothing to the stream, so a restart announces nothing);
- SQS: every queue's messages with their attributes, receive counts, send times and
  visibility (a message a consumer held when the stack stopped comes back after its
  visibility timeout, as in SQS);
- EventBridge Scheduler: every schedule (a one-time schedule that came due while the stack
  was down fires as soon as it is back), and which ``ActionAfterCompletion: NONE`` schedules
  have already fired;
- API Gateway: the organisations' usage keys (API keys, with their ids and values, which the
  keys table refers to) and usage plans with their throttles and keys. The template's own
  plan is created again at every start under a new id: the saved one's limits and keys go into
  it, matched by name; an organisation's own plan (``keys limits``) comes back as it was.
- KMS: every key's id and material. The template's keys are created again at every start under
  new ids; each is moved to the saved key's id (matched by description) and takes its material,
  and the stack's references follow (``Restored.renamed``), so what was encrypted before the
  restart (webhook signing secrets) still decrypts, and what is encrypted after it uses the
  same key under the same id.

The resources themselves come from ``template.yaml`` at every start; the snapshot fills them.
A resource the snapshot has and the template no longer declares (a queue made by hand, say)
is created again with its name and main settings. The format is our own, versioned JSON, not a
pickle of moto's objects: it survives a moto upgrade, can be read by a person, and loading it
runs no code.

Consistency: while a snapshot is read, moto's request handling is paused (``Quiesce`` wraps
moto's WSGI application); an SQS long poll waiting for messages does not hold that pause up.
Writes are atomic (temporary file, fsync, rename, fsync of the folder): a crash leaves the
previous snapshot or the new one, never half of one. A snapshot of another format version, or
one that cannot be read, is refused (``SnapshotError``) and never written over.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("press_intake.local")

FORMAT = "press-intake-local-snapshot"
FORMAT_VERSION = 1
SNAPSHOT_NAME = "snapshot.json"
DEMO_KEY_NAME = "demo-key"
LOCK_NAME = "lock"
DEFAULT_SAVE_INTERVAL = 5.0
ACCOUNT = "123456789012"


class SnapshotError(Exception):
    """The saved data cannot be used; the message says why and what to do. Nothing was changed."""


# -- pausing moto while a snapshot is read -------------------------------------------------------


class Quiesce:
    """Requests run side by side; ``paused()`` waits for those running and holds new ones back."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._paused = False
        self._local = threading.local()

    def wrap(self, app: Callable[..., Any]) -> Callable[..., Any]:
        """A WSGI application that runs ``app`` outside any pause."""

        def quiesced(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            with self.request():
                return app(environ, start_response)

        _patch_sqs_long_poll()
        _QUIESCES.add(self)
        return quiesced

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        self._enter()
        self._local.holding = True
        try:
            yield
        finally:
            self._local.holding = False
            self._leave()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        with self._cond:
            while self._paused:
                self._cond.wait()
            self._paused = True
            while self._active:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._paused = False
                self._cond.notify_all()

    @contextlib.contextmanager
    def waiting(self) -> Iterator[None]:
        """Inside a request: step aside while blocked (a long poll), so a pause need not wait."""
        if not getattr(self._local, "holding", False):
            yield
            return
        self._leave()
        try:
            yield
        finally:
            self._enter()

    def _enter(self) -> None:
        with self._cond:
            while self._paused:
                self._cond.wait()
            self._active += 1

    def _leave(self) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify_all()


_QUIESCES: set[Quiesce] = set()


@functools.cache
def _patch_sqs_long_poll() -> None:
    """moto's ReceiveMessage waits inside the request (``Queue.wait_for_messages``) between two
    scans of the queue; nothing is half-changed there, so a snapshot may be read meanwhile."""
    from moto.sqs.models import Queue

    original = Queue.wait_for_messages

    def wait_for_messages(self: Any, timeout: int) -> None:
        with contextlib.ExitStack() as stack:
            for quiesce in list(_QUIESCES):
                stack.enter_context(quiesce.waiting())
            original(self, timeout)

    Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]


# -- reading moto's state -------------------------------------------------------------------------


def _backend(service: str, region: str) -> Any:
    from moto.backends import get_backend

    backends = get_backend(service)  # type: ignore[call-overload]
    return backends[ACCOUNT]["aws" if service == "s3" else region]


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _naive_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None)  # moto keeps naive UTC


def capture(region: str, stream_positions: dict[str, str | None] | None = None) -> dict[str, Any]:
    """The data of every emulated service, as plain JSON-ready values (call while paused).

    ``stream_positions``: per table whose stream has a consumer, the last sequence number the
    consumer is done with (None: none yet); the changes after it are kept."""
    return {
        "s3": _capture_s3(region),
        "dynamodb": _capture_dynamodb(region),
        "dynamodb_streams": _capture_streams(region, stream_positions or {}),
        "sqs": _capture_sqs(region),
        "scheduler": _capture_scheduler(region),
        "apigateway": _capture_apigateway(region),
        "kms": _capture_kms(region),
    }


def _capture_s3(region: str) -> list[dict[str, Any]]:
    from moto.s3.models import FakeDeleteMarker

    backend = _backend("s3", region)
    buckets = []
    for name, bucket in sorted(dict(backend.buckets).items()):
        objects = []
        for key_name, versions in sorted(bucket.keys.lists()):
            saved = []
            for version in versions:
                if isinstance(version, FakeDeleteMarker):
                    saved.append(
                        {
                            "delete_marker": True,
                            "version_id": version.version_id,
                            "last_modified": _iso(version.last_modified),
                        }
                    )
                    continue
                tags = backend.tagger.get_tag_dict_for_resource(version.arn)
                saved.append(
                    {
                        "version_id": version._version_id,
                        "last_modified": _iso(version.last_modified),
                        "etag": version._etag,
                        "metadata": dict(version._metadata),
                        "storage_class": version._storage_class,
                        "encryption": version.encryption,
                        "kms_key_id": version.kms_key_id,
                        "body": base64.b64encode(version.value).decode("ascii"),
                        "tags": tags,
                    }
                )
            objects.append({"key": key_name, "versions": saved})
        buckets.append(
            {
                "name": name,
                "region": bucket.region_name,
                "versioning": bucket.versioning_status,
                "objects": objects,
            }
        )
    return buckets


def _capture_dynamodb(region: str) -> list[dict[str, Any]]:
    backend = _backend("dynamodb", region)
    tables = []
    for name, table in sorted(dict(backend.tables).items()):
        description = table.describe()["TableDescription"]
        tables.append(
            {
                "name": name,
                "key_schema": description["KeySchema"],
                "attribute_definitions": description["AttributeDefinitions"],
                "global_secondary_indexes": [
                    {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
                    for i in description.get("GlobalSecondaryIndexes") or []
                ],
                "items": [_text_binaries(item.to_json()["Attributes"]) for item in table.all_items()],
            }
        )
    return tables


def _text_binaries(value: Any) -> Any:
    """DynamoDB attribute values with binary ones (``B``, ``BS``) as base64 text (JSON has no bytes)."""
    if isinstance(value, dict):
        return {
            key: base64.b64encode(inner).decode("ascii")
            if key == "B" and isinstance(inner, bytes | bytearray)
            else [
                base64.b64encode(b).decode("ascii") if isinstance(b, bytes | bytearray) else b for b in inner
            ]
            if key == "BS" and isinstance(inner, list)
            else _text_binaries(inner)
            for key, inner in value.items()
        }
    if isinstance(value, list):
        return [_text_binaries(inner) for inner in value]
    return value


def _binaries(value: Any) -> Any:
    """The other way: base64 text of ``B`` and ``BS`` values back to bytes, as moto keeps them."""
    if isinstance(value, dict):
        return {
            key: base64.b64decode(inner)
            if key == "B" and isinstance(inner, str)
            else [base64.b64decode(b) if isinstance(b, str) else b for b in inner]
            if key == "BS" and isinstance(inner, list)
            else _binaries(inner)
            for key, inner in value.items()
        }
    if isinstance(value, list):
        return [_binaries(inner) for inner in value]
    return value


def _capture_streams(region: str, positions: dict[str, str | None]) -> list[dict[str, Any]]:
    backend = _backend("dynamodb", region)
    streams = []
    for name, position in sorted(positions.items()):
        table = backend.tables.get(name)
        shard = getattr(table, "stream_shard", None)
        if shard is None:
            continue
        done = int(position) if position else -1
        pending = []
        for item in list(shard.items):
            record = item.to_json()
            if int(record["dynamodb"]["SequenceNumber"]) > done:
                pending.append(_plain_stream_record(record))
        streams.append({"table": name, "records": pending})
    return streams


def _plain_stream_record(record: dict[str, Any]) -> dict[str, Any]:
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = _iso(created)
    return _text_binaries({**record, "dynamodb": change})  # type: ignore[no-any-return]


class _SavedStreamRecord:
    """A change restored into a stream (moto's shard asks its records for ``to_json()``)."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record

    def to_json(self) -> dict[str, Any]:
        return self.record


def _capture_kms(region: str) -> list[dict[str, Any]]:
    backend = _backend("kms", region)
    keys: dict[int, dict[str, Any]] = {}
    for key_id, key in sorted(dict(backend.keys).items()):
        entry = keys.setdefault(
            id(key),
            {
                "ids": [],
                "description": key.description,
                "material": base64.b64encode(key.key_material).decode("ascii"),
                "key_usage": key.key_usage,
                "key_spec": key.key_spec,
                "policy": key.policy,
            },
        )
        entry["ids"].append(key_id)
    return sorted(keys.values(), key=lambda entry: (str(entry["description"]), str(entry["ids"][0])))


_QUEUE_SETTINGS = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "Policy",
)


def _capture_sqs(region: str) -> list[dict[str, Any]]:
    backend = _backend("sqs", region)
    queues = []
    for name, queue in sorted(dict(backend.queues).items()):
        attributes = queue.attributes
        settings = {k: str(attributes[k]) for k in _QUEUE_SETTINGS if attributes.get(k) not in (None, "")}
        if settings.get("FifoQueue") == "false":
            settings.pop("FifoQueue")
            settings.pop("ContentBasedDeduplication", None)
        pending = {id(m) for m in queue.pending_messages}
        messages = [
            {
                "id": m.id,
                "body": m.body,
                "message_attributes": _plain(m.message_attributes),
                "system_attributes": _plain(m.system_attributes),
                "sender_id": m.sender_id,
                "sent_timestamp": m.sent_timestamp,
                "first_receive_timestamp": m.approximate_first_receive_timestamp,
                "receive_count": m.approximate_receive_count,
                "receipt_handle": m.receipt_handle,
                "visible_at": m.visible_at,
                "delayed_until": m.delayed_until,
                "group_id": m.group_id,
                "deduplication_id": m.deduplication_id,
                "sequence_number": m.sequence_number,
                "in_flight": id(m) in pending,
            }
            for m in list(queue._messages)
        ]
        queues.append({"name": name, "settings": settings, "messages": messages})
    return queues


def _plain(attributes: dict[str, Any]) -> dict[str, Any]:
    """Message attributes with binary values as base64 text."""
    plain: dict[str, Any] = {}
    for name, original in attributes.items():
        value = dict(original)
        binary = value.get("BinaryValue")
        if isinstance(binary, bytes | bytearray):
            value["BinaryValue"] = {"base64": base64.b64encode(binary).decode("ascii")}
        plain[name] = value
    return plain


def _unplain(attributes: dict[str, Any]) -> dict[str, Any]:
    restored: dict[str, Any] = {}
    for name, original in attributes.items():
        value = dict(original)
        binary = value.get("BinaryValue")
        if isinstance(binary, dict) and "base64" in binary:
            value["BinaryValue"] = base64.b64decode(binary["base64"])
        restored[name] = value
    return restored


def _capture_scheduler(region: str) -> list[dict[str, Any]]:
    backend = _backend("scheduler", region)
    groups = []
    for name, group in sorted(dict(backend.schedule_groups).items()):
        schedules = []
        for schedule in dict(group.schedules).values():
            saved = schedule.to_dict()
            saved.pop("Arn", None)
            schedules.append(saved)
        groups.append({"name": name, "schedules": schedules})
    return groups


def _capture_apigateway(region: str) -> dict[str, Any]:
    backend = _backend("apigateway", region)
    keys = [
        {k: key.to_json()[k] for k in ("id", "name", "description", "enabled", "value", "customerId")}
        for key in dict(backend.keys).values()
    ]
    plans = [
        {
            "id": plan.id,
            "name": plan.name,
            "description": plan.description,
            "apiStages": list(plan.api_stages),
            "throttle": dict(plan.throttle),
            "quota": dict(plan.quota),
            "keys": sorted(dict(backend.usage_plan_keys.get(plan.id, {}))),
        }
        for plan in dict(backend.usage_plans).values()
    ]
    return {"api_keys": sorted(keys, key=lambda k: str(k["id"])), "usage_plans": plans}


# -- writing it back --------------------------------------------------------------------------------


@dataclass
class Restored:
    """What a restore put back, for the log line and for tests."""

    objects: int = 0
    items: int = 0
    messages: int = 0
    schedules: int = 0
    usage_keys: int = 0
    stream_records: int = 0
    kms_keys: int = 0
    created: list[str] = field(default_factory=list)
    # ids and ARNs of resources created at this start -> the saved ones they took (KMS keys)
    renamed: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        text = (
            f"{self.objects} objects, {self.items} items, {self.messages} messages, "
            f"{self.schedules} schedules, {self.usage_keys} usage keys, {self.kms_keys} KMS keys, "
            f"{self.stream_records} stream changes to take"
        )
        return text + (f"; re-created {', '.join(self.created)}" if self.created else "")


def restore(data: dict[str, Any], region: str, clients: Callable[[str], Any]) -> Restored:
    """Put the data back into moto (after the template's resources exist, before any request).

    ``clients`` makes boto3 clients for the resources the template no longer declares.
    """
    done = Restored()
    _restore_s3(data["s3"], region, clients, done)
    _restore_dynamodb(data["dynamodb"], region, clients, done)
    _restore_streams(data.get("dynamodb_streams") or [], region, done)
    _restore_sqs(data["sqs"], region, clients, done)
    _restore_scheduler(data["scheduler"], region, clients, done)
    _restore_apigateway(data.get("apigateway") or {}, region, done)
    _restore_kms(data.get("kms") or [], region, done)
    return done


def _restore_s3(
    buckets: list[dict[str, Any]], region: str, clients: Callable[[str], Any], done: Restored
) -> None:
    from moto.s3.models import FakeDeleteMarker
    from moto.utilities.utils import LowercaseDict

    backend = _backend("s3", region)
    for saved in buckets:
        name = saved["name"]
        if name not in backend.buckets:
            s3 = clients("s3")
            where = saved.get("region") or region
            if where == "us-east-1":
                s3.create_bucket(Bucket=name)
            else:
                s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": where})
            if saved.get("versioning"):
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": saved["versioning"]})
            done.created.append(f"bucket {name}")
        bucket = backend.buckets[name]
        for entry in saved["objects"]:
            versions: list[Any] = []
            for version in entry["versions"]:
                if version.get("delete_marker"):
                    if not versions:
                        continue  # a marker for nothing: nothing to hide
                    marker = FakeDeleteMarker(key=versions[-1])
                    marker._version_id = version["version_id"]
                    marker.last_modified = _naive_utc(version["last_modified"])
                    versions.append(marker)
                    continue
                key = backend.put_object(
                    name,
                    entry["key"],
                    base64.b64decode(version["body"]),
                    storage=version.get("storage_class"),
                    encryption=version.get("encryption"),
                    kms_key_id=version.get("kms_key_id"),
                    disable_notification=True,
                )
                key._version_id = version["version_id"]
                key.last_modified = _naive_utc(version["last_modified"])
                key._metadata = LowercaseDict(version["metadata"])
                if version.get("etag"):
                    key._etag = version["etag"]
                if version.get("tags"):
                    backend.put_object_tagging(key, version["tags"])
                versions.append(key)
                done.objects += 1
            if versions:
                bucket.keys.setlist(entry["key"], versions)


def _restore_dynamodb(
    tables: list[dict[str, Any]], region: str, clients: Callable[[str], Any], done: Restored
) -> None:
    backend = _backend("dynamodb", region)
    for saved in tables:
        name = saved["name"]
        if name not in backend.tables:
            request: dict[str, Any] = {
                "TableName": name,
                "KeySchema": saved["key_schema"],
                "AttributeDefinitions": saved["attribute_definitions"],
                "BillingMode": "PAY_PER_REQUEST",
            }
            if saved.get("global_secondary_indexes"):
                request["GlobalSecondaryIndexes"] = saved["global_secondary_indexes"]
            clients("dynamodb").create_table(**request)
            done.created.append(f"table {name}")
        table = backend.tables[name]
        shard, table.stream_shard = table.stream_shard, None  # restoring is no change to announce
        try:
            for item in saved["items"]:
                backend.put_item(name, _binaries(item), overwrite=True)
                done.items += 1
        finally:
            table.stream_shard = shard


def _restore_streams(streams: list[dict[str, Any]], region: str, done: Restored) -> None:
    backend = _backend("dynamodb", region)
    for saved in streams:
        shard = getattr(backend.tables.get(saved["table"]), "stream_shard", None)
        if shard is None:
            log.warning("table %s has no stream any more: %d saved changes dropped", saved["table"],
                        len(saved["records"]))  # fmt: skip
            continue
        for record in saved["records"]:
            change = dict(record["dynamodb"])
            change["SequenceNumber"] = str(shard.starting_sequence_number + len(shard.items))
            created = change.get("ApproximateCreationDateTime")
            if isinstance(created, str):
                change["ApproximateCreationDateTime"] = _naive_utc(created)
            shard.items.append(_SavedStreamRecord(_binaries({**record, "dynamodb": change})))
            done.stream_records += 1


def _restore_kms(keys: list[dict[str, Any]], region: str, done: Restored) -> None:
    """Every saved key back under its saved id, with its material: a key the template declares
    (created again at this start, under a new id) is moved to the saved id, which the stack's
    references then name (``Restored.renamed``, ``LocalStack.adopt``), so what was encrypted
    before the restart decrypts, with the key named, as on AWS where a key's id never changes."""
    from moto.kms.models import Key

    backend = _backend("kms", region)
    fresh: list[Any] = []
    for key in dict(backend.keys).values():
        if all(key is not other for other in fresh):
            fresh.append(key)
    for entry in keys:
        saved_id = entry["ids"][0]
        key = next((k for k in fresh if k.description == entry["description"]), None)
        if key is not None:
            fresh.remove(key)  # one saved key per key of this start
            if key.id != saved_id:
                backend.keys.pop(key.id, None)
                done.renamed[key.id] = saved_id
                done.renamed[key.arn] = f"arn:aws:kms:{region}:{ACCOUNT}:key/{saved_id}"
        else:  # a key the template no longer declares: back under its own id
            usage = entry.get("key_usage") or "ENCRYPT_DECRYPT"
            spec = entry.get("key_spec") or "SYMMETRIC_DEFAULT"
            key = Key(entry.get("policy"), usage, spec, entry["description"], ACCOUNT, region)  # type: ignore[abstract]
            done.created.append(f"KMS key {saved_id}")
        key.id = saved_id
        key.arn = f"arn:aws:kms:{region}:{ACCOUNT}:key/{saved_id}"
        key.key_material = base64.b64decode(entry["material"])
        for known_id in entry["ids"]:
            backend.keys[known_id] = key
        done.kms_keys += 1


def _restore_sqs(
    queues: list[dict[str, Any]], region: str, clients: Callable[[str], Any], done: Restored
) -> None:
    from moto.sqs.models import Message

    backend = _backend("sqs", region)
    # Dead-letter queues first: a redrive policy names its target.
    for saved in sorted(queues, key=lambda q: "RedrivePolicy" in q["settings"]):
        name = saved["name"]
        if name not in backend.queues:
            clients("sqs").create_queue(QueueName=name, Attributes=saved["settings"])
            done.created.append(f"queue {name}")
        queue = backend.queues[name]
        restored = []
        for entry in saved["messages"]:
            message = Message(entry["id"], entry["body"], _unplain(entry["system_attributes"]))
            message.message_attributes = _unplain(entry["message_attributes"])
            message.sender_id = entry["sender_id"]
            message.sent_timestamp = entry["sent_timestamp"]
            message.approximate_first_receive_timestamp = entry["first_receive_timestamp"]
            message.approximate_receive_count = int(entry["receive_count"])
            message.receipt_handle = entry["receipt_handle"]
            message.visible_at = float(entry["visible_at"])
            message.delayed_until = float(entry["delayed_until"])
            message.group_id = entry["group_id"]
            message.deduplication_id = entry["deduplication_id"]
            message.sequence_number = entry["sequence_number"]
            restored.append((message, bool(entry["in_flight"])))
        with queue._messages_lock:
            for message, in_flight in restored:
                queue._messages.append(message)
                if in_flight:
                    queue.pending_messages.add(message)
            queue._messages_lock.notify_all()
        done.messages += len(restored)


def _restore_scheduler(
    groups: list[dict[str, Any]], region: str, clients: Callable[[str], Any], done: Restored
) -> None:
    backend = _backend("scheduler", region)
    for saved in groups:
        name = saved["name"]
        if name not in backend.schedule_groups:
            clients("scheduler").create_schedule_group(Name=name)
            done.created.append(f"schedule group {name}")
        for entry in saved["schedules"]:
            schedule = backend.create_schedule(
                description=entry.get("Description"),
                end_date=entry.get("EndDate"),
                flexible_time_window=entry["FlexibleTimeWindow"],
                group_name=name,
                kms_key_arn=entry.get("KmsKeyArn"),
                name=entry["Name"],
                schedule_expression=entry["ScheduleExpression"],
                schedule_expression_timezone=entry.get("ScheduleExpressionTimezone"),
                start_date=None,  # set below: moto refuses a past start date at creation
                state=entry.get("State"),
                target=entry["Target"],
                action_after_completion=entry.get("ActionAfterCompletion"),
            )
            schedule.start_date = entry.get("StartDate")
            schedule.creation_date = entry.get("CreationDate", schedule.creation_date)
            schedule.last_modified_date = entry.get("LastModificationDate", schedule.last_modified_date)
            done.schedules += 1


def _restore_apigateway(saved: dict[str, Any], region: str, done: Restored) -> None:
    from moto.apigateway.models import ApiKey, UsagePlan, UsagePlanKey

    backend = _backend("apigateway", region)
    for entry in saved.get("api_keys", []):
        backend.keys[entry["id"]] = ApiKey(
            api_key_id=entry["id"],
            name=entry.get("name"),
            description=entry.get("description"),
            enabled=bool(entry.get("enabled")),
            value=entry["value"],
            customerId=entry.get("customerId"),
        )
    by_name = {plan.name: plan for plan in dict(backend.usage_plans).values()}
    for entry in saved.get("usage_plans", []):
        plan = by_name.get(entry.get("name"))  # the template's plan, created again at this start
        if plan is None:
            plan = UsagePlan(
                usage_plan_id=entry["id"],
                name=entry.get("name"),
                description=entry.get("description"),
                apiStages=entry.get("apiStages") or [],
            )
            backend.usage_plans[plan.id] = plan
        plan.throttle = dict(entry.get("throttle") or {})
        plan.quota = dict(entry.get("quota") or {})
        members = backend.usage_plan_keys.setdefault(plan.id, {})
        for key_id in entry.get("keys", []):
            key = backend.keys.get(key_id)
            if key is not None:
                members[key_id] = UsagePlanKey(
                    plan_id=key_id, plan_type="API_KEY", name=key.name, value=key.value
                )
    done.usage_keys = len(saved.get("api_keys", []))


# -- the data folder ---------------------------------------------------------------------------------


def _write_atomically(path: Path, data: bytes) -> None:
    """Temporary file (0600), fsync, rename over ``path``, fsync of the folder."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as output:
            output.write(data)
            output.flush()
            os.fsync(output.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_atomically(path, text.encode("utf-8"))


def read_snapshot(path: Path) -> dict[str, Any] | None:
    """The snapshot document, ``None`` if there is none; ``SnapshotError`` if it cannot be used."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SnapshotError(f"{path} cannot be read ({error.strerror}).") from None
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise SnapshotError(_refusal(path, f"it is not a readable snapshot ({error})")) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(_refusal(path, "it is not a press-intake local snapshot"))
    version = document.get("version")
    if version != FORMAT_VERSION:
        older = isinstance(version, int) and version < FORMAT_VERSION
        raise SnapshotError(
            _refusal(
                path,
                f"it was written by {'an older' if older else 'another'} version of press-intake "
                f"(snapshot format {version!r}; this one reads format {FORMAT_VERSION})",
            )
        )
    data = document.get("data")
    if not isinstance(data, dict) or not {"s3", "dynamodb", "sqs", "scheduler"} <= set(data):
        raise SnapshotError(_refusal(path, "it is incomplete"))
    return document


def _refusal(path: Path, why: str) -> str:
    return (
        f"the saved data in {path} cannot be loaded: {why}. It is left as it is. "
        f"To start empty instead, run with --fresh (the file is kept as {path.name}.old), "
        "or with --data OTHER_FOLDER, or --memory to keep nothing."
    )


class DataFolder:
    """The data folder of one running stack: its lock, its snapshot, its demo key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.snapshot = path / SNAPSHOT_NAME
        self.demo_key = path / DEMO_KEY_NAME
        self._lock_file: Any = None

    def lock(self) -> None:
        """Only one stack uses a data folder at a time (the lock goes with the process)."""
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle = (self.path / LOCK_NAME).open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            handle.seek(0)
            owner = handle.read().strip()
            handle.close()
            if error.errno in (errno.EAGAIN, errno.EACCES):
                raise SnapshotError(
                    f"another press-intake local{f' (pid {owner})' if owner else ''} uses the data folder "
                    f"{self.path}; stop it, or give this one another folder with --data"
                ) from None
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def unlock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def set_aside(self) -> Path | None:
        """``--fresh``: keep the previous snapshot as ``snapshot.json.old``, start empty."""
        if not self.snapshot.exists():
            return None
        kept = self.snapshot.with_name(self.snapshot.name + ".old")
        os.replace(self.snapshot, kept)
        return kept

    def read_demo_key(self) -> str | None:
        try:
            return self.demo_key.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def write_demo_key(self, token: str) -> None:
        write_private(self.demo_key, token + "\n")


class Persistence:
    """Restores a stack's data at start, saves it every few seconds and at a clean stop."""

    def __init__(
        self,
        folder: DataFolder,
        *,
        region: str,
        interval: float = DEFAULT_SAVE_INTERVAL,
        extra: Callable[[], dict[str, Any]] | None = None,
        streams: Callable[[], dict[str, str | None]] | None = None,
    ) -> None:
        self.folder = folder
        self.region = region
        self.interval = interval
        self.quiesce = Quiesce()
        self._extra = extra or dict
        self._streams = streams or dict
        self._enabled = False  # never write before a restore succeeded: a refused file stays as it is
        self._last_digest: str | None = None
        self._save_lock = threading.Lock()
        self._document: dict[str, Any] | None = None
        self._checked = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.saves = 0

    def check(self) -> None:
        """Read the snapshot now (``SnapshotError`` if it cannot be used), before anything starts."""
        self._document = read_snapshot(self.folder.snapshot)
        self._checked = True

    def load(self, clients: Callable[[str], Any]) -> tuple[Restored | None, dict[str, Any]]:
        """Restore the snapshot (if any); returns what was restored and the extra state saved with it."""
        if not self._checked:
            self.check()
        document, self._document = self._document, None
        restored = None
        extra: dict[str, Any] = {}
        if document is not None:
            try:
                restored = restore(document["data"], self.region, clients)
            except Exception as error:  # any shape it should not have, or a value moto refuses
                raise SnapshotError(
                    _refusal(self.folder.snapshot, f"it does not have the expected content ({error!r})")
                ) from None
            extra = dict(document.get("local") or {})
        self._enabled = True
        return restored, extra

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="snapshot", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:  # one save at once (the state as started), then every interval
            try:
                self.save()
            except Exception:
                log.exception("saving the local stack's data failed; retrying in %.0f s", self.interval)
            if self._stop.wait(self.interval):
                return

    def save(self) -> bool:
        """Write a snapshot if anything changed since the last one; ``True`` if one was written."""
        if not self._enabled:
            return False
        with self._save_lock:
            started = time.perf_counter()
            with self.quiesce.paused():
                data = capture(self.region, self._streams())
            document = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "data": data,
                "local": self._extra(),
            }
            payload = json.dumps(document, separators=(",", ":"), sort_keys=True).encode("utf-8")
            digest = hashlib.sha256(payload).hexdigest()
            if digest == self._last_digest:
                return False
            header = {"saved_at": datetime.now(UTC).isoformat()}
            _write_atomically(self.folder.snapshot, _with_header(payload, header))
            self._last_digest = digest
            self.saves += 1
            log.debug(
                "saved %s (%d KiB, %.0f ms)",
                self.folder.snapshot,
                len(payload) // 1024,
                (time.perf_counter() - started) * 1000,
            )
            return True

    def close(self) -> None:
        """Stop saving periodically and write the final snapshot."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        try:
            self.save()
        finally:
            self._enabled = False


def _with_header(payload: bytes, header: dict[str, Any]) -> bytes:
    """The document with ``saved_at`` first, without re-encoding the (large) body."""
    return b"{" + json.dumps(header)[1:-1].encode() + b"," + payload[1:]
