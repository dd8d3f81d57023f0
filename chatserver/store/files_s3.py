"""The ``Files`` port on S3-compatible object storage (AWS S3, MinIO, ...) through aiobotocore.

The Redis deployment's workers may run on several machines: they share attachments through a
bucket, as they share everything else through Redis. Objects are keyed ``<prefix><key>``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from chatserver.store.files import checked_key
from chatserver.store.ports import Files, StoreUnavailable

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


@contextlib.contextmanager
def _guard() -> Iterator[None]:
    """Turn an unreachable or failing object store into StoreUnavailable."""
    try:
        yield
    except BotoCoreError as exc:
        raise StoreUnavailable(f"object storage is unreachable: {exc}") from exc


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING


class S3Files(Files):
    """Attachments as objects in one bucket, created on start when it does not exist."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str = "",
        region: str = "us-east-1",
        access_key_id: str = "",
        secret_access_key: str = "",
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint_url
        self._options: dict[str, Any] = {
            "region_name": region,
            "endpoint_url": endpoint_url or None,
            "aws_access_key_id": access_key_id or None,
            "aws_secret_access_key": secret_access_key or None,
            # Fail fast: an outage must reach the uploader as a 503, not hang the request.
            "config": AioConfig(
                connect_timeout=3, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"}
            ),
        }
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None

    async def start(self) -> None:
        self._client = await self._stack.enter_async_context(
            get_session().create_client("s3", **self._options)
        )
        with _guard():
            try:
                await self._client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if not _missing(exc):
                    raise
                await self._create_bucket()

    async def _create_bucket(self) -> None:
        region = self._options["region_name"]
        extra = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        try:
            await self._client.create_bucket(Bucket=self.bucket, **extra)
        except ClientError as exc:  # another worker made it first
            if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou",):
                raise

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None

    def _key(self, key: str) -> str:
        return self.prefix + checked_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        with _guard():
            await self._client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
            )

    async def get(self, key: str) -> bytes | None:
        with _guard():
            try:
                reply = await self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if _missing(exc):
                    return None
                raise
            async with reply["Body"] as body:
                data: bytes = await body.read()
        return data

    async def exists(self, key: str) -> bool:
        with _guard():
            try:
                await self._client.head_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as exc:
                if _missing(exc):
                    return False
                raise
        return True

    async def delete(self, key: str) -> bool:
        # S3's delete succeeds whether or not the object was there: ask first.
        if not await self.exists(key):
            return False
        with _guard():
            await self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        return True
