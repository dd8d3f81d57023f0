"""Shopper and agent languages as routing compares them, and the shop's rules for waiting on one.

Routing compares primary language subtags: "de-AT" and "de" are one language, and so are "zh-CN"
and "zh". The conversation keeps its full code for display.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def language_key(code: str) -> str:
    """The key routing compares: "de-AT" -> "de", "zh_CN" -> "zh", "" -> ""."""
    return code.replace("_", "-").split("-")[0].strip().lower()


@dataclass(frozen=True)
class LanguageRules:
    """How long a conversation waits for an agent who speaks its language.

    Args:
        first: the shop's first language: what an agent who declares none speaks.
        wait_s: seconds a conversation waits for a speaker of its language (then the response
            target is at risk and anyone with a seat takes it); None: half the response target.
    """

    first: str = "en"
    wait_s: float | None = None

    def wait(self, target_s: float) -> float:
        """Seconds to wait for a speaker, for this response target."""
        return target_s / 2 if self.wait_s is None else self.wait_s

    def spoken(self, declared: Iterable[str]) -> list[str]:
        """The language keys of an agent who declared these (the shop's first if none)."""
        keys = sorted({language_key(code) for code in declared if language_key(code)})
        return keys or [language_key(self.first)]
