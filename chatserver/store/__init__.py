"""The store: ports (``ports``), the bus (``bus``) and their adapters: memory, SQLite, Redis."""

from __future__ import annotations

from pathlib import Path

from chatserver.domain.settings import Settings
from chatserver.store.base import Store
from chatserver.store.files import DiskFiles
from chatserver.store.ports import Files


def store_from_url(url: str, *, prefix: str = "chat:") -> Store:
    """Build the store a URL names: ``sqlite:///path`` (embedded), ``redis://``/``rediss://``
    (scale-out) or ``memory://`` (this process only, forgotten on exit).

    ``prefix`` goes before every Redis key and channel (ignored by the others).

    Raises:
        ValueError: the scheme is not one we have.
    """
    scheme = url.split(":", 1)[0]
    if scheme == "sqlite":
        from chatserver.store.sqlite import SQLiteStore

        return SQLiteStore(Path(url.removeprefix("sqlite://")))
    if scheme in ("redis", "rediss"):
        from chatserver.store.redis import RedisStore

        return RedisStore(url, prefix=prefix)
    if scheme == "memory":
        from chatserver.store.memory import MemoryStore

        return MemoryStore()
    raise ValueError(
        f"unknown store URL scheme {scheme!r}: use sqlite:///PATH, redis://HOST or memory://"
    )


def store_for(settings: Settings) -> Store:
    """The store the settings ask for: Redis when a URL is set, else the embedded SQLite file.

    Attachments go to the S3 bucket when one is set, else to files under the data dir.
    """
    if settings.redis_url:
        store = store_from_url(settings.redis_url, prefix=settings.redis_prefix)
    else:
        store = store_from_url(f"sqlite://{settings.database_path.resolve()}")
    store.files = files_for(settings)
    return store


def files_for(settings: Settings) -> Files:
    """Attachments' storage: the S3 bucket when set, else a folder under the data dir."""
    if not settings.s3_bucket:
        return DiskFiles(settings.files_dir.resolve())
    from chatserver.store.files_s3 import S3Files

    return S3Files(
        settings.s3_bucket,
        prefix=settings.redis_prefix if settings.redis_url else "",
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )
