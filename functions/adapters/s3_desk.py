"""Site bucket: the web desk's objects under ``desk/`` (and the bare ``desk`` redirect page).

``publish`` is idempotent: it writes every object and removes what an earlier version of the
desk left under ``desk/``; ``remove`` takes the desk out (a bucket already gone is fine).
Nothing outside the desk's keys is touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from functions.adapters.aws_errors import error_code
from functions.domain.desk import BARE_KEY, PREFIX, DeskObject

# Every response revalidates (ETag), so a deploy is seen at once and module files never mix versions.
CACHE_CONTROL = "no-cache"


class S3Desk:
    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def publish(self, objects: Iterable[DeskObject]) -> list[str]:
        """Write ``objects`` and delete what an earlier version left under ``desk/``; the removed keys."""
        written = set()
        for item in objects:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=item.key,
                Body=item.body,
                ContentType=item.content_type,
                CacheControl=CACHE_CONTROL,
            )
            written.add(item.key)
        stale = sorted(self._keys() - written)
        for key in stale:
            self._s3.delete_object(Bucket=self._bucket, Key=key)
        return stale

    def remove(self) -> int:
        """Delete the desk from the bucket (a bucket already gone is fine); how many objects went."""
        try:
            keys = [*sorted(self._keys()), BARE_KEY]
            for key in keys:
                self._s3.delete_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error_code(error) == "NoSuchBucket":
                return 0
            raise
        return len(keys)

    def _keys(self) -> set[str]:
        keys: set[str] = set()
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=PREFIX):
            keys.update(item["Key"] for item in page.get("Contents", []))
        return keys
