"""``chatserver agents add|passwd|list|remove``: manage agent accounts in the configured store.

Nothing here changes an agent's role unless asked: ``add`` refuses an existing name and
``passwd`` only sets a password.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator

from chatserver.core.auth import Accounts, hash_password, new_password
from chatserver.domain.settings import Settings
from chatserver.store import store_for


@contextlib.asynccontextmanager
async def _accounts(settings: Settings) -> AsyncIterator[Accounts]:
    """The accounts in the configured store, opened for one command."""
    store = store_for(settings)
    await store.start()
    try:
        yield Accounts(store.accounts)
    finally:
        await store.close()


async def add(settings: Settings, args: argparse.Namespace) -> int:
    password = args.password or new_password()
    async with _accounts(settings) as accounts:
        if await accounts.get(args.agent_id) is not None:
            print(
                f"chatserver: agent {args.agent_id!r} exists; to set their password use "
                f"'chatserver agents passwd {args.agent_id}' (their role stays as it is)",
                file=sys.stderr,
            )
            return 1
        account = await accounts.add(
            args.agent_id, args.name or args.agent_id, password, args.role, args.capacity
        )
    shown = "" if args.password else f" with password {password!r}"
    print(f"agent {account.id!r} ({account.role}, capacity {account.capacity}) saved{shown}")
    return 0


async def list_agents(settings: Settings, args: argparse.Namespace) -> int:
    async with _accounts(settings) as accounts:
        everyone = await accounts.all()
    for account in everyone:
        print(f"{account.id}\t{account.name}\t{account.role}\tcapacity {account.capacity}")
    if not everyone:
        print("no agents")
    return 0


async def remove(settings: Settings, args: argparse.Namespace) -> int:
    async with _accounts(settings) as accounts:
        removed = await accounts.remove(args.agent_id)
    print(f"agent {args.agent_id!r} removed" if removed else f"no agent {args.agent_id!r}")
    return 0 if removed else 1


async def passwd(settings: Settings, args: argparse.Namespace) -> int:
    """Set an agent's password (given, or a random one printed); nothing else changes."""
    password = args.password or new_password()
    async with _accounts(settings) as accounts:
        account = await accounts.get(args.agent_id)
        if account is None:
            print(f"chatserver: no agent {args.agent_id!r}", file=sys.stderr)
            return 1
        await accounts.save(account.model_copy(update={"password_hash": hash_password(password)}))
    shown = "" if args.password else f": {password!r}"
    print(f"password of {account.id!r} ({account.role}) set{shown}")
    return 0
