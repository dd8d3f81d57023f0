"""Errors a client can cause; each becomes an ``error`` frame naming what was wrong.

ChatError
├── InvalidFrame          malformed JSON, unknown type, missing or bad field
├── FrameTooLarge         frame over the configured size limit
├── RateLimited           too many frames too fast
├── NotAllowed            a frame this client may not send now
│   └── NotYourConversation
├── NotFound              a conversation or agent that does not exist
├── Unavailable           the backend cannot store right now; retry later
├── Overloaded            the server is behind: a shopper message refused, retry after a hint
├── Unauthorized          missing or wrong token, or a refused origin (closes the socket)
├── IdentityRefused       a customer identity with a wrong signature or past its expiry
├── TimedOut              no hello in time (closes the socket, 1008)
│   └── Idle              no frame for too long (closes the socket, 1000)
└── TooManySockets        too many open sockets from one address (closes the socket, 1013)
"""

from __future__ import annotations


class ChatError(Exception):
    """Base of every error a client is told about."""

    code: str = "error"
    close_code: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidFrame(ChatError):
    """Raised when a frame is not valid JSON or does not match any frame model."""

    code = "invalid_frame"


class FrameTooLarge(ChatError):
    """Raised when a frame is larger than ``max_frame_bytes``."""

    code = "frame_too_large"


class RateLimited(ChatError):
    """Raised when a client sends frames faster than its allowance."""

    code = "rate_limited"


class NotAllowed(ChatError):
    """Raised when a frame is valid but not allowed for this client or state."""

    code = "not_allowed"


class NotYourConversation(NotAllowed):
    """Raised when a client touches a conversation that is not its own."""

    code = "not_your_conversation"


class NotFound(ChatError):
    """Raised when a frame names a conversation or agent that does not exist."""

    code = "not_found"


class Unavailable(ChatError):
    """Raised when the backend cannot store right now; nothing was acknowledged."""

    code = "unavailable"


class Overloaded(ChatError):
    """Raised when the server is too far behind to take a shopper's message now; nothing was
    stored. The client sends the same ``client_id`` again after ``retry_after_ms``."""

    code = "overloaded"

    def __init__(self, message: str, retry_after_ms: int, client_id: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_ms = retry_after_ms
        self.client_id = client_id


class Unauthorized(ChatError):
    """Raised when a token is missing or wrong, or the origin is not allowed."""

    code = "unauthorized"
    close_code = 1008


class TimedOut(ChatError):
    """Raised when a socket does not say hello in time."""

    code = "timeout"
    close_code = 1008


class Idle(TimedOut):
    """Raised when a socket sends nothing for too long; the client may simply reconnect."""

    close_code = 1000


class TooManySockets(ChatError):
    """Raised when one address holds more open sockets than allowed."""

    code = "too_many_sockets"
    close_code = 1013


class IdentityRefused(ChatError):
    """Raised when the shop's customer identity has a wrong or missing signature, or expired;
    the socket stays open and the shopper goes on anonymous."""

    code = "identity_refused"
