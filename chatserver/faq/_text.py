"""Text normalisation for matching: how shoppers write, folded into comparable word lists."""

from __future__ import annotations

import functools
import re
import unicodedata

from chatserver.faq._places import fold_places

# Chat shorthand and contractions, applied per word after lower-casing.
_SHORTHAND: dict[str, str] = {
    "u": "you",
    "ya": "you",
    "yu": "you",
    "ur": "your",
    "urs": "yours",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "plzz": "please",
    "plss": "please",
    "pl": "please",
    "pleas": "please",
    "plse": "please",
    "kindly": "please",
    "thx": "thanks",
    "thnx": "thanks",
    "thanx": "thanks",
    "tnx": "thanks",
    "ty": "thanks",
    "tks": "thanks",
    "thank": "thanks",
    "thankyou": "thanks",
    "wat": "what",
    "wht": "what",
    "whats": "what",
    "wheres": "where",
    "whens": "when",
    "hw": "how",
    "hows": "how",
    "wen": "when",
    "abt": "about",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "n": "and",
    "im": "i",
    "ive": "i",
    "id": "i",
    "ill": "i",
    "dont": "not",
    "didnt": "not",
    "doesnt": "not",
    "cant": "not",
    "cannot": "not",
    "wont": "not",
    "havent": "not",
    "hasnt": "not",
    "isnt": "not",
    "wasnt": "not",
    "arent": "not",
    "werent": "not",
    "couldnt": "not",
    "wouldnt": "not",
    "shouldnt": "not",
    "aint": "not",
    "no": "not",
    "never": "not",
    "nope": "not",
    "wanna": "want",
    "gonna": "going",
    "gotta": "must",
    "pkg": "package",
    "pkge": "package",
    "msg": "message",
    "info": "information",
    "acc": "account",
    "acct": "account",
    "pwd": "password",
    "pw": "password",
    "pass": "password",
    "addr": "address",
    "amt": "amount",
    "recd": "received",
    "rcvd": "received",
    "qty": "quantity",
    "asap": "soon",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "2day": "today",
    "2moro": "tomorrow",
    "wk": "week",
    "wks": "weeks",
    "hrs": "hours",
    "hr": "hour",
    "mins": "minutes",
    "dlvry": "delivery",
    "dlvr": "deliver",
    "ordr": "order",
    "oder": "order",
    "mail": "email",
    "emails": "email",
    "gmail": "email",
    "ok": "ok",
    "okay": "ok",
    "k": "ok",
    "kk": "ok",
    "okk": "ok",
    "colour": "color",
    "colours": "colors",
    "cancelled": "cancel",
    "canceled": "cancel",
    "cancellation": "cancel",
    "cancelling": "cancel",
    "canceling": "cancel",
    "america": "usa",
    "uk": "uk",
    "au": "australia",
    "aus": "australia",
    "oz": "australia",
    "nz": "zealand",
}

# Words that say little about which answer is wanted.
STOPWORDS: frozenset[str] = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "me",
        "my",
        "mine",
        "myself",
        "we",
        "our",
        "us",
        "you",
        "your",
        "yours",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "is",
        "am",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "about",
        "from",
        "as",
        "into",
        "over",
        "after",
        "before",
        "up",
        "down",
        "out",
        "off",
        "so",
        "than",
        "too",
        "very",
        "just",
        "also",
        "and",
        "or",
        "but",
        "if",
        "then",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "please",
        "hi",
        "hello",
        "hey",
        "thanks",
        "dear",
        "sir",
        "madam",
        "team",
        "guys",
        "ok",
        "yes",
        "yeah",
        "oh",
        "well",
        "really",
        "still",
        "some",
        "any",
        "all",
        "get",
        "got",
        "want",
        "wanted",
        "need",
        "needed",
        "like",
        "know",
        "tell",
        "let",
        "help",
        "wondering",
        "question",
        "quick",
        "asking",
        "ask",
        "im",
        "going",
        "one",
        "thing",
        "things",
        "anyone",
        "someone",
        "something",
        "now",
        "today",
        "just",
        "hii",
        "hiii",
        "helo",
        "hy",
        "heyy",
        "hiya",
        "howdy",
        "greetings",
        "morning",
        "afternoon",
        "evening",
    ]
)

# Concepts that occur in many questions without saying which answer is wanted; they count less.
GENERIC: frozenset[str] = frozenset(
    [
        "order",
        "product",
        "item",
        "how",
        "where",
        "when",
        "why",
        "use",
        "know",
        "check",
        "plac",
        "work",
        "go",
        "find",
        "see",
        "look",
        "make",
        "time",
        "day",
        "do",
        "not",
        "buy",
        "way",
    ]
)

