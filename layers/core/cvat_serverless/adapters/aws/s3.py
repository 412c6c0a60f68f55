"""S3BlobStore: the media bucket.

Big objects move as managed transfers (boto3's TransferConfig): multipart above
MULTIPART_THRESHOLD, in MULTIPART_CHUNK parts, a few at once, so a Lambda holds at most
``chunk x concurrency`` bytes of a file in memory. Copies are server-side (one CopyObject up to
S3's 5 GiB limit, a multipart copy above it).

Presigned URLs (SigV4, the bucket's region) are on the storage's own origin, see
``clients.presigner``: clients follow them without the API's credentials. A URL signed with a
Lambda's temporary credentials stops working when those credentials expire, whatever ``expires``
says (at most the role session's lifetime).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO

from botocore.exceptions import ClientError

from ...domain.errors import ConflictError, ValidationError
from ..content_disposition import attachment_disposition
from .clients import client, presigner
from .errors import aws_errors, error_code

MIB = 1024 * 1024
MULTIPART_THRESHOLD = 64 * MIB
MULTIPART_CHUNK = 16 * MIB
TRANSFER_CONCURRENCY = 8
MAX_COPY_OBJECT = 5 * 1024 * MIB
"""The largest object one CopyObject copies (S3's limit)."""
DELETE_BATCH = 1000
"""The most keys one DeleteObjects deletes (S3's limit)."""
MAX_PART_NUMBER = 10_000

# CompleteMultipartUpload's answers to a client's bad part list: the caller's mistake, not AWS's.
_BAD_PARTS = frozenset({"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML"})


def _transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig  # deferred with boto3 (see clients)

    return TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_CHUNK,
                          max_concurrency=TRANSFER_CONCURRENCY)


