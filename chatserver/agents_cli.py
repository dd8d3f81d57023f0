"""``chatserver agents add|list|remove``: manage agent accounts in the configured store."""

from __future__ import annotations

import argparse

from chatserver.app import backend_for
from chatserver.auth import Accounts, new_password
from chatserver.config import Settings


async def add(settings: Settings, args: argparse.Namespace) -> int:
    backend = backend_for(settings)
    await backend.start()
    try:
        password = args.password or new_password()
        account = await Accounts(backend).add(
            args.agent_id, args.name or args.agent_id, password, args.role, args.capacity
        )
    finally:
        await backend.close()
    shown = "" if args.password else f" with password {password!r}"
    print(f"agent {account.id!r} ({account.role}, capacity {account.capacity}) saved{shown}")
    return 0


async def list(settings: Settings, args: argparse.Namespace) -> int:
    backend = backend_for(settings)
    await backend.start()
    try:
        accounts = await Accounts(backend).all()
    finally:
        await backend.close()
    for account in accounts:
        print(f"{account.id}\t{account.name}\t{account.role}\tcapacity {account.capacity}")
    if not accounts:
        print("no agents")
    return 0


async def remove(settings: Settings, args: argparse.Namespace) -> int:
    backend = backend_for(settings)
    await backend.start()
    try:
        removed = await Accounts(backend).remove(args.agent_id)
    finally:
        await backend.close()
    print(f"agent {args.agent_id!r} removed" if removed else f"no agent {args.agent_id!r}")
    return 0 if removed else 1