# Words that differ between phrasings of one question, folded onto one stem. Keys and values are
# stems (see stem()); a value may also be a new concept word.
_SYNONYMS: dict[str, str] = {
    "parcel": "packag",
    "shipment": "packag",
    "box": "packag",
    "arriv": "deliver",
    "arrival": "deliver",
    "deliverabl": "deliver",
    "receiv": "deliver",
    "com": "deliver",
    "dispatch": "ship",
    "sent": "ship",
    "send": "ship",
    "post": "ship",
    "postag": "ship",
    "courier": "carrier",
    "reimburs": "refund",
    "repay": "refund",
    "money": "refund",
    "cancl": "cancel",
    "cancle": "cancel",
    "cancell": "cancel",
    "trac": "track",
    "trace": "track",
    "tracker": "track",
    "price": "cost",
    "pric": "cost",
    "fee": "cost",
    "charg": "cost",
    "free": "cost",
    "expens": "cost",
    "paid": "pay",
    "payment": "pay",
    "checkout": "pay",
    "card": "pay",
    "voucher": "coupon",
    "promo": "coupon",
    "discount": "coupon",
    "broken": "damag",
    "broke": "damag",
    "defect": "damag",
    "defectiv": "damag",
    "fault": "damag",
    "crack": "damag",
    "torn": "damag",
    "ripp": "damag",
    "smash": "damag",
    "incorrect": "wrong",
    "mistak": "wrong",
    "swap": "exchang",
    "replac": "exchang",
    "replacement": "exchang",
    "login": "log",
    "signin": "log",
    "sign": "log",
    "dut": "custom",
    "tax": "custom",
    "vat": "custom",
    "gst": "custom",
    "import": "custom",
    "tariff": "custom",
    "receipt": "invoic",
    "bill": "invoic",
    "restock": "stock",
    "availabl": "stock",
    "availabilit": "stock",
    "guarante": "warrant",
    "late": "delay",
    "slow": "delay",
    "stuck": "delay",
    "wait": "delay",
    "forever": "delay",
    "stolen": "lost",
    "chang": "modif",
    "edit": "modif",
    "alter": "modif",
    "nation": "countr",
    "region": "countr",
    "loc": "countr",
    "area": "countr",
    "pincod": "postcod",
    "zip": "postcod",
    "pin": "postcod",
    "zipcod": "postcod",
    "postal": "postcod",
}

_CONTRACTION = re.compile(r"n['’]t\b")
_APOSTROPHE = re.compile(r"['’`´]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPEAT = re.compile(r"(\w)\1{2,}")
# Phrases written several ways, folded after shorthand so both sides of a match read alike. The
# parts of "pin code" must not count apart: "code" alone points at discount codes.
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\b(?:pin|zip|post|postal|area) ?codes?\b|\b(?:pin|zip)codes?\b", "postcode"),
        # "how much time", "how many days": a question about how long, not about a price.
        (r"\bhow (?:much|many) (?:time|days?|weeks?|hours?)\b", "how long"),
        # "were s my order", "wer is it": "where's" without its "h" or its apostrophe.
        (r"^(?:were|wer|whr|whre|wher) (?:s|is) ", "where is "),
    )
)
# A long run of digits is an order number, a postcode or a phone number: the digits say nothing
# about the question, and as they are they would only dilute the character n-grams.
_LONG_NUMBER = re.compile(r"\b\d{5,}\b")
# "2kg", "11am", "size42": a number written onto its unit reads as one unknown word otherwise.
_NUMBER_EDGE = re.compile(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)")
#: What every long number becomes.
NUMBER = "0"
_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s", "e", "y")


def normalise(text: str) -> str:
    """Fold case, width, accents and fancy letters; drop punctuation; expand shorthand and places.

    Returns the words joined by single spaces.
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _CONTRACTION.sub(" not", text)
    text = _APOSTROPHE.sub("", text)
    text = _REPEAT.sub(r"\1\1", text)
    words = _NON_WORD.sub(" ", _NUMBER_EDGE.sub(" ", text)).split()
    folded = " ".join(_SHORTHAND.get(word, word) for word in words)
    for pattern, replacement in _PHRASES:
        folded = pattern.sub(replacement, folded)
    return fold_places(_LONG_NUMBER.sub(NUMBER, folded))


def stem(word: str) -> str:
    """Strip a common English suffix, keeping at least three letters."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 4 and word[-1] == word[-2]:
        word = word[:-1]
    return word


@functools.lru_cache(maxsize=50_000)
def concept(word: str) -> str:
    """Map one normalised word to its stem, then to a shared synonym if it has one."""
    stemmed = stem(word)
    return _SYNONYMS.get(stemmed, _SYNONYMS.get(word, stemmed))


def content_words(normalised: str) -> list[str]:
    """Return the words of a normalised text that carry meaning, in order."""
    return [word for word in normalised.split() if word not in STOPWORDS and len(word) > 1]
