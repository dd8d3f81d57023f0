"""Attachments' rules: which files a shop accepts, told from their content, and safe names.

The type is read from the first bytes (magic numbers), never from the name or the declared
content type: a program renamed ``parcel.png`` is refused.
"""

from __future__ import annotations

import re
import unicodedata

from chatserver.domain.errors import ChatError

# (content type, extension, signature test); the first match wins.
_SIGNATURES: tuple[tuple[str, str, str], ...] = (
    ("image/jpeg", ".jpg", "jpeg"),
    ("image/png", ".png", "png"),
    ("image/gif", ".gif", "gif"),
    ("image/webp", ".webp", "webp"),
    ("application/pdf", ".pdf", "pdf"),
)
EXTENSIONS = {content_type: ext for content_type, ext, _ in _SIGNATURES}
DEFAULT_TYPES = [content_type for content_type, _, _ in _SIGNATURES]
SNIFF_BYTES = 16
"""How many leading bytes :func:`sniff` needs."""

# Well-known formats that are refused, only to say what a disguised file really is.
_KNOWN_OTHERS = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"#!", "a script"),
    (b"<", "an HTML or XML document"),
)


class FileRefused(ChatError):
    """Raised when a file is not one the shop accepts (type or size); nothing was stored."""

    code = "file_refused"

    def __init__(self, message: str, status: int = 415) -> None:
        super().__init__(message)
        self.status = status


def _matches(test: str, head: bytes) -> bool:
    if test == "jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if test == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if test == "gif":
        return head.startswith((b"GIF87a", b"GIF89a"))
    if test == "webp":
        return head.startswith(b"RIFF") and head[8:12] == b"WEBP"
    return head.startswith(b"%PDF-")


def sniff(head: bytes) -> str | None:
    """The content type the leading bytes show, among those we know; None if none matches."""
    for content_type, _, test in _SIGNATURES:
        if _matches(test, head):
            return content_type
    return None


def _what_it_is(head: bytes) -> str:
    for magic, what in _KNOWN_OTHERS:
        if head.lstrip().startswith(magic):
            return f"; its content is {what}"
    return ""


def _type_names(allowed: list[str]) -> str:
    names = [EXTENSIONS.get(t, t).lstrip(".").upper().replace("JPG", "JPEG") for t in allowed]
    return ", ".join(names)


def check_file(head: bytes, size: int, allowed: list[str], max_bytes: int) -> str:
    """The content type of a file the shop accepts. Raises FileRefused (type, size or empty)."""
    if size == 0:
        raise FileRefused("the file is empty", status=400)
    if size > max_bytes:
        raise FileRefused(too_large(max_bytes), status=413)
    content_type = sniff(head)
    if content_type is None or content_type not in allowed:
        raise FileRefused(
            f"only these files can be attached: {_type_names(allowed)}{_what_it_is(head)}"
        )
    return content_type


def too_large(max_bytes: int) -> str:
    """What a shopper is told about a file over the limit."""
    return f"the file is larger than the shop's limit of {max_bytes / 1_048_576:g} MB"


_UNSAFE = re.compile(r"[^\w.\- ()]+")


def safe_name(name: str, content_type: str) -> str:
    """A file name fit to show and to put in a header: no path, no control characters, at most
    100 characters, ending in the extension of its real type."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" ._") or "file"
    ext = EXTENSIONS[content_type]
    stem, dot, old_ext = name.rpartition(".")
    if not dot or "." + old_ext.lower() not in (ext, ".jpeg" if ext == ".jpg" else ext):
        stem = name
    else:
        ext = "." + old_ext
    return stem[: 100 - len(ext)] + ext
