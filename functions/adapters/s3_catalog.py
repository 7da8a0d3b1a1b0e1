"""Catalogs: the newest entries of the site and of each category, one private S3 object each.

``catalogs/{name}.json`` in the releases bucket holds ``{"seq": n, "entries": [...]}`` as
gzip-compressed JSON. An entry carries the release's sanitised body (the feeds' full content),
so a catalog can reach megabytes, far beyond a DynamoDB item's 400 KB but nowhere near an S3
object's limits: FEED_SIZE (at most 100) entries of at most 50,000 characters (4 bytes each in
the worst case) stay under 21 MB uncompressed.

A catalog is bounded (the feed size), so reading and rewriting it costs the same however many
releases came before. Each change is a conditional put on the ETag that was read
(``IfNoneMatch="*"`` to create one), retried on conflict: concurrent publications never lose
an entry. ``seq`` grows by one per change; the site's shared pages carry the seq they were
rendered from, so it must never go backwards.

Catalogs used to be items of the releases table (``pk = catalog#{name}``). A catalog without
an object yet starts from that item when there is one, keeping its entries and its seq (else
the index and feeds, marked with the old seq, would never be replaced); the first change then
writes the object, and the item is never read again for that catalog.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from functions.adapters.aws_errors import S3_CONFLICTS, S3_MISSING, error_code, retry_on_conflict
from functions.adapters.dynamodb_catalog import DynamoLegacyCatalogs
from functions.domain.publish.model import CatalogEntry, parse_entries

_RETRIES = 25
PREFIX = "catalogs/"
Stored = list[dict[str, Any]]
Entries = list[CatalogEntry]
# NoSuchKey too: the object was deleted under an If-Match.
_CONFLICTS = S3_CONFLICTS | {"NoSuchKey"}


def catalog_key(name: str) -> str:
    return f"{PREFIX}{name}.json"


def encode(entries: Stored, seq: int) -> bytes:
    document = json.dumps({"seq": seq, "entries": entries}, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(document.encode("utf-8"), compresslevel=6, mtime=0)


def decode(body: bytes) -> tuple[Stored, int]:
    document = json.loads(gzip.decompress(body))
    return list(document["entries"]), int(document["seq"])


class S3Catalogs:
    def __init__(self, client: Any, bucket: str, *, legacy: DynamoLegacyCatalogs | None = None) -> None:
        self._s3 = client
        self._bucket = bucket
        self._legacy = legacy

    def _read(self, name: str) -> tuple[Stored, int, str | None]:
        """Stored entries, seq and the ETag to write against (``None``: no object yet)."""
        try:
            found = self._s3.get_object(Bucket=self._bucket, Key=catalog_key(name))
        except ClientError as error:
            if error_code(error) not in S3_MISSING:
                raise
            entries, seq = self._legacy.get(name) if self._legacy else ([], 0)
            return entries, seq, None
        entries, seq = decode(found["Body"].read())
        return entries, seq, str(found["ETag"])

    def get(self, name: str, *, limit: int | None = None) -> tuple[Entries, int]:
        stored, seq, _ = self._read(name)
        return parse_entries(stored, limit=limit), seq

    def update(self, name: str, change: Callable[[Entries], Entries]) -> tuple[Entries, int]:
        """Apply ``change`` atomically; returns the catalog after it and its sequence number."""

        def attempt() -> tuple[Entries, int]:
            stored, seq, etag = self._read(name)
            entries = parse_entries(stored)
            changed = change(entries)
            if changed == entries:
                return entries, seq  # nothing to do (a redelivered message)
            condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
            self._s3.put_object(
                Bucket=self._bucket,
                Key=catalog_key(name),
                Body=encode([entry.to_json() for entry in changed], seq + 1),
                ContentType="application/json",
                ContentEncoding="gzip",
                **condition,
            )
            return changed, seq + 1

        return retry_on_conflict(
            attempt, what=f"catalog {name}", attempts=_RETRIES, conflicts=_CONFLICTS, jitter=0.01
        )
