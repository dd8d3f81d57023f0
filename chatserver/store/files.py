"""The ``Files`` port's adapters that need no server: in memory, and files on disk."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

from chatserver.store.ports import Files

_KEY = re.compile(r"^[A-Za-z0-9_.:@-]{1,100}(/[A-Za-z0-9_.:@-]{1,100})?$")


def checked_key(key: str) -> str:
    """A key that cannot name anything outside the store (no ``..``, no absolute path)."""
    if not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"not a file key: {key!r}")
    return key


class MemoryFiles(Files):
    """Files in a dictionary: for the memory store and tests; forgotten on exit."""

    def __init__(self) -> None:
        self._files: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self._files[checked_key(key)] = bytes(data)

    async def get(self, key: str) -> bytes | None:
        return self._files.get(checked_key(key))

    async def exists(self, key: str) -> bool:
        return checked_key(key) in self._files

    async def delete(self, key: str) -> bool:
        return self._files.pop(checked_key(key), None) is not None


class DiskFiles(Files):
    """Files in a folder (the embedded store's, under the data dir), one per key.

    A file is written to a temporary name, synced, then renamed: a reader never sees half of
    one, and a crash leaves either the whole file or none. Disk work runs in a thread.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / checked_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        with open(partial, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def delete(self, key: str) -> bool:
        try:
            await asyncio.to_thread(self._path(key).unlink)
        except FileNotFoundError:
            return False
        return True
