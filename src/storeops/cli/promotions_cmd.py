"""``storeops promotions`` (programs, quotes) and ``storeops coupons`` (codes, 核销)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from storeops.cli.common import (
    JsonOption,
    WorkspaceOption,
    console,
    handle_errors,
    print_json,
    workspace_from,
)
from storeops.promotions import (
    Basket,
    Line,
    PromotionError,
    PromotionService,
    load_programs,
    program_to_dict,
)
from storeops.promotions.codes import display
from storeops.promotions.toml_programs import EXAMPLE

promotions_app = typer.Typer(help="Promotion programs and quotes.", no_args_is_help=True)
coupons_app = typer.Typer(
    help="Coupon codes: issue, import, redeem (核销), void.", no_args_is_help=True
)

LinesOption = Annotated[
    list[str] | None,
    typer.Option("--line", help="A basket line SKU:UNIT_PRICE_FEN[:QTY[:CATEGORY]] (repeatable)."),
]
TotalOption = Annotated[
    int | None, typer.Option("--total", help="A one-line basket of this many fen.")
]
StoreOpt = Annotated[str | None, typer.Option("--store", help="The store of the order.")]
ChannelOpt = Annotated[str, typer.Option("--channel", help="store, online, …")]
CustomerOpt = Annotated[str | None, typer.Option("--customer", help="The customer id.")]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--key",
        help="Idempotency key (default: derived from the request, so "
        "running the same command again changes nothing).",
    ),
]


def _service(workspace: Path | None) -> PromotionService:
    return PromotionService(workspace_from(workspace).ops_engine())


def _basket(
    lines: list[str] | None,
    total: int | None,
    store: str | None,
    channel: str,
    order: str | None = None,
) -> Basket:
    parsed: list[Line] = []
    for text in lines or ():
        parts = text.split(":")
        try:
            sku, price = parts[0], int(parts[1])
            qty = int(parts[2]) if len(parts) > 2 and parts[2] else 1
        except (IndexError, ValueError):
            raise PromotionError(
                f"--line {text!r}: write SKU:UNIT_PRICE_FEN[:QTY[:CATEGORY]], e.g. A1:19900:2:shoes"
            ) from None
        parsed.append(Line(sku, price, qty, parts[3] if len(parts) > 3 else None))
    if total is not None:
        parsed.append(Line("*", total, 1, None))
    if not parsed:
        raise PromotionError("give the basket with --line (repeatable) or --total FEN")
    return Basket(tuple(parsed), store_id=store, channel=channel, order_id=order)


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise PromotionError(f"{value!r} is not a date or date-time (YYYY-MM-DD[THH:MM])") from None


def _yuan(fen: int | None) -> str:
    return "" if fen is None else f"{fen / 100:,.2f}"


# -- promotions ------------------------------------------------------------------------


@promotions_app.command("list")
@handle_errors
def promotions_list(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """Every program with its window, limits and counters."""
    programs = _service(workspace).programs()
    if as_json:
        print_json([program_to_dict(p) for p in programs])
        return
    table = Table(
        "id",
        "kind",
        "name",
        "stack",
        "window (UTC)",
        "uses",
        "spent ¥",
        "budget ¥",
        "status",
        title="Promotion programs",
    )
    for p in programs:
        window = f"{p.starts_at or '…'} → {p.ends_at or '…'}"
        table.add_row(
            p.program_id,
            p.kind,
            p.name,
            "yes" if p.stackable else "",
            window,
            f"{p.uses}" + (f"/{p.max_uses}" if p.max_uses else ""),
            _yuan(p.spent_fen),
            _yuan(p.budget_fen),
            p.status,
        )
    console.print(table)


@promotions_app.command("add")
@handle_errors
def promotions_add(
    file: Annotated[Path, typer.Argument(help="A TOML file of [[program]] tables.")],
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add the programs defined in a TOML file (the same file again changes nothing).

    `storeops promotions example` prints a file to start from."""
    svc = _service(workspace)
    results = [svc.create_program(p, actor="cli") for p in load_programs(file)]
    if as_json:
        print_json(results)
        return
    for r in results:
        console.print(f"{r['program_id']}: {'added' if r['created'] else 'already there'}")


@promotions_app.command("example")
def promotions_example() -> None:
    """Print an example programs file (one program of each kind)."""
    typer.echo(EXAMPLE.read_text(encoding="utf-8"), nl=False)


@promotions_app.command("show")
@handle_errors
def promotions_show(
    program_id: str, workspace: WorkspaceOption = None, as_json: JsonOption = False
) -> None:
    """One program in full."""
    data = program_to_dict(_service(workspace).program(program_id))
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        console.print(f"[bold]{key}[/]: {value}", highlight=False)


