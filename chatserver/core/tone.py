"""The hook through which agent messages are checked against the shop's tone rules.

The rules and their matcher live in the playbook (``chatserver.playbook.tone``); the app plugs
the current ones in, so the hub counts flagged messages without importing the playbook. A check
only counts: it never stops a message.
"""

from __future__ import annotations

from collections.abc import Callable

ToneCheck = Callable[[str, str], bool]
"""``(text, locale) -> flagged``: whether a rule of the locale's language flags the text."""


def no_tone_check(text: str, locale: str) -> bool:
    """No rules: nothing is flagged."""
    return False
