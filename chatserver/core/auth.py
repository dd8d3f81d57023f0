"""Agent accounts and sessions, signed shopper tokens, and the server's signing key."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field

from chatserver.domain.errors import Unauthorized
from chatserver.store.ports import AgentAccounts

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


class Tokens:
    """Signs and checks shopper identities and agent sessions with the server's key."""

    def __init__(self, secret: str, session_max_age_s: int) -> None:
        self._shopper = URLSafeTimedSerializer(secret, salt="chatserver.shopper")
        self._session = URLSafeTimedSerializer(secret, salt="chatserver.agent-session")
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

    def new_session(self, agent_id: str) -> str:
        return self._session.dumps({"aid": agent_id})

    def session_agent(self, token: str) -> str:
        """The agent a session token belongs to. Raises Unauthorized if wrong or expired."""
        try:
            return str(self._session.loads(token, max_age=self._max_age)["aid"])
        except SignatureExpired as exc:
            raise Unauthorized("session expired: log in again") from exc
        except (BadSignature, KeyError, TypeError) as exc:
            raise Unauthorized("session token is not valid: log in again") from exc


class Accounts:
    """Agent accounts in the store."""

    def __init__(self, store: AgentAccounts) -> None:
        self._store = store

    async def add(
        self, agent_id: str, name: str, password: str, role: AgentRole = "agent", capacity: int = 3
    ) -> Account:
        account = Account(
            id=agent_id,
            name=name,
            role=role,
            capacity=capacity,
            password_hash=hash_password(password),
        )
        await self._store.put(agent_id, account.model_dump_json())
        return account

    async def save(self, account: Account) -> None:
        """Store an account as it is (a changed role, capacity, languages or password hash)."""
        await self._store.put(account.id, account.model_dump_json())

    async def get(self, agent_id: str) -> Account | None:
        record = await self._store.get(agent_id)
        return None if record is None else Account.model_validate_json(record)

    async def all(self) -> list[Account]:
        return [Account.model_validate_json(r) for r in await self._store.all()]

    async def remove(self, agent_id: str) -> bool:
        return await self._store.remove(agent_id)

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
