"""Agent accounts and sessions, signed shopper tokens, and the server's signing key."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field

from chatserver.domain.clock import Clock, SystemClock
from chatserver.domain.errors import Unauthorized
from chatserver.store.bus import Bus
from chatserver.store.ports import AgentAccounts

SESSIONS_TOPIC = "sessions"
"""Signal topic: an agent's account changed (message: the agent id); their sockets check again."""

AgentRole = Literal["agent", "manager", "admin"]
_hasher = PasswordHasher()


class Account(BaseModel):
    """An agent's account as stored (the password only as an argon2 hash)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    name: str = Field(min_length=1, max_length=100)
    role: AgentRole = "agent"
    capacity: int = Field(3, ge=1, le=50)
    languages: list[str] = []
    password_hash: str
    session_generation: int = 0
    """Goes up when the password is reset: session tokens of an older generation are void."""

    def public(self) -> dict[str, object]:
        """The account without its password hash."""
        return self.model_dump(exclude={"password_hash"})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def new_password() -> str:
    """A random password to hand to a new agent."""
    return secrets.token_urlsafe(12)


def load_secret(configured: str, data_dir: Path) -> str:
    """The configured signing key, else the one kept in ``data_dir`` (made on first start)."""
    if configured:
        return configured
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


INVITE_MAX_AGE_S = 7 * 86400


class AgentSession(BaseModel):
    """What an agent's session token says."""

    agent_id: str
    generation: int
    expires_at: float


def _signer_on(clock: Clock) -> type[TimestampSigner]:
    """A signer that stamps and ages tokens by the server's clock (tests move it by hand)."""

    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock.now())

    return ClockSigner


