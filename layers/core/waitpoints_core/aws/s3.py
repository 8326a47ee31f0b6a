"""Outputs too large for a DynamoDB item, kept in S3 (the bucket's lifecycle expires them with the tokens)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import aws_errors

if TYPE_CHECKING:
    from botocore.client import BaseClient


class S3Blobs:
    """The Blobs port on S3."""

    def __init__(self, client: BaseClient, bucket: str) -> None:
        self._s3: Any = client  # typed loosely, like the DynamoDB client (dynamodb.table)
        self._bucket = bucket

    def put(self, key: str, text: str) -> None:
        with aws_errors():
            self._s3.put_object(
                Bucket=self._bucket, Key=key, Body=text.encode(), ContentType="text/plain; charset=utf-8"
            )

    def get(self, key: str) -> str:
        with aws_errors():
            return str(self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read().decode())

    def delete(self, key: str) -> None:
        with aws_errors():
            self._s3.delete_object(Bucket=self._bucket, Key=key)
