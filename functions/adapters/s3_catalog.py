"""Catalogs: what the site's shared pages are rendered from, one private S3 object each.

``catalogs/{name}.json`` in the releases bucket holds ``{"seq": n, "entries": [...]}`` (a list:
the newest of the site, of a category, of an organisation; a day's entries) or
``{"seq": n, "document": {...}}`` (a document: the calendar, the organisations) as
gzip-compressed JSON. An entry carries the release's sanitised body (the feeds' full content),
so a catalog can reach megabytes, far beyond a DynamoDB item's 400 KB but nowhere near an S3
object's limits: FEED_SIZE (at most 100) entries of at most 50,000 characters (4 bytes each in
the worst case) stay under 21 MB uncompressed.

A catalog is bounded (the feed size), so reading and rewriting it costs the same however many
releases came before. One function writes catalogs, one batch at a time (the site-refresh
function, on a FIFO queue with one message group): writes never contend by design. Each change
is still a conditional put on the ETag that was read (``IfNoneMatch="*"`` to create one), as a
guard: a write that lost a race after all fails loudly (``CatalogRace``), the batch is retried
from what is stored then, and no entry is lost. ``seq`` grows by one per change; the site's
shared pages carry the seq they were rendered from, so it must never go backwards.

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

from functions.adapters.aws_errors import S3_CONFLICTS, S3_MISSING, error_code
from functions.adapters.dynamodb_catalog import DynamoLegacyCatalogs
from functions.domain.publish.model import CatalogEntry, parse_entries

PREFIX = "catalogs/"
Stored = list[dict[str, Any]]
Entries = list[CatalogEntry]
# NoSuchKey too: the object was deleted under an If-Match.
_CONFLICTS = S3_CONFLICTS | {"NoSuchKey"}


class CatalogRace(RuntimeError):
    """A catalog changed between its read and its write: a second writer, which the design rules out."""


def catalog_key(name: str) -> str:
    return f"{PREFIX}{name}.json"


def _compress(stored: dict[str, Any]) -> bytes:
    text = json.dumps(stored, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def encode(entries: Stored, seq: int) -> bytes:
    return _compress({"seq": seq, "entries": entries})


def decode(body: bytes) -> tuple[Stored, int]:
    document = json.loads(gzip.decompress(body))
    return list(document["entries"]), int(document["seq"])


def encode_document(document: dict[str, Any], seq: int) -> bytes:
    return _compress({"seq": seq, "document": document})


def decode_document(body: bytes) -> tuple[dict[str, Any], int]:
    stored = json.loads(gzip.decompress(body))
    return dict(stored["document"]), int(stored["seq"])


class S3Catalogs:
    """``legacy``: where the catalogs named ``legacy_names`` were kept before S3 (the site's and
    the categories'; the others never were)."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        legacy: DynamoLegacyCatalogs | None = None,
        legacy_names: frozenset[str] | None = None,
    ) -> None:
        self._s3 = client
        self._bucket = bucket
        self._legacy = legacy
        self._legacy_names = legacy_names

    def _object(self, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self._s3.get_object(Bucket=self._bucket, Key=catalog_key(name))
        except ClientError as error:
            if error_code(error) not in S3_MISSING:
                raise
            return None
        return found

    def _read(self, name: str) -> tuple[Stored, int, str | None]:
        """Stored entries, seq and the ETag to write against (``None``: no object yet)."""
        found = self._object(name)
        if found is None:
            legacy = self._legacy is not None and (self._legacy_names is None or name in self._legacy_names)
            entries, seq = self._legacy.get(name) if legacy and self._legacy else ([], 0)
            return entries, seq, None
        entries, seq = decode(found["Body"].read())
        return entries, seq, str(found["ETag"])

    def _put(self, name: str, body: bytes, etag: str | None) -> None:
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=catalog_key(name),
                Body=body,
                ContentType="application/json",
                ContentEncoding="gzip",
                **condition,
            )
        except ClientError as error:
            if error_code(error) in _CONFLICTS:
                raise CatalogRace(f"catalog {name} changed while it was being rewritten") from error
            raise

    def get(self, name: str, *, limit: int | None = None) -> tuple[Entries, int]:
        stored, seq, _ = self._read(name)
        return parse_entries(stored, limit=limit), seq

    def update(self, name: str, change: Callable[[Entries], Entries]) -> tuple[Entries, int]:
        """Apply ``change`` (a conditional write: ``CatalogRace`` if the catalog changed since it
        was read); returns the catalog after it and its sequence number."""

        stored, seq, etag = self._read(name)
        entries = parse_entries(stored)
        changed = change(entries)
        if changed == entries:
            return entries, seq  # nothing to do (a redelivered message)
        self._put(name, encode([entry.to_json() for entry in changed], seq + 1), etag)
        return changed, seq + 1

    def _read_document(self, name: str) -> tuple[dict[str, Any], int, str | None]:
        found = self._object(name)
        if found is None:
            return {}, 0, None
        document, seq = decode_document(found["Body"].read())
        return document, seq, str(found["ETag"])

    def get_document(self, name: str) -> tuple[dict[str, Any], int]:
        document, seq, _ = self._read_document(name)
        return document, seq

    def update_document(
        self, name: str, change: Callable[[dict[str, Any]], dict[str, Any]], *, touch: bool = False
    ) -> tuple[dict[str, Any], int]:
        """Apply ``change`` (a conditional write, as ``update``); with ``touch`` the sequence
        number grows even when the document is unchanged."""
        document, seq, etag = self._read_document(name)
        changed = change(json.loads(json.dumps(document)))
        if changed == document and not touch:
            return document, seq
        self._put(name, encode_document(changed, seq + 1), etag)
        return changed, seq + 1
