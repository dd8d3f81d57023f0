"""The shop's bot, canned replies and checks built from its configuration documents.

The documents are the files of ``faq_data/`` (``shop.toml``, ``faq.toml``, ``faq.<lang>.toml``,
``canned.toml``) as TOML text, kept in the store. They are written to a scratch folder and loaded
with the same loaders as the files, so a document and a file are read exactly alike.
"""

from __future__ import annotations

import re
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from chatserver.domain.bot import Bot, NoBot
from chatserver.domain.playbook import DOCUMENT as PLAYBOOK
from chatserver.domain.playbook import parse_playbook
from chatserver.domain.protocol import CannedReply
from chatserver.domain.shop import ShopSettings, load_shop
from chatserver.faq.check import check_faq
from chatserver.faq.models import FaqError, FaqProblem
from chatserver.faq.shop_bot import ShopBot

DOCUMENT_NAME = re.compile(
    r"^(shop|canned|playbook|faq(\.[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?)?"
    r"|tone\.[a-z]{2,3}(-[A-Za-z0-9]{2,8})?"
    r"|notices\.[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?)\.toml$"
)  # notices.<lang>.toml: the shop's notice texts (core/notices.py); tone.<lang>.toml: the tone
# coach's rules, checked by the playbook
STORE_ONLY = frozenset({"integrations.toml"})
"""Documents kept in the store only and never written out as files: they hold secrets."""


class ConfigProblems(ValueError):
    """The documents would not load; each problem is ``(where, message)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {message}" for where, message in problems))


@dataclass
class Built:
    """What a set of documents gives the server."""

    bot: Bot
    shop: ShopSettings | None = None
    canned: list[CannedReply] = field(default_factory=list)


def read_dir(folder: Path) -> dict[str, str]:
    """The configuration documents in a folder (its shop, FAQ and canned files)."""
    if not folder.is_dir():
        return {}
    return {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(folder.iterdir())
        if path.is_file() and DOCUMENT_NAME.match(path.name)
    }


def write_dir(documents: Mapping[str, str], folder: Path) -> None:
    """Write documents as files; the names are checked so nothing lands outside ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in documents.items():
        if name in STORE_ONLY:
            continue
        if not DOCUMENT_NAME.match(name):
            raise ValueError(f"not a configuration document name: {name!r}")
        (folder / name).write_text(text, encoding="utf-8")


def parse_canned(text: str) -> list[CannedReply]:
    """The ``[[reply]]`` tables of a canned.toml. Raises ConfigProblems."""
    try:
        data = tomllib.loads(text)
        return [CannedReply.model_validate(item) for item in data.get("reply", [])]
    except tomllib.TOMLDecodeError as exc:
        raise ConfigProblems([("canned.toml", f"not valid TOML: {exc}")]) from exc
    except ValidationError as exc:
        raise ConfigProblems(
            [("canned.toml", f"{_loc(e['loc'])}: {e['msg']}") for e in exc.errors()]
        ) from exc


def build(documents: Mapping[str, str], target_s: float) -> Built:
    """Load the documents into a bot (NoBot without ``faq.toml``) and canned replies.

    Raises:
        ConfigProblems: a document is invalid; nothing of it should be used.
    """
    canned = parse_canned(documents.get("canned.toml", ""))
    try:
        parse_playbook(documents.get(PLAYBOOK))
    except ValueError as exc:
        raise ConfigProblems([(PLAYBOOK, str(exc))]) from exc
    if "shop.toml" not in documents:
        return Built(NoBot(), None, canned)
    with tempfile.TemporaryDirectory(prefix="chatserver-shop-") as scratch:
        folder = Path(scratch)
        write_dir(documents, folder)
        try:
            shop = load_shop(folder / "shop.toml")
        except ValidationError as exc:
            raise ConfigProblems(
                [(f"shop.toml {_loc(e['loc'])}", e["msg"]) for e in exc.errors()]
            ) from exc
        except ValueError as exc:
            raise ConfigProblems([("shop.toml", str(exc).replace(scratch + "/", ""))]) from exc
        if "faq.toml" not in documents:
            return Built(NoBot(), shop, canned)
        try:
            bot = ShopBot.from_dir(folder, shop.response_target_s)
        except FaqError as exc:
            raise ConfigProblems([_where(p, scratch) for p in exc.problems]) from exc
    return Built(bot, shop, canned)


def check(documents: Mapping[str, str]) -> list[tuple[str, str]]:
    """What ``chatserver faq check`` says about the documents' FAQ (ambiguous questions too)."""
    if "faq.toml" not in documents:
        return []
    with tempfile.TemporaryDirectory(prefix="chatserver-check-") as scratch:
        write_dir(documents, Path(scratch))
        return [_where(p, scratch) for p in check_faq(Path(scratch) / "faq.toml")]


def _where(problem: FaqProblem, scratch: str) -> tuple[str, str]:
    file = Path(problem.file).name if problem.file.startswith(scratch) else problem.file
    return f"{file} {problem.entry}", problem.message


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)
