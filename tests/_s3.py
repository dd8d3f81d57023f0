"""A real S3-compatible server for the scale-out file store's tests: moto's standalone server.

It is a real HTTP server speaking the S3 API (``moto[server]`` from PyPI, installed by the
test extra), started once per test session as a subprocess on a free port.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from chatserver.bench._system import free_port
from chatserver.store.files_s3 import S3Files

S3_KEYS = {"access_key_id": "test-key", "secret_access_key": "test-secret"}


@pytest.fixture(scope="session")
def s3_url() -> Iterator[str]:
    """The address of a running S3-compatible server, for the whole session."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, "the S3 server exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "the S3 server did not start"
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


def s3_files(url: str, bucket: str = "") -> S3Files:
    """Files in a bucket of their own on that server (or in ``bucket``, to share one)."""
    return S3Files(bucket or f"test-{uuid.uuid4().hex[:12]}", endpoint_url=url, **S3_KEYS)
