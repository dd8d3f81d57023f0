"""The FAQ bot: load `faq_data/faq.toml`, match shopper questions, decide answer or hand-off."""

from __future__ import annotations

from chatserver.faq._embedding import EmbeddingUnavailable
from chatserver.faq.bot import BotReply, FaqBot
from chatserver.faq.check import check_faq
from chatserver.faq.loader import load_faq
from chatserver.faq.matcher import Match, Matcher
from chatserver.faq.models import Faq, FaqEntry, FaqError, FaqProblem

__all__ = [
    "BotReply",
    "EmbeddingUnavailable",
    "Faq",
    "FaqBot",
    "FaqEntry",
    "FaqError",
    "FaqProblem",
    "Match",
    "Matcher",
    "check_faq",
    "load_faq",
]
