"""Releases bucket: one canonical JSON object per release version, never overwritten."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from functions.adapters.aws_errors import error_code
from functions.domain.ports import VersionExists
from functions.domain.records import document_json

PAYLOAD_HASH_METADATA = "payload-hash"


def object_key(org_id: str, release_id: str, version: int) -> str:
    """Where one version of a release lives in the releases bucket (under its organisation)."""
    return f"orgs/{org_id}/releases/{release_id}/v{version:04d}.json"


class S3ReleaseStore:
    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def put_version(
        self, *, org_id: str, release_id: str, version: int, document: dict[str, Any], payload_hash: str
    ) -> str:
        key = object_key(org_id, release_id, version)
        body = document_json(document)
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                IfNoneMatch="*",  # a version is created once and never overwritten
                Metadata={PAYLOAD_HASH_METADATA: payload_hash} if payload_hash else {},
            )
        except ClientError as error:
            code = error_code(error)
            if code in ("PreconditionFailed", "412"):
                raise VersionExists(key, self._payload_hash(key)) from None
            if code == "ConditionalRequestConflict":
                raise VersionExists(key, None) from None
            raise
        return key

    def version_key(self, *, org_id: str, release_id: str, version: int) -> str:
        return object_key(org_id, release_id, version)

    def get_document(self, key: str) -> dict[str, Any]:
        response = self._s3.get_object(Bucket=self._bucket, Key=key)
        document: dict[str, Any] = json.loads(response["Body"].read())
        return document

    def _payload_hash(self, key: str) -> str | None:
        head = self._s3.head_object(Bucket=self._bucket, Key=key)
        value = head.get("Metadata", {}).get(PAYLOAD_HASH_METADATA)
        return str(value) if value else None
