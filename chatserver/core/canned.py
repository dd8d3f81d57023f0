"""A shop's canned replies from `faq_data/canned.toml`, which agents insert with a shortcut."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

from pydantic import ValidationError

from chatserver.domain.protocol import CannedReply

log = logging.getLogger("chatserver.core.canned")


def load_canned(path: Path) -> list[CannedReply]:
    """The replies in ``path`` (``[[reply]]`` tables of shortcut, title, text), read on each call.

    Read every time so a shop can edit the file while the server runs. A missing file means no
    canned replies; a broken one is logged and gives none, rather than breaking the console.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return [CannedReply.model_validate(item) for item in data.get("reply", [])]
    except FileNotFoundError:
        return []
    except (tomllib.TOMLDecodeError, ValidationError, OSError) as exc:
        log.warning("canned replies in %s are not usable: %s", path, exc)
        return []
