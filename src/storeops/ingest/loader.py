"""``import_file``: read, validate, deduplicate and load one file, atomically.

Accounting (every file): ``rows_read = loaded + duplicates + quarantined``.

* ``loaded``: rows added to the table;
* ``duplicates``: valid rows whose natural key is already stored, or repeated
  earlier in the same file (the first one wins);
* ``quarantined``: rows written to the quarantine (malformed or failing a rule).

A file whose SHA-256 was already loaded for the same table is not read again:
the result has status ``already_loaded``, ``loaded = quarantined = 0`` and
``duplicates = rows_read`` (every row of the file is a repeat of that load), and
nothing is written, not even a load record.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import ibis.expr.types as ir
import pyarrow as pa

from storeops.errors import ImportFileError, SchemaError
from storeops.ingest.mapping import Mapping, resolve_mapping
from storeops.ingest.quarantine import write_layout
from storeops.ingest.readers import SourceRows, read_source
from storeops.ingest.validate import Plan, build_plan, first_per_key, new_rows
from storeops.warehouse.base import Warehouse
from storeops.warehouse.schema import TABLES, TableSchema
from storeops.workspace import Workspace

FIRST_ERRORS = 10

#: Data-dependent shortcuts that give the same result as the general plan: skip the
#: first-row-per-key and anti-joins when they cannot remove a row, check references
#: against a short list of unknown values, materialize the checked rows on DuckDB.
#: ``tests/ingest/test_parity.py`` turns them off to compare both ways.
SHORTCUTS = True


@dataclass
class LoadResult:
    """What one ``import_file`` call did."""

    load_id: str
    kind: str
    file_name: str
    status: Literal["loaded", "already_loaded"]
    rows_read: int
    loaded: int
    duplicates: int
    quarantined: int
    first_errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        ordered = {k: data[k] for k in ("rows_read", "loaded", "duplicates", "quarantined")}
        ordered.update(
            load_id=self.load_id,
            kind=self.kind,
            file=self.file_name,
            status=self.status,
            first_errors=list(self.first_errors),
        )
        return ordered


def import_file(
    target: Workspace | Warehouse,
    kind: str,
    path: Path | str,
    mapping: Path | str | None = None,
    *,
    progress: bool = False,
) -> LoadResult:
    """Import ``path`` into canonical table ``kind``; see the module doc for accounting."""
    if isinstance(target, Workspace):
        with target.warehouse() as warehouse:
            return import_file(warehouse, kind, path, mapping, progress=progress)
    warehouse = target
    table = _importable(kind)
    file = Path(path)
    if not file.is_file():
        raise ImportFileError(f"{file} does not exist or is not a file; check the path")
    rules = resolve_mapping(file, mapping)
    rules.check_against(table)
    with _Stages(progress, file, warehouse) as stages:
        stages.start("reading")
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise ImportFileError(f"cannot read {file}: {exc.strerror}; check permissions") from exc
        checksum = _sha256(data)  # hashlib releases the GIL; see _sha256
        previous = _previous_load(warehouse, kind, checksum.result())
        if previous is not None:
            return previous
        rows = read_source(data, file, rules)
        del data
        stages.rows(rows.rows_read)
        return _load(warehouse, table, file, rules, rows, checksum.result(), stages)


def _importable(kind: str) -> TableSchema:
    if kind not in TABLES or TABLES[kind].system:
        raise SchemaError(
            f"cannot import into {kind!r}; choose one of: {', '.join(TABLES.importable_names)}"
        )
    return TABLES[kind]


class _Digest:
    """SHA-256 computed in a thread while the file is parsed (hashlib drops the GIL)."""

    def __init__(self, data: bytes) -> None:
        self._value = ""
        self._thread = threading.Thread(target=self._run, args=(data,), daemon=True)
        self._thread.start()

    def _run(self, data: bytes) -> None:
        self._value = hashlib.sha256(data).hexdigest()

    def result(self) -> str:
        self._thread.join()
        return self._value


def _sha256(data: bytes) -> _Digest:
    return _Digest(data)


def _previous_load(warehouse: Warehouse, kind: str, checksum: str) -> LoadResult | None:
    records = warehouse.table("load_records")
    hit = (
        records.filter((records.kind == kind) & (records.checksum == checksum))
        .order_by(records.started_at)
        .limit(1)
    )
    found = warehouse.to_pyarrow(hit).to_pylist()
    if not found:
        return None
    rec = found[0]
    return LoadResult(
        load_id=rec["load_id"],
        kind=kind,
        file_name=rec["file_name"],
        status="already_loaded",
        rows_read=int(rec["rows_read"]),
        loaded=0,
        duplicates=int(rec["rows_read"]),
        quarantined=0,
        first_errors=[],
    )


def _load(
    warehouse: Warehouse,
    table: TableSchema,
    file: Path,
    mapping: Mapping,
    rows: SourceRows,
    checksum: str,
    stages: _Stages,
) -> LoadResult:
    started = _now()
    load_id = uuid.uuid4().hex
    stages.start("validating")
    staged = warehouse.stage(rows.data)
    plan = build_plan(
        warehouse, table, staged, rows, mapping, file_name=file.name, shortcuts=SHORTCUTS
    )
    with materialize(warehouse, plan.checked, load_id) as checked:
        return _write(
            warehouse, table, file, rows, checksum, stages, plan, checked, load_id, started
        )


def _write(
    warehouse: Warehouse,
    table: TableSchema,
    file: Path,
    rows: SourceRows,
    checksum: str,
    stages: _Stages,
    plan: Plan,
    checked: ir.Table | None,
    load_id: str,
    started: datetime,
) -> LoadResult:
    file_name = str(file)
    lines = _bad_lines(warehouse, checked)
    bad: list[dict[str, Any]] = []
    if lines is None or lines:
        bad = warehouse.to_pyarrow(plan.bad(lines).order_by("_line")).to_pylist()
    problems = _quarantine_rows(rows, bad)
    quarantined = len(problems)
    good_count = rows.data.num_rows - len(bad)
    first_errors = [f"line {line}: {reason}" for line, _, reason in problems[:FIRST_ERRORS]]

    stages.start("loading")
    before = warehouse.count(table.name)
    insert = plan.good(checked)
    # Both steps below are hash joins over the whole file; they change nothing when
    # no key repeats in the file, or when the table is still empty (first load).
    if not (SHORTCUTS and _keys_unique(warehouse, insert, table.natural_key, good_count)):
        insert = first_per_key(insert, table.natural_key)
    if before or not SHORTCUTS:
        insert = new_rows(warehouse, insert, table)
    with warehouse.transaction():
        if good_count:
            warehouse.append(table.name, insert.drop("_line"))
        if problems:
            write_layout(warehouse.settings.workspace, load_id, file, rows)
            now = _now()
            warehouse.append(
                "quarantine",
                pa.table(
                    {
                        "load_id": [load_id] * quarantined,
                        "kind": [table.name] * quarantined,
                        "file_name": [file_name] * quarantined,
                        "line": pa.array([p[0] for p in problems], pa.int64()),
                        "raw": [p[1] for p in problems],
                        "reason": [p[2] for p in problems],
                        "created_at": pa.array([now] * quarantined, pa.timestamp("us")),
                    }
                ),
            )
        loaded = warehouse.count(table.name) - before
        duplicates = good_count - loaded
        warehouse.append(
            "load_records",
            pa.table(
                {
                    "load_id": [load_id],
                    "kind": [table.name],
                    "file_name": [file_name],
                    "checksum": [checksum],
                    "started_at": pa.array([started], pa.timestamp("us")),
                    "finished_at": pa.array([_now()], pa.timestamp("us")),
                    "rows_read": pa.array([rows.rows_read], pa.int64()),
                    "loaded": pa.array([loaded], pa.int64()),
                    "duplicates": pa.array([duplicates], pa.int64()),
                    "quarantined": pa.array([quarantined], pa.int64()),
                    "status": ["loaded"],
                    "first_errors": [json.dumps(first_errors, ensure_ascii=False)],
                }
            ),
        )
    stages.done()
    return LoadResult(
        load_id=load_id,
        kind=table.name,
        file_name=file_name,
        status="loaded",
        rows_read=rows.rows_read,
        loaded=loaded,
        duplicates=duplicates,
        quarantined=quarantined,
        first_errors=first_errors,
    )


@contextmanager
def materialize(warehouse: Warehouse, expr: ir.Table, load_id: str) -> Iterator[ir.Table | None]:
    """The checked table computed once, where the warehouse finds that pays (DuckDB)."""
    if not SHORTCUTS:
        yield None  # use the plan's expressions as they are
        return
    with warehouse.materialized(expr, f"_checked_{load_id}") as checked:
        yield checked


#: Up to this many rejected lines are passed to the engine as a list (see Plan.bad).
BAD_LINES_LISTED = 10_000


def _bad_lines(warehouse: Warehouse, checked: ir.Table | None) -> list[int] | None:
    """Lines of the rejected rows of a materialized checked table, if few; else None.

    An empty list means the file has no rejected rows and the bad-row query can be
    skipped.
    """
    if checked is None:
        return None
    expr = checked.filter(checked._bad).select("_line").limit(BAD_LINES_LISTED + 1)
    found = warehouse.to_pyarrow(expr).column("_line").to_pylist()
    return None if len(found) > BAD_LINES_LISTED else sorted(found)


def _keys_unique(warehouse: Warehouse, good: ir.Table, key: tuple[str, ...], count: int) -> bool:
    """Whether no natural key repeats among the ``count`` valid rows of the file."""
    if count <= 1:
        return True
    distinct = warehouse.execute(good.select(*key).distinct().count())
    return int(distinct) == count


def _quarantine_rows(rows: SourceRows, bad: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """(line, raw text, reason) for every rejected record, in line order.

    This loops over rejected rows only, to re-create their text; validation
    itself happened in the warehouse.
    """
    n = len(rows.header)
    out = [(m.line, m.raw, m.reason) for m in rows.malformed]
    for row in bad:
        raw = row["_raw"] if "_raw" in row else rows.format_raw([row[f"_c{i}"] for i in range(n)])
        out.append((int(row["_line"]), raw, row["_reason"]))
    out.sort(key=lambda p: p[0])
    return out


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# -- progress ---------------------------------------------------------------------------
class _Stages:
    """A Rich progress bar over the stages reading → validating → loading.

    Shown when the caller asks for progress and stderr is a terminal, or when the
    file is larger than ``import_progress_min_rows`` (then the bar still helps in
    logs). Rich is imported lazily so library users without a terminal pay nothing.
    """

    STAGES = ("reading", "validating", "loading")

    def __init__(self, enabled: bool, file: Path, warehouse: Warehouse) -> None:
        self.enabled = enabled
        self.file = file
        self.min_rows = warehouse.settings.import_progress_min_rows
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Stages:
        if self.enabled and sys.stderr.isatty():
            self._open()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _open(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("[bold]{task.fields[stage]}[/] " + self.file.name),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} stages"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._bar.add_task("import", total=len(self.STAGES), stage="reading")
        self._bar.start()

    def rows(self, count: int) -> None:
        if self.enabled and self._bar is None and count > self.min_rows:
            self._open()
            self.start("reading")

    def start(self, stage: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self.STAGES.index(stage), stage=stage)

    def done(self) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=len(self.STAGES), stage="done")


__all__ = ["LoadResult", "import_file"]
