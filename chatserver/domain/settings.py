"""The one Settings class: every option of the server, from the environment or a file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatserver.domain.files import DEFAULT_TYPES

EMAIL_PATTERN = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"
"""A plain address, as the shopper's ``leave_email`` frame checks it."""


class Settings(BaseSettings):
    """Server settings; defaults run the embedded demo shop with nothing to install.

    Every field can be set as an environment variable ``CHAT_<NAME>`` or in a ``.env``-style
    file given by ``chatserver serve --config FILE``.
    """

    model_config = SettingsConfigDict(env_prefix="CHAT_", env_file=None, extra="ignore")

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port to listen on.")
    public_url: str = Field(
        "", description="Address shoppers and agents reach the server at; default http://HOST:PORT."
    )
    data_dir: Path = Field(
        Path("chatserver-data"), description="Where the SQLite file and keys live."
    )
    redis_url: str = Field("", description="redis:// URL; set it to share state between workers.")
    redis_prefix: str = Field(
        "chat:", min_length=1, description="Put before every Redis key, so shops can share a Redis."
    )
    workers: int = Field(1, ge=1, le=64, description="Worker processes (more than 1 needs Redis).")
    secret_key: str = Field(
        "", description="Key that signs shopper and agent tokens; generated into data_dir if empty."
    )
    shop_id: str = Field(
        "demo",
        min_length=1,
        max_length=64,
        description="The shop's id until its stored settings (/admin, shop.toml) set one, which wins.",
    )
    faq_dir: Path = Field(
        Path("faq_data"),
        description="Folder of shop.toml, faq*.toml, canned.toml: imported into the store on the first start only; then /admin and `chatserver shop import` change it.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed on the shopper socket (JSON list); the server's own is always in, and those set on /admin are added.",
    )
    max_frame_bytes: int = Field(
        4096, ge=256, le=1_048_576, description="Largest client frame, bytes."
    )
    response_target_s: float = Field(
        60.0,
        gt=0,
        description="First-response target, s, until the shop's stored settings (/admin, shop.toml) set one, which wins.",
    )
    agent_grace_s: float = Field(
        30.0, ge=0, description="How long a disconnected agent keeps its chats before they requeue."
    )
    presence_ttl_s: float = Field(
        20.0, gt=0, description="Redis: how long an agent stays online after their worker dies."
    )
    default_capacity: int = Field(3, ge=1, le=50, description="Concurrent chats for a new agent.")
    session_max_age_s: int = Field(12 * 3600, ge=60, description="Agent session lifetime, s.")
    send_queue_size: int = Field(256, ge=8, description="Outgoing frames buffered per socket.")
    rate_limit_per_s: float = Field(10.0, gt=0, description="Client frames per second per socket.")
    max_shopper_sends_in_flight: int = Field(
        256,
        ge=0,
        description="Shopper messages being stored at once; more wait in line (first come, "
        "first served) while it clears within half a second, and are refused (overloaded, "
        "retry later) beyond, so the rest keeps moving; 0: no limit.",
    )
    max_loop_lag_ms: float = Field(
        200.0,
        ge=0,
        description="While the event loop lags more than this, a share of shopper messages is "
        "refused (overloaded, retry later); 0: never.",
    )
    rate_limit_burst: int = Field(
        30, ge=1, description="Burst of client frames allowed per socket."
    )
    hello_timeout_s: float = Field(
        10.0,
        gt=0,
        description="A socket that has not said hello this long after opening is closed.",
    )
    idle_timeout_s: float = Field(
        3600.0, ge=0, description="A socket that sends no frame this long is closed (0: never)."
    )
    session_check_s: float = Field(
        60.0, gt=0, description="How often an agent socket's session is checked again, s."
    )
    max_sockets_per_address: int = Field(
        200, ge=1, description="Open sockets allowed from one client address (per worker)."
    )
    max_body_bytes: int = Field(
        65536, ge=1024, description="Largest HTTP request body; larger ones get 413 unread."
    )
    login_attempts: int = Field(
        5, ge=1, description="Failed logins allowed per account and per address in login_window_s."
    )
    login_window_s: float = Field(
        300.0, gt=0, description="Window for login_attempts; after it, logins are allowed again."
    )
    http_timeout_s: float = Field(
        10.0,
        gt=0,
        description="An HTTP connection idle (or still sending headers) this long closes.",
    )
    metrics_token: str = Field(
        "", description="Bearer token /metrics asks for; empty: /metrics is open to all (warned)."
    )
    log_level: str = Field("info", description="uvicorn log level.")
    max_file_bytes: int = Field(
        10 * 1_048_576, ge=1024, le=100 * 1_048_576, description="Largest attachment, bytes."
    )
    file_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TYPES),
        description="Attachment types accepted, told from the content (JSON list of content types).",
    )
    s3_bucket: str = Field(
        "", description="S3 bucket for attachments; empty keeps them on disk under data_dir."
    )
    s3_endpoint_url: str = Field("", description="S3-compatible endpoint (MinIO...); empty: AWS.")
    s3_region: str = Field("us-east-1", description="S3 region.")
    s3_access_key_id: str = Field("", description="S3 access key; empty: the usual AWS chain.")
    s3_secret_access_key: str = Field("", description="S3 secret key.")
    smtp_host: str = Field("", description="SMTP server for e-mail; empty: e-mail is off.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls (upgrade after connecting), tls (from the start) or none."
    )
    smtp_username: str = Field("", description="SMTP login; empty: no login.")
    smtp_password: str = Field("", description="SMTP password.")
    smtp_ca_file: Path | None = Field(
        None, description="CA bundle that signs the SMTP server's certificate (default: system)."
    )
    smtp_timeout_s: float = Field(10.0, gt=0, description="Give up on one SMTP attempt after, s.")
    mail_from: str = Field(
        "chat@localhost.localdomain",
        pattern=EMAIL_PATTERN,
        description="Sender address of every e-mail.",
    )
    shop_email: str = Field(
        "",
        pattern=f"^$|{EMAIL_PATTERN}",
        description="Where new offline messages are announced; empty: no announcements.",
    )
    mail_retry_s: float = Field(
        30.0, gt=0, description="First wait before retrying an e-mail; it doubles each time."
    )
    mail_retry_max_s: float = Field(3600.0, gt=0, description="Longest wait between retries, s.")
    notify_batch_s: float = Field(
        10.0, ge=0, description="New offline messages wait this long to share one announcement, s."
    )
    identity_secret: str = Field(
        "",
        description="The shop's identity secret: it signs the logged-in customer its pages pass to the widget (HMAC-SHA256 over id and expiry); empty: the demo's (demo_data), or none.",
    )
    identity_previous_secret: str = Field(
        "", description="The identity secret before the last rotation, still valid for a while."
    )
    identity_previous_until: float = Field(
        0.0, ge=0, description="Unix time until which identity_previous_secret stays valid."
    )
    orders_url: str = Field(
        "",
        description="The shop's order endpoint, with {order} (e.g. https://shop.example/api/chat/orders/{order}); empty: the demo's order service when demo_data is on.",
    )
    orders_customer_url: str = Field(
        "", description="The shop's endpoint of a customer's recent orders, with {customer}."
    )
    orders_secret: str = Field(
        "", description="The secret that signs requests to the shop's order endpoint."
    )
    orders_timeout_s: float = Field(
        2.0, gt=0, le=30, description="The most one order lookup may take, s."
    )
    demo_data: bool = Field(
        True,
        description="While orders_url (identity_secret) is empty: serve the demo order service at /demo-orders and use it (sign the demo customer with the demo identity secret).",
    )
    notice_webhook_url: str = Field(
        "",
        pattern=r"^$|^https?://",
        description="Where shoppers' answers to notices are POSTed (signed); empty: none sent.",
    )
    notice_webhook_secret: str = Field(
        "", description="The HMAC-SHA256 key that signs each webhook (X-Chat-Signature)."
    )
    webhook_retry_s: float = Field(
        30.0, gt=0, description="First wait before retrying a webhook; it doubles each time."
    )
    webhook_retry_max_s: float = Field(3600.0, gt=0, description="Longest webhook retry wait, s.")

    @property
    def database_path(self) -> Path:
        """The SQLite file of the embedded backend."""
        return self.data_dir / "chat.sqlite3"

    @property
    def base_url(self) -> str:
        """Where the server says it can be reached."""
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def files_dir(self) -> Path:
        """Where attachments live when no S3 bucket is set."""
        return self.data_dir / "files"

    def origin_allowed(self, origin: str | None) -> bool:
        """True when ``origin`` may open a shopper socket (the server's own origin always may)."""
        if origin is None:
            return False
        allowed = {self.base_url, *self.allowed_origins}
        if self.host in ("127.0.0.1", "localhost"):
            allowed |= {f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}"}
        return origin.rstrip("/") in allowed or "*" in self.allowed_origins
