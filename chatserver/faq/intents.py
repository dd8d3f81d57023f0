"""Recognise what is not a FAQ question: asking for a person, greetings, and thanks."""

from __future__ import annotations

import re
from enum import StrEnum

from chatserver.faq._text import normalise


class Intent(StrEnum):
    """A message kind the bot answers without the FAQ."""

    HANDOFF = "handoff"
    GREETING = "greeting"
    THANKS = "thanks"


_STRONG = (
    r"(?:humans?|agents?|representatives?|rep|operators?|executives?|advisou?r|supervisor|"
    r"manager|customer (?:service|care|support)|support(?: team| staff)?|live chat|"
    r"(?:real|live|actual) (?:person|human|people|agent))"
)
_WEAK = r"(?:person|people|someone|somebody|anybody|anyone|staff|employee|member of staff)"
_TALK = r"(?:talk|speak|chat|connect|transfer|put me through|pass me|forward|escalate|reach|call)"
_WANT = r"(?:want|need|like|prefer|get|give|request|ask for|have)"
# "talk to a human", "can i speak with someone", "connect me to an agent", "i want a live agent"
_REQUEST = re.compile(
    rf"\b{_TALK}\b(?:\s+\w+){{0,4}}?\s+(?:{_STRONG}|{_WEAK})\b"
    rf"|\b{_WANT}\b(?:\s+\w+){{0,3}}?\s+{_STRONG}\b"
    rf"|\b{_WANT}\s+(?:an?\s+|some\s+)?person\b"
    r"|\b(?:someone|somebody|anyone|a person) (?:from|on|in|at) (?:your|the) (?:team|staff|shop|store)"
    r"|\b(?:can|could|will) (?:someone|somebody|anyone|a person) (?:please )?help\b"
    rf"|\b(?:is|are) there (?:a |an |any )?(?:{_STRONG}|person|people)\b"
    # "i want talk", "need to speak": a wish to talk with nobody named is to a person too.
    rf"|\b(?:want|need|like) (?:to )?(?:talk|speak|chat)(?: (?:now|please|urgently))?$"
)
# "human", "agent please", "real person pls", "live chat", "operator!"
_BARE = re.compile(
    rf"^(?:please\s+)?(?:an?\s+|the\s+|your\s+)?(?:{_STRONG}|person)"
    r"(?:\s+(?:person|agent|human|chat|please|now|soon|not|bot))*$"
)
# Saying the bot is no help is a request for a person too.
_FRUSTRATION = re.compile(
    r"\b(?:useless|pathetic|waste of (?:my )?time|not helpful|unhelpful|stupid|dumb bot|"
    r"are you a (?:bot|robot|human)|(?:terrible|worst|horrible|awful|bad|poor|rubbish) "
    r"(?:service|support|bot|experience|help)|complain|complaint|(?:call|phone|ring) me|"
    r"you (?:do |are |did )?not (?:understand|help|helping|listening)|"
    r"not what i asked|not (?:a |the |this )?bot)\b"
)
# Questions about the people rather than requests for them are FAQ questions (contact-hours).
_ABOUT_STAFF = re.compile(
    r"\b(?:hours|open|opening|when|what time|available|availability|online|phone|number|email|"
    r"how (?:can|do) i contact)\b"
)
_GREETING_WORDS = frozenset(
    [
        "hi",
        "hii",
        "hiii",
        "hello",
        "helo",
        "hello",
        "hallo",
        "hey",
        "heyy",
        "hy",
        "hiya",
        "howdy",
        "yo",
        "greetings",
        "good",
        "morning",
        "afternoon",
        "evening",
        "day",
        "there",
        "all",
        "team",
        "guys",
        "folks",
        "sir",
        "madam",
        "dear",
        "how",
        "are",
        "you",
        "doing",
        "namaste",
        "bonjour",
        "hola",
        "ciao",
        "moin",
        "salut",
    ]
)
_THANKS_WORDS = frozenset(
    [
        "thanks",
        "thank",
        "you",
        "much",
        "so",
        "very",
        "many",
        "lot",
        "great",
        "awesome",
        "perfect",
        "cool",
        "nice",
        "good",
        "ok",
        "that",
        "this",
        "helped",
        "helpful",
        "answered",
        "it",
        "got",
        "understood",
        "cheers",
        "appreciate",
        "appreciated",
        "bye",
        "goodbye",
        "have",
        "a",
        "day",
        "nice",
        "wonderful",
        "brilliant",
        "excellent",
        "alright",
        "fine",
        "merci",
        "danke",
        "gracias",
    ]
)
_THANKS_CORE = frozenset(
    ["thanks", "cheers", "appreciate", "appreciated", "merci", "danke", "gracias"]
)
_ACK_CORE = frozenset(
    [
        "ok",
        "great",
        "awesome",
        "perfect",
        "cool",
        "bye",
        "goodbye",
        "alright",
        "helped",
        "understood",
    ]
)


def detect(text: str) -> Intent | None:
    """Return the intent of a message, or None if it may be a FAQ question.

    A hand-off request wins over everything else, so "thanks, but I want a person" hands off.
    """
    words_text = normalise(text)
    if not words_text:
        return None
    if _BARE.match(words_text) or _FRUSTRATION.search(words_text):
        return Intent.HANDOFF
    if _REQUEST.search(words_text) and not _ABOUT_STAFF.search(words_text):
        return Intent.HANDOFF
    words = set(words_text.split())
    if words <= _GREETING_WORDS:
        return Intent.GREETING
    if words <= _THANKS_WORDS and words & (_THANKS_CORE | _ACK_CORE):
        return Intent.THANKS
    return None
