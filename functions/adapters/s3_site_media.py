"""Published renditions: copied from the private uploads bucket to the site (``media/{release}/``)
at publication, listed and removed there (a kill, a correction that no longer names them)."""

from __future__ import annotations

from typing import Any

# Renditions never change under their key (a new media is a new id): cache them long.
MAX_AGE = 86400


class S3SiteMedia:
    def __init__(self, client: Any, *, media_bucket: str, site_bucket: str) -> None:
        self._s3 = client
        self._media = media_bucket
        self._site = site_bucket

    def copy(self, source_key: str, site_key: str, content_type: str) -> None:
        self._s3.copy_object(
            Bucket=self._site,
            Key=site_key,
            CopySource={"Bucket": self._media, "Key": source_key},
            ContentType=content_type,
            CacheControl=f"public, max-age={MAX_AGE}",
            MetadataDirective="REPLACE",
        )

    def keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._site, Prefix=prefix):
            keys.extend(str(item["Key"]) for item in page.get("Contents") or [])
        return keys

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            if chunk:
                self._s3.delete_objects(
                    Bucket=self._site, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
                )
