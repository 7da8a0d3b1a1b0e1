"""The uploads bucket (private): originals under ``uploads/{org}/{media id}``, verified renditions
under ``renditions/{org}/{media id}/``."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from functions.adapters.aws_errors import S3_MISSING, error_code


class S3MediaObjects:
    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def presign_upload(
        self, key: str, *, content_type: str, size: int, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        # boto3 adds the bucket and the exact key to the policy's conditions itself.
        post = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", size, size]],
            ExpiresIn=expires_in,
        )
        return str(post["url"]), {str(k): str(v) for k, v in post["fields"].items()}

    def form_url(self) -> str:
        """Where a presigned POST into this bucket goes (what ``presign_upload`` answers as its URL):
        computed from the client's own endpoint and addressing, no request sent."""
        return str(self._s3.generate_presigned_post(Bucket=self._bucket, Key="uploads/")["url"])

    def head(self, key: str) -> tuple[int, str] | None:
        try:
            head = self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error_code(error) in S3_MISSING:
                return None
            raise
        return int(head["ContentLength"]), str(head.get("ContentType") or "")

    def read(self, key: str, *, max_bytes: int) -> bytes:
        response = self._s3.get_object(Bucket=self._bucket, Key=key, Range=f"bytes=0-{max_bytes}")
        body: bytes = response["Body"].read(max_bytes + 1)
        return body

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)

    def delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            if chunk:
                self._s3.delete_objects(
                    Bucket=self._bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
                )