class Tokens:
    """Signs and checks shopper identities and agent sessions with the server's key."""

    def __init__(self, secret: str, session_max_age_s: int, clock: Clock | None = None) -> None:
        signer = _signer_on(clock or SystemClock())
        self._shopper = URLSafeTimedSerializer(secret, salt="chatserver.shopper", signer=signer)
        self._session = URLSafeTimedSerializer(
            secret, salt="chatserver.agent-session", signer=signer
        )
        self._invite = URLSafeTimedSerializer(secret, salt="chatserver.invite", signer=signer)
        self._max_age = session_max_age_s

    def new_shopper(self) -> tuple[str, str]:
        """A fresh anonymous shopper: ``(shopper_id, token)``."""
        shopper_id = "s-" + uuid.uuid4().hex
        return shopper_id, self._shopper.dumps({"sid": shopper_id})

    def shopper_id(self, token: str) -> str:
        """The shopper a token names. Raises Unauthorized if it was not signed by us."""
        try:
            return str(self._shopper.loads(token)["sid"])
        except (BadSignature, KeyError, TypeError) as exc:
            raise Unauthorized(
                "shopper token is not valid; connect without one to start anew"
            ) from exc

    def new_session(self, agent_id: str, generation: int = 0) -> str:
        return self._session.dumps({"aid": agent_id, "gen": generation})

    def session(self, token: str) -> AgentSession:
        """What a session token says. Raises Unauthorized if it is wrong or expired."""
        try:
            body, signed_at = self._session.loads(
                token, max_age=self._max_age, return_timestamp=True
            )
            return AgentSession(
                agent_id=str(body["aid"]),
                generation=int(body.get("gen", 0)),
                expires_at=signed_at.timestamp() + self._max_age,
            )
        except SignatureExpired as exc:
            raise Unauthorized("session expired: log in again") from exc
        except (BadSignature, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise Unauthorized("session token is not valid: log in again") from exc

    def new_invite(self, agent_id: str, generation: int) -> str:
        """A link's token that lets an agent choose their password once, within a week."""
        return self._invite.dumps({"aid": agent_id, "gen": generation})

    def invite(self, token: str) -> tuple[str, int]:
        """``(agent_id, generation)`` an invite names. Raises Unauthorized if wrong or old."""
        try:
            body = self._invite.loads(token, max_age=INVITE_MAX_AGE_S)
            return str(body["aid"]), int(body["gen"])
        except (BadSignature, KeyError, TypeError, ValueError) as exc:
            raise Unauthorized(
                "this invite link is not valid or has expired: ask for a new one"
            ) from exc

    def session_agent(self, token: str) -> str:
        """The agent a session token belongs to. Raises Unauthorized if wrong or expired."""
        return self.session(token).agent_id


class Accounts:
    """Agent accounts in the store."""

    def __init__(self, store: AgentAccounts, bus: Bus | None = None) -> None:
        self._store = store
        self._bus = bus

    async def add(
        self, agent_id: str, name: str, password: str, role: AgentRole = "agent", capacity: int = 3
    ) -> Account:
        """Create an account, or replace it: a new password ends the sessions it had."""
        before = await self.get(agent_id)
        account = Account(
            id=agent_id,
            name=name,
            role=role,
            capacity=capacity,
            password_hash=hash_password(password),
            session_generation=0 if before is None else before.session_generation + 1,
        )
        await self._store.put(agent_id, account.model_dump_json())
        if before is not None:
            await self._sessions_changed(agent_id)
        return account

    async def set_password(self, account: Account, password: str) -> Account:
        """A new password; the sessions of the old one end, on every worker."""
        changed = account.model_copy(
            update={
                "password_hash": hash_password(password),
                "session_generation": account.session_generation + 1,
            }
        )
        await self._store.put(account.id, changed.model_dump_json())
        await self._sessions_changed(account.id)
        return changed

    async def accept_invite(self, tokens: Tokens, token: str, password: str) -> Account:
        """An invited agent chooses their password; the link then works no more (the password
        raises the session generation it names). Raises Unauthorized."""
        agent_id, generation = tokens.invite(token)
        account = await self.get(agent_id)
        if account is None or account.session_generation != generation:
            raise Unauthorized("this invite link was used already or is no longer valid")
        return await self.set_password(account, password)

    async def save(self, account: Account) -> None:
        """Store an account as it is (a changed role, capacity, languages or password hash)."""
        await self._store.put(account.id, account.model_dump_json())

    async def get(self, agent_id: str) -> Account | None:
        record = await self._store.get(agent_id)
        return None if record is None else Account.model_validate_json(record)

    async def all(self) -> list[Account]:
        return [Account.model_validate_json(r) for r in await self._store.all()]

    async def remove(self, agent_id: str) -> bool:
        """Delete an account; its open sockets close, on every worker."""
        removed = await self._store.remove(agent_id)
        if removed:
            await self._sessions_changed(agent_id)
        return removed

    async def session_account(self, tokens: Tokens, token: str) -> tuple[Account, AgentSession]:
        """The account a session token is for, while the token holds. Raises Unauthorized."""
        session = tokens.session(token)
        account = await self.get(session.agent_id)
        if account is None:
            raise Unauthorized(f"agent {session.agent_id!r} no longer exists")
        if session.generation != account.session_generation:
            raise Unauthorized("the password was changed: log in again")
        return account, session

    async def _sessions_changed(self, agent_id: str) -> None:
        """Tell every worker (through the bus) to check this agent's sockets now."""
        if self._bus is not None:
            await self._bus.signal(SESSIONS_TOPIC, agent_id)

    async def login(self, agent_id: str, password: str) -> Account:
        """The account if the password is right. Raises Unauthorized otherwise."""
        account = await self.get(agent_id)
        if account is None:
            await asyncio.to_thread(_hasher.hash, password)  # same time as a real check
            raise Unauthorized("unknown agent or wrong password")
        try:
            await asyncio.to_thread(_hasher.verify, account.password_hash, password)
        except (VerificationError, InvalidHashError) as exc:
            raise Unauthorized("unknown agent or wrong password") from exc
        return account