class S3BlobStore:
    def __init__(self, bucket: str, *, region: str | None = None) -> None:
        """``region``: the bucket's; by default the SDK's own (the stack's, which holds the bucket)."""
        self.bucket = bucket
        self._region = region

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def put(self, key: str, body: bytes | BinaryIO, *, content_type: str = "") -> None:
        extra = {"ContentType": content_type} if content_type else {}
        with aws_errors(f"writing {self._where(key)}"):
            client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, **extra)

    def create(self, key: str, body: bytes, *, content_type: str = "") -> None:
        extra = {"ContentType": content_type} if content_type else {}
        try:
            with aws_errors(f"writing {self._where(key)}"):
                client("s3").put_object(Bucket=self.bucket, Key=key, Body=body, IfNoneMatch="*", **extra)
        except ClientError as exc:
            # 412: the key exists; 409: a concurrent conditional write of it is in flight
            if error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise ConflictError(f"writing {self._where(key)}: the object already exists.") from None
            raise

    def get(self, key: str) -> bytes:
        with aws_errors(f"reading {self._where(key)}"):
            return bytes(client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def head(self, key: str) -> Mapping[str, Any]:
        with aws_errors(f"reading {self._where(key)}"):
            answer = client("s3").head_object(Bucket=self.bucket, Key=key)
        return {
            "size": int(answer["ContentLength"]),
            "content_type": answer.get("ContentType", ""),
            "etag": str(answer.get("ETag", "")).strip('"'),
            "last_modified": answer.get("LastModified"),
        }

    def get_range(self, key: str, start: int, end: int) -> bytes:
        with aws_errors(f"reading {self._where(key)}"):
            answer = client("s3").get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}")
        return bytes(answer["Body"].read())

    def _pages(self, prefix: str, **extra: Any) -> Iterator[Mapping[str, Any]]:
        """ListObjectsV2 pages (1000 keys each), read as the caller goes."""
        pages = iter(client("s3").get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, **extra))
        while True:
            with aws_errors(f"listing {self._where(prefix)}"):
                page = next(pages, None)
            if page is None:
                return
            yield page

    def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        folders: list[str] = []
        files: list[str] = []
        for page in self._pages(prefix, Delimiter="/"):
            folders += [p["Prefix"][len(prefix):].rstrip("/") for p in page.get("CommonPrefixes", [])]
            files += [o["Key"][len(prefix):] for o in page.get("Contents", []) if o["Key"] != prefix]
        return folders, files

    def list_keys(self, prefix: str) -> Iterator[tuple[str, int]]:
        for page in self._pages(prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"], int(obj["Size"])

    def delete(self, key: str) -> None:
        with aws_errors(f"deleting {self._where(key)}"):
            client("s3").delete_object(Bucket=self.bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        # Each listed page is deleted before the next is read: the continuation token is a
        # position in key order, which deleting the keys before it does not move.
        deleted = 0
        batch: list[str] = []
        for key, _ in self.list_keys(prefix):
            batch.append(key)
            if len(batch) == DELETE_BATCH:
                self._delete_keys(prefix, batch)
                deleted, batch = deleted + len(batch), []
        if batch:
            self._delete_keys(prefix, batch)
        return deleted + len(batch)

    def delete_many(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            self._delete_keys("", keys[start:start + DELETE_BATCH])

    def _delete_keys(self, prefix: str, keys: Sequence[str]) -> None:
        what = f"deleting {len(keys)} objects under {self._where(prefix)}"
        with aws_errors(what):
            answer = client("s3").delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
            errors = answer.get("Errors") or []
            if errors:  # a partial failure answers 200: raise it as the error of the first key
                first = errors[0]
                raise ClientError({"Error": {"Code": first.get("Code", ""), "Message": (
                    f"{len(errors)} of {len(keys)} keys not deleted, e.g. {first.get('Key')}: "
                    f"{first.get('Message', '')}")}}, "DeleteObjects")

    def download(self, key: str, path: str) -> None:
        with aws_errors(f"downloading {self._where(key)}"):
            client("s3").download_file(self.bucket, key, path, Config=_transfer_config())

    def upload(self, path: str, key: str, *, content_type: str = "") -> None:
        from boto3.exceptions import S3UploadFailedError

        extra = {"ContentType": content_type} if content_type else {}
        with aws_errors(f"uploading {self._where(key)}"):
            try:
                client("s3").upload_file(path, self.bucket, key, ExtraArgs=extra, Config=_transfer_config())
            except S3UploadFailedError as exc:  # boto3 wraps the ClientError that failed the upload
                if isinstance(exc.__context__, ClientError):
                    raise exc.__context__ from exc
                raise

    def copy(self, source_key: str, key: str) -> None:
        source = self.head(source_key)
        what = f"copying {self._where(source_key)} to {key}"
        with aws_errors(what):
            copy_source = {"Bucket": self.bucket, "Key": source_key}
            if source["size"] <= MAX_COPY_OBJECT:
                client("s3").copy_object(Bucket=self.bucket, Key=key, CopySource=copy_source)
            else:  # a multipart copy: parts of UploadPartCopy, run by the transfer manager
                extra = {"ContentType": source["content_type"]} if source["content_type"] else {}
                client("s3").copy(copy_source, self.bucket, key, ExtraArgs=extra, Config=_transfer_config())

    # ------------------------------------------------------------------ presigned URLs
    @property
    def region(self) -> str:
        return self._region or client("s3").meta.region_name or "us-east-1"

    def _presign(self, operation: str, params: Mapping[str, Any], expires: int) -> str:
        with aws_errors(f"signing a URL for {self._where(params['Key'])}"):
            return str(presigner(self.region, self.bucket).generate_presigned_url(
                operation, Params={"Bucket": self.bucket, **params}, ExpiresIn=expires))

    def presigned_get(self, key: str, *, expires: int = 3600, filename: str | None = None,
                      content_type: str | None = None) -> str:
        params: dict[str, Any] = {"Key": key}
        if filename is not None:
            params["ResponseContentDisposition"] = attachment_disposition(filename)
        if content_type:
            params["ResponseContentType"] = content_type
        return self._presign("get_object", params, expires)

    def presigned_put(self, key: str, *, content_type: str, expires: int = 3600) -> str:
        return self._presign("put_object", {"Key": key, "ContentType": content_type}, expires)

    def start_multipart(self, key: str, *, content_type: str = "") -> str:
        extra = {"ContentType": content_type} if content_type else {}
        with aws_errors(f"starting an upload of {self._where(key)}"):
            answer = client("s3").create_multipart_upload(Bucket=self.bucket, Key=key, **extra)
        return str(answer["UploadId"])

    def presigned_part(self, key: str, upload_id: str, part_number: int, *, expires: int = 3600) -> str:
        if not 1 <= part_number <= MAX_PART_NUMBER:
            raise ValidationError(f"Part numbers are 1 to {MAX_PART_NUMBER}, not {part_number}.")
        return self._presign("upload_part", {"Key": key, "UploadId": upload_id, "PartNumber": part_number},
                             expires)

    def upload_part(self, key: str, upload_id: str, part_number: int, body: bytes) -> str:
        with aws_errors(f"writing part {part_number} of {self._where(key)}"):
            answer = client("s3").upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                              PartNumber=part_number, Body=body)
        return str(answer["ETag"]).strip('"')

    def copy_part(self, key: str, upload_id: str, part_number: int, source_key: str, *, start: int, end: int) -> str:
        with aws_errors(f"copying {self._where(source_key)} into part {part_number} of {self._where(key)}"):
            answer = client("s3").upload_part_copy(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=part_number,
                CopySource={"Bucket": self.bucket, "Key": source_key}, CopySourceRange=f"bytes={start}-{end}")
        return str(answer["CopyPartResult"]["ETag"]).strip('"')

    def complete_multipart(self, key: str, upload_id: str, parts: Sequence[tuple[int, str]]) -> None:
        numbers = [n for n, _ in parts]
        if not numbers or numbers != sorted(set(numbers)):  # S3's InvalidPartOrder, said before asking
            raise ValidationError("The parts must be listed once each, in ascending order.")
        listed = [{"PartNumber": n, "ETag": f'"{etag.strip(chr(34))}"'} for n, etag in parts]
        try:
            with aws_errors(f"completing the upload of {self._where(key)}"):
                client("s3").complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed})
        except ClientError as exc:
            if error_code(exc) in _BAD_PARTS:
                raise ValidationError(f"The parts of {key} cannot be joined: {exc}") from exc
            raise

    def abort_multipart(self, key: str, upload_id: str) -> None:
        with aws_errors(f"aborting the upload of {self._where(key)}"):
            try:
                client("s3").abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except ClientError as exc:
                if error_code(exc) != "NoSuchUpload":  # else completed or aborted already: nothing to do
                    raise

    def bucket_exists(self) -> bool:
        with aws_errors(f"checking bucket {self.bucket}"):
            client("s3").head_bucket(Bucket=self.bucket)
        return True
