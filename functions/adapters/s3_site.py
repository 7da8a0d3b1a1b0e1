"""Site bucket: the published pages, ninjs documents, newsroom index and feeds.

Release pages and documents belong to one release and are simply overwritten. The index and
the feeds are shared by every publication: each carries the sequence number of the catalog it
was rendered from, and is replaced only by a rendering from a newer catalog (a conditional put
on the ETag it read), so two publishers finishing in any order never leave an older index or
feed in place.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

from botocore.exceptions import ClientError

from functions.adapters.aws_errors import S3_MISSING, error_code, retry_on_conflict

SEQ_METADATA = "catalog-seq"
_RETRIES = 10


class S3Site:
    """``single_writer``: this process is the only one writing the shared objects, in order (the
    site-refresh function): ``put_if_newer`` then writes without reading what is there (one call
    instead of two), still marking the object with its seq. It also remembers a digest of what
    it wrote last under each key (at most ``remember`` keys, the least recently written first
    out) and skips a write of the same bytes and headers, whatever its seq (an unchanged rendering
    from a newer catalog is not written again: the object keeps the seq it was written with).
    ``forget()`` drops that memory (when
    another writer may have changed the site: ``S3Catalogs.revalidate`` says so)."""

    def __init__(
        self, client: Any, bucket: str, *, single_writer: bool = False, remember: int = 20_000
    ) -> None:
        self._s3 = client
        self._bucket = bucket
        self._single_writer = single_writer
        self._remember = remember if single_writer else 0
        self._written: OrderedDict[str, bytes] = OrderedDict()
        self.skipped = 0  # writes skipped as unchanged (for the logs and the tests)

    def forget(self) -> None:
        self._written.clear()

    def put(self, key: str, body: bytes, content_type: str, *, max_age: int = 300) -> None:
        self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            CacheControl=f"public, max-age={max_age}",
        )

    def put_if_newer(self, key: str, body: bytes, content_type: str, *, seq: int, max_age: int = 60) -> bool:
        """Write ``key`` unless the site already has a rendering of catalog ``seq`` or later
        (always, for the single writer: nothing else can have written a later one)."""

        def put(**condition: str) -> bool:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                CacheControl=f"public, max-age={max_age}",
                Metadata={SEQ_METADATA: str(seq)},
                **condition,
            )
            return True

        if self._single_writer:
            digest = hashlib.sha256(b"%s\n%d\n" % (content_type.encode(), max_age) + body).digest()
            if self._written.get(key) == digest:
                self._written.move_to_end(key)
                self.skipped += 1
                return False
            self._written.pop(key, None)  # unknown until the write succeeds
            put()
            if self._remember:
                self._written[key] = digest
                while len(self._written) > self._remember:
                    self._written.popitem(last=False)
            return True

        def attempt() -> bool:
            head = self._head(key)
            if head is not None and int(head.get("Metadata", {}).get(SEQ_METADATA, "-1")) >= seq:
                return False
            return put(**({"IfMatch": head["ETag"]} if head is not None else {"IfNoneMatch": "*"}))

        return retry_on_conflict(attempt, what=key, attempts=_RETRIES)

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error_code(error) not in S3_MISSING:
                raise
            return None
        return head

    def get(self, key: str) -> bytes | None:
        try:
            return bytes(self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read())
        except ClientError as error:
            if error_code(error) in S3_MISSING:
                return None
            raise
