"""``/api/admin/agents``: add agents (with a one-time password), change, reset, remove.

The last admin can be neither removed nor demoted, so the shop never locks itself out.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request

from chatserver.core.auth import Account, AgentRole, hash_password, new_password
from chatserver.core.hub import Hub
from chatserver.web.admin_common import Refused, endpoint, hub_of, invalid, live_of, parse


class NewAgent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = ""
    role: AgentRole = "agent"
    capacity: int = 3
    languages: list[str] = []


class AgentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    role: Literal["agent", "manager", "admin"] | None = None
    capacity: int | None = None
    languages: list[str] | None = None


async def _account(request: Request) -> Account:
    agent_id = str(request.path_params["agent_id"])
    account = await hub_of(request).accounts.get(agent_id)
    if account is None:
        raise Refused(404, f"no agent {agent_id!r}")
    return account


async def _keep_an_admin(request: Request, account: Account) -> None:
    admins = [a for a in await hub_of(request).accounts.all() if a.role == "admin"]
    if account.role == "admin" and len(admins) <= 1:
        raise Refused(
            400,
            "role: the last admin can be neither removed nor demoted",
            {"role": "the shop needs at least one admin"},
        )


def _checked(data: dict[str, Any]) -> Account:
    try:
        account = Account.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc) from exc
    for lang in account.languages:
        if not (2 <= len(lang.split("-")[0]) <= 3 and lang.split("-")[0].isalpha()):
            raise Refused(
                400,
                f"languages: {lang!r} is not a language code",
                {"languages": f"{lang!r} is not a language code such as en or de"},
            )
    return account


def _invite_path(hub: Hub, agent_id: str, generation: int) -> str:
    """Where an invited agent chooses their own password (instead of the one-time one)."""
    return "/console#invite=" + hub.tokens.new_invite(agent_id, generation)


@endpoint(write=True)
async def add_agent(request: Request, account: Account) -> dict[str, Any]:
    """``POST /api/admin/agents``: a new agent and their one-time password (shown once)."""
    body = await parse(request, NewAgent)
    hub = hub_of(request)
    if await hub.accounts.get(body.id) is not None:
        raise Refused(
            400, f"id: an agent {body.id!r} exists", {"id": "an agent with this id exists"}
        )
    password = new_password()
    data = {
        **body.model_dump(),
        "name": body.name or body.id,
        "password_hash": hash_password(password),
    }
    await hub.accounts.save(_checked(data))
    await live_of(request).record(account.id, f"added agent {body.id} ({body.role})")
    return {"agent": body.id, "password": password, "invite": _invite_path(hub, body.id, 0)}


@endpoint(write=True)
async def change_agent(request: Request, account: Account) -> dict[str, Any]:
    """``PATCH /api/admin/agents/{agent_id}``: name, role, capacity, languages."""
    target, body = await _account(request), await parse(request, AgentChange)
    changes = body.model_dump(exclude_none=True)
    if changes.get("role", target.role) != "admin":
        await _keep_an_admin(request, target)
    updated = _checked({**target.model_dump(), **changes})
    await hub_of(request).accounts.save(updated)
    if "languages" in changes:
        await hub_of(request).assigner.languages_changed(updated.id)
    summary = ", ".join(f"{k}={v}" for k, v in changes.items())
    await live_of(request).record(account.id, f"changed agent {target.id}: {summary}")
    return {"agent": updated.public()}


@endpoint(write=True)
async def reset_password(request: Request, account: Account) -> dict[str, Any]:
    """``POST /api/admin/agents/{agent_id}/password``: a new one-time password, shown once."""
    target = await _account(request)
    password = new_password()
    changed = await hub_of(request).accounts.set_password(target, password)
    await live_of(request).record(account.id, f"reset the password of {target.id}")
    invite = _invite_path(hub_of(request), target.id, changed.session_generation)
    return {"agent": target.id, "password": password, "invite": invite}


@endpoint(write=True)
async def remove_agent(request: Request, account: Account) -> dict[str, Any]:
    """``DELETE /api/admin/agents/{agent_id}``."""
    target = await _account(request)
    await _keep_an_admin(request, target)
    await hub_of(request).accounts.remove(target.id)
    await live_of(request).record(account.id, f"removed agent {target.id}")
    return {"removed": target.id}
