"""S3BlobStore: the media bucket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, BinaryIO

from .clients import client
from .errors import aws_errors


class S3BlobStore:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, key: str, body: bytes | BinaryIO, *, content_type: str = "") -> None:
        extra = {"ContentType": content_type} if content_type else {}
        with aws_errors(f"writing s3://{self.bucket}/{key}"):
            client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, **extra)

    def get(self, key: str) -> bytes:
        with aws_errors(f"reading s3://{self.bucket}/{key}"):
            return bytes(client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def head(self, key: str) -> Mapping[str, Any]:
        with aws_errors(f"reading s3://{self.bucket}/{key}"):
            answer = client("s3").head_object(Bucket=self.bucket, Key=key)
        return {
            "size": int(answer["ContentLength"]),
            "content_type": answer.get("ContentType", ""),
            "etag": str(answer.get("ETag", "")).strip('"'),
        }

    def get_range(self, key: str, start: int, end: int) -> bytes:
        with aws_errors(f"reading s3://{self.bucket}/{key}"):
            answer = client("s3").get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}")
        return bytes(answer["Body"].read())

    def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        folders: list[str] = []
        files: list[str] = []
        with aws_errors(f"listing s3://{self.bucket}/{prefix}"):
            pages = client("s3").get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/")
            for page in pages:
                folders += [p["Prefix"][len(prefix):].rstrip("/") for p in page.get("CommonPrefixes", [])]
                files += [o["Key"][len(prefix):] for o in page.get("Contents", []) if o["Key"] != prefix]
        return folders, files

    def bucket_exists(self) -> bool:
        with aws_errors(f"checking bucket {self.bucket}"):
            client("s3").head_bucket(Bucket=self.bucket)
        return True