@promotions_app.command("status")
@handle_errors
def promotions_status(
    program_id: str,
    status: Annotated[str, typer.Argument(help="active, paused or ended.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Pause, resume or end a program."""
    _service(workspace).set_status(program_id, status, actor="cli")
    console.print(f"{program_id} is now {status}")


@promotions_app.command("quote")
@handle_errors
def promotions_quote(
    line: LinesOption = None,
    total: TotalOption = None,
    store: StoreOpt = None,
    channel: ChannelOpt = "store",
    customer: CustomerOpt = None,
    code: Annotated[list[str] | None, typer.Option("--code", help="A coupon code.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="UTC time (default now).")] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Price a basket with the programs and coupons in the workspace."""
    q = _service(workspace).quote(
        _basket(line, total, store, channel), customer_id=customer, codes=code or [], at=_when(at)
    )
    if as_json:
        print_json(q.to_dict())
        return
    for a in q.applied:
        label = f"{a.program_id}" + (f" ({display(a.coupon_code)})" if a.coupon_code else "")
        console.print(f"  - {label}: -¥{_yuan(a.discount_fen)}")
    for c in [*q.checks, *q.coupons]:
        if not c.applied:
            label = display(c.coupon_code) if c.coupon_code else c.program_id
            console.print(f"  · {label}: not applied ({c.reason}: {c.message})", highlight=False)
    console.print(
        f"total ¥{_yuan(q.total_fen)} (from ¥{_yuan(q.gross_fen)}, "
        f"-¥{_yuan(q.discount_fen)}); points ×{q.points_multiplier_pct / 100:g}"
    )


# -- coupons ---------------------------------------------------------------------------


@coupons_app.command("issue")
@handle_errors
def coupons_issue(
    program_id: str,
    count: Annotated[int, typer.Option("--count", "-n", help="How many codes.")] = 1,
    customer: CustomerOpt = None,
    valid_from: Annotated[str | None, typer.Option("--valid-from")] = None,
    valid_until: Annotated[str | None, typer.Option("--valid-until")] = None,
    key: Annotated[
        str | None,
        typer.Option("--key", help="Idempotency key: the same key gives the same codes back."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the codes here.")] = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Generate new codes for a coupon program."""
    made = _service(workspace).issue_coupons(
        program_id,
        count,
        key=key or f"cli-issue-{uuid.uuid4()}",
        customer_id=customer,
        valid_from=_when(valid_from),
        valid_until=_when(valid_until),
    )
    if out is not None:
        out.write_text("".join(f"{c}\n" for c in made["codes"]), encoding="utf-8")
    if as_json:
        print_json(made)
        return
    console.print(f"{made['count']} code(s) for {program_id} (batch {made['batch']})")
    if out is None:
        for code in made["codes"]:
            console.print(display(code), highlight=False)


@coupons_app.command("import")
@handle_errors
def coupons_import(
    program_id: str,
    file: Annotated[Path, typer.Argument(help="One code per line (a CSV's first column).")],
    customer: CustomerOpt = None,
    valid_until: Annotated[str | None, typer.Option("--valid-until")] = None,
    key: KeyOpt = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import codes made elsewhere: all of them, or none when one exists already."""
    codes = [ln.split(",")[0].strip() for ln in file.read_text(encoding="utf-8").splitlines()]
    codes = [c for c in codes if c]
    digest = hashlib.sha256("\n".join([program_id, *codes]).encode()).hexdigest()[:32]
    made = _service(workspace).import_codes(
        program_id,
        codes,
        key=key or f"cli-import-{digest}",
        customer_id=customer,
        valid_until=_when(valid_until),
    )
    if as_json:
        print_json(made)
        return
    console.print(f"{made['count']} code(s) imported into {program_id}")


@coupons_app.command("show")
@handle_errors
def coupons_show(code: str, workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
    """A coupon, its state and its redemptions."""
    found: dict[str, Any] = _service(workspace).coupon(code)
    if as_json:
        print_json(found)
        return
    console.print(
        f"[bold]{display(found['code'])}[/] ({found['program_id']}): {found['status']}"
        f", customer {found['customer_id'] or 'any'}, valid {found['valid_from'] or '…'}"
        f" → {found['valid_until'] or '…'}",
        highlight=False,
    )
    for r in found["redemptions"]:
        state = f"voided {r['voided_at']}" if r["voided_at"] else "live"
        console.print(
            f"  redemption {r['redemption_id']}: order {r['order_id']}, "
            f"-¥{_yuan(r['discount_fen'])}, {r['redeemed_at']}, {state}"
        )


@coupons_app.command("redeem")
@handle_errors
def coupons_redeem(
    code: str,
    order: Annotated[str, typer.Option("--order", help="The order id.")],
    line: LinesOption = None,
    total: TotalOption = None,
    store: StoreOpt = None,
    channel: ChannelOpt = "store",
    customer: CustomerOpt = None,
    key: KeyOpt = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Redeem (核销) a coupon on an order, once."""
    done = _service(workspace).redeem(
        code,
        order_id=order,
        basket=_basket(line, total, store, channel, order),
        key=key or f"cli-redeem-{code}-{order}",
        customer_id=customer,
    )
    if as_json:
        print_json(done)
        return
    console.print(
        f"redeemed {display(done['coupon_code'])} on {order}: -¥{_yuan(done['discount_fen'])}"
        f", pay ¥{_yuan(done['total_fen'])} (redemption {done['redemption_id']})"
    )


@coupons_app.command("void")
@handle_errors
def coupons_void(
    redemption_id: int,
    key: KeyOpt = None,
    workspace: WorkspaceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Undo a redemption: the coupon can be used again (once)."""
    done = _service(workspace).void(redemption_id, key=key or f"cli-void-{redemption_id}")
    if as_json:
        print_json(done)
        return
    console.print(
        f"redemption {redemption_id} voided; {done['coupon_code'] or 'the program'} "
        f"gets ¥{_yuan(done['restored_fen'])} back"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(promotions_app, name="promotions")
    app.add_typer(coupons_app, name="coupons")
