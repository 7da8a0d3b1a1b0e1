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

A warm function remembers catalogs between invocations (``CatalogCache``, given to the single
writer): the parsed catalog with the ETag it was read or written with, least recently used
first out past a bound in characters of JSON. ``revalidate()``, at the start of each refresh,
reads the front document conditionally (``IfNoneMatch`` its remembered ETag): unchanged (304),
every remembered catalog is still what S3 holds, as every change of a catalog changes the front
document in the same refresh; changed (another writer, or none remembered yet), everything is
forgotten and read again. A write is still conditional on the remembered ETag: a catalog that
changed behind the cache fails it (``CatalogRace``, the cache forgotten, the batch retried).

Catalogs used to be items of the releases table (``pk = catalog#{name}``). A catalog without
an object yet starts from that item when there is one, keeping its entries and its seq (else
the index and feeds, marked with the old seq, would never be replaced); the first change then
writes the object, and the item is never read again for that catalog.
"""

from __future__ import annotations

import gzip
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
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
_NOT_MODIFIED = frozenset({"304", "NotModified"})  # a conditional GET whose object is unchanged
_GZIP_RATIO = 6  # characters of JSON per compressed byte, about, for a catalog read (not written) here


class CatalogRace(RuntimeError):
    """A catalog changed between its read and its write: a second writer, which the design rules out."""


def catalog_key(name: str) -> str:
    return f"{PREFIX}{name}.json"


def _text(stored: dict[str, Any]) -> str:
    """The stored form's JSON, compact."""
    return json.dumps(stored, ensure_ascii=False, separators=(",", ":"))


def _gzip(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def _compress(stored: dict[str, Any]) -> bytes:
    return _gzip(_text(stored))


@dataclass(frozen=True)
class _Remembered:
    value: Any  # the parsed entries (a tuple) or document
    seq: int
    etag: str | None  # None: there was no object
    size: int  # characters of JSON, about


class CatalogCache:
    """Catalogs as last read or written, by name, at most ``max_chars`` characters of JSON in all
    (about: the compressed size times a typical ratio when the text is not at hand); the least
    recently used goes first. ``pinned`` (the front document) is never pushed out."""

    def __init__(self, max_chars: int = 24_000_000, *, pinned: str = "front") -> None:
        self._max = max_chars
        self._pinned = pinned
        self._items: OrderedDict[str, _Remembered] = OrderedDict()
        self._chars = 0
        self.hits = 0  # reads answered from memory (for the logs and the tests)

    def get(self, name: str) -> _Remembered | None:
        found = self._items.get(name)
        if found is not None:
            self._items.move_to_end(name)
            self.hits += 1
        return found

    def put(self, name: str, value: _Remembered) -> None:
        self.forget(name)
        self._items[name] = value
        self._chars += value.size
        while self._chars > self._max and len(self._items) > 1:
            oldest = next((n for n in self._items if n not in (self._pinned, name)), None)
            if oldest is None:
                break
            self.forget(oldest)

    def forget(self, name: str | None = None) -> None:
        """Forget ``name``, or everything."""
        if name is None:
            self._items.clear()
            self._chars = 0
            return
        gone = self._items.pop(name, None)
        if gone is not None:
            self._chars -= gone.size

    @property
    def chars(self) -> int:
        return self._chars

    def __contains__(self, name: str) -> bool:
        return name in self._items


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
    the categories'; the others never were). ``cache``: what this process remembers between
    refreshes (the single writer only; see ``revalidate``)."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        legacy: DynamoLegacyCatalogs | None = None,
        legacy_names: frozenset[str] | None = None,
        cache: CatalogCache | None = None,
        generation: str = "front",
    ) -> None:
        self._s3 = client
        self._bucket = bucket
        self._legacy = legacy
        self._legacy_names = legacy_names
        self._cache = cache
        self._generation = generation  # the catalog every change changes (the front document)

    def revalidate(self) -> bool:
        """Whether what the cache remembers is still what S3 holds: the front document read
        conditionally on its remembered ETag (one GET, its body only when it changed). When it
        changed, or nothing is remembered, everything is forgotten (the front document is
        remembered as read). Without a cache, False."""
        if self._cache is None:
            return False
        known = self._cache.get(self._generation)
        condition = {"IfNoneMatch": known.etag} if known is not None and known.etag else {}
        try:
            found = self._s3.get_object(Bucket=self._bucket, Key=catalog_key(self._generation), **condition)
        except ClientError as error:
            code = error_code(error)
            if code in _NOT_MODIFIED:
                return True
            if code not in S3_MISSING:
                raise
            found = None
        self._cache.forget()
        self._remember_document(self._generation, found)
        return False

    # -- reading -------------------------------------------------------------------------------------

    def _object(self, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self._s3.get_object(Bucket=self._bucket, Key=catalog_key(name))
        except ClientError as error:
            if error_code(error) not in S3_MISSING:
                raise
            return None
        return found

    def _entries(self, name: str) -> _Remembered:
        """The catalog's entries (a tuple), seq and the ETag to write against (``None``: no object
        yet), from memory when remembered."""
        known = self._cache.get(name) if self._cache is not None else None
        if known is not None:
            return known
        found = self._object(name)
        if found is None:
            legacy = self._legacy is not None and (self._legacy_names is None or name in self._legacy_names)
            stored, seq = self._legacy.get(name) if legacy and self._legacy else ([], 0)
            etag, size = None, 0
        else:
            body = found["Body"].read()
            stored, seq = decode(body)
            etag, size = str(found["ETag"]), len(body) * _GZIP_RATIO
        read = _Remembered(tuple(parse_entries(stored)), seq, etag, size)
        if self._cache is not None:
            self._cache.put(name, read)
        return read

    def _document(self, name: str) -> _Remembered:
        known = self._cache.get(name) if self._cache is not None else None
        if known is not None:
            return known
        return self._remember_document(name, self._object(name))

    def _remember_document(self, name: str, found: dict[str, Any] | None) -> _Remembered:
        if found is None:
            read = _Remembered({}, 0, None, 0)
        else:
            body = found["Body"].read()
            document, seq = decode_document(body)
            read = _Remembered(document, seq, str(found["ETag"]), len(body) * _GZIP_RATIO)
        if self._cache is not None:
            self._cache.put(name, read)
        return read

    # -- writing -------------------------------------------------------------------------------------

    def _put(self, name: str, value: Any, seq: int, stored: dict[str, Any], etag: str | None) -> None:
        """Write the catalog (conditional on ``etag``) and remember it as written."""
        text = _text(stored)
        body = _gzip(text)
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            written = self._s3.put_object(
                Bucket=self._bucket,
                Key=catalog_key(name),
                Body=body,
                ContentType="application/json",
                ContentEncoding="gzip",
                **condition,
            )
        except BaseException as error:
            if self._cache is not None:
                self._cache.forget()  # what S3 holds now is not known
            if isinstance(error, ClientError) and error_code(error) in _CONFLICTS:
                raise CatalogRace(f"catalog {name} changed while it was being rewritten") from error
            raise
        if self._cache is not None:
            self._cache.put(name, _Remembered(value, seq, str(written["ETag"]), len(text)))

    def get(self, name: str, *, limit: int | None = None) -> tuple[Entries, int]:
        read = self._entries(name)
        entries = list(read.value if limit is None else read.value[:limit])
        return entries, read.seq

    def update(self, name: str, change: Callable[[Entries], Entries]) -> tuple[Entries, int]:
        """Apply ``change`` (a conditional write: ``CatalogRace`` if the catalog changed since it
        was read); returns the catalog after it and its sequence number."""

        read = self._entries(name)
        entries = list(read.value)
        changed = change(list(entries))
        if changed == entries:
            return entries, read.seq  # nothing to do (a redelivered message)
        seq = read.seq + 1
        stored = {"seq": seq, "entries": [entry.to_json() for entry in changed]}
        self._put(name, tuple(changed), seq, stored, read.etag)
        return list(changed), seq

    def get_document(self, name: str) -> tuple[dict[str, Any], int]:
        """The document and its seq (read only: with a cache, it is what the cache remembers)."""
        read = self._document(name)
        return read.value, read.seq

    def update_document(
        self, name: str, change: Callable[[dict[str, Any]], dict[str, Any]], *, touch: bool = False
    ) -> tuple[dict[str, Any], int]:
        """Apply ``change`` (a conditional write, as ``update``); with ``touch`` the sequence
        number grows even when the document is unchanged."""
        read = self._document(name)
        document = read.value
        changed = change(_copy(document))
        if changed == document and not touch:
            return document, read.seq
        seq = read.seq + 1
        self._put(name, changed, seq, {"seq": seq, "document": changed}, read.etag)
        return changed, seq


def _copy(document: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(document))
    return copied
