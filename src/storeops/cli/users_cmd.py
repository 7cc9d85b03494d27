"""``storeops users`` and ``storeops apikeys``: people who log in, keys for machines."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from storeops.access import (
    create_key,
    create_user,
    disable_user,
    list_keys,
    list_users,
    revoke_key,
    set_stores,
)
from storeops.access.roles import KEY_ROLES, USER_ROLES
from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)

users_app = typer.Typer(help="Users, their roles and stores.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for POS terminals and scripts.", no_args_is_help=True)

StoresOption = Annotated[
    list[str] | None, typer.Option("--store", help="A store the user may see (repeatable).")
]


@users_app.command("add")
@handle_errors
def add_user(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(USER_ROLES)}.")],
    store: StoresOption = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a user (the password is asked for, or read with --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = workspace_from(workspace).ops_engine()
    made = create_user(engine, username, password, role, stores=tuple(store or ()),
                       display_name=name, actor="cli")  # fmt: skip
    if as_json:
        print_json(made)
        return
    scope = ", ".join(made["stores"]) or "every store"
    console.print(f"user [bold]{username}[/] created: {role}, {scope}")


@users_app.command("list")
@handle_errors
def users_list(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Every user with role, stores and status."""
    rows = list_users(workspace_from(workspace).ops_engine())
    if as_json:
        print_json(rows)
        return
    table = Table("user", "role", "stores", "status", title="Users")
    for r in rows:
        status = "disabled" if r["disabled"] else ("locked" if r["locked_until"] else "active")
        table.add_row(r["username"], r["role"], ", ".join(r["stores"]) or "all", status)
    console.print(table)


@users_app.command("disable")
@handle_errors
def users_disable(username: str, workspace: WorkspaceOption = None) -> None:
    """Stop a user from logging in (kept for the audit trail)."""
    disable_user(workspace_from(workspace).ops_engine(), username, actor="cli")
    console.print(f"user [bold]{username}[/] disabled")


@users_app.command("stores")
@handle_errors
def users_stores(
    username: str,
    store: StoresOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Replace the stores a store manager sees."""
    set_stores(workspace_from(workspace).ops_engine(), username, tuple(store or ()), actor="cli")
    console.print(f"{username} now sees {', '.join(sorted(store or ()))}")


@keys_app.command("add")
@handle_errors
def keys_add(
    name: Annotated[str, typer.Argument(help="What the key is for, e.g. 'S001 till 2'.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(KEY_ROLES)}.")] = "pos",
    store: Annotated[str | None, typer.Option(help="The store of a pos key.")] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key and print it: shown once, only its hash is kept."""
    made = create_key(workspace_from(workspace).ops_engine(), name, role, store_id=store)
    if as_json:
        print_json(made)
        return
    console.print(f"API key [bold]{made['prefix']}[/] created ({role}). Key (shown only now):")
    console.print(made["key"], highlight=False, soft_wrap=True)


@keys_app.command("list")
@handle_errors
def keys_list(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Every key (prefix only; keys are never shown again)."""
    rows = list_keys(workspace_from(workspace).ops_engine())
    if as_json:
        print_json(rows)
        return
    table = Table("prefix", "name", "role", "store", "status", title="API keys")
    for r in rows:
        table.add_row(r["prefix"], r["name"], r["role"], r["store_id"] or "",
                      "revoked" if r["revoked"] else "live")  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
@handle_errors
def keys_revoke(prefix: str, workspace: WorkspaceOption = None) -> None:
    """Revoke a key at once."""
    revoke_key(workspace_from(workspace).ops_engine(), prefix, actor="cli")
    console.print(f"API key [bold]{prefix}[/] revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="apikeys")
