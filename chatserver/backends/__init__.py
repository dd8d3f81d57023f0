"""Stores behind the one Backend interface; ``backend_from_url`` picks one by URL scheme."""

from __future__ import annotations

from pathlib import Path

from chatserver.backends.base import Backend


def backend_from_url(url: str, *, prefix: str = "chat:") -> Backend:
    """Build the backend a URL names: ``sqlite:///path`` (embedded) or ``redis://``/``rediss://``.

    ``prefix`` goes before every Redis key and channel (ignored by the embedded backend).

    Raises:
        ValueError: the scheme is not one we have.
    """
    scheme = url.split(":", 1)[0]
    if scheme == "sqlite":
        from chatserver.backends.sqlite import SQLiteBackend

        return SQLiteBackend(Path(url.removeprefix("sqlite://")))
    if scheme in ("redis", "rediss"):
        from chatserver.backends.redis import RedisBackend

        return RedisBackend(url, prefix=prefix)
    raise ValueError(f"unknown backend URL scheme {scheme!r}: use sqlite:///PATH or redis://HOST")
