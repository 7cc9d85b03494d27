"""Property-based fuzzing of the CSV importer: no crash, every record accounted for."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storeops.errors import ImportFileError
from storeops.ingest import import_file
from storeops.workspace import Workspace

# Field text without line breaks: a record is one physical line (see readers.py).
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=12,
)
FIELD = st.one_of(
    TEXT,
    st.just(""),
    st.sampled_from(['"', '"broken', 'x"y', '""', '"ok"', "¥1,2", "中文", "S1"]),
    st.builds(lambda n: "x" * n, st.integers(min_value=1000, max_value=100_000)),  # huge
)
RECORD = st.lists(FIELD, min_size=0, max_size=5).map(lambda fs: ",".join(fs))


def _is_record(line: str) -> bool:
    # A line with no text at all is a blank line, which readers skip by design.
    return line != ""


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    records=st.lists(RECORD, max_size=25),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "latin-1"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    garbage=st.binary(max_size=8).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"")),
)
def test_csv_fuzz(
    duckdb_workspace: Workspace,
    tmp_path: Path,
    records: list[str],
    encoding: str,
    newline: str,
    garbage: bytes,
) -> None:
    body = newline.join(["store_id,name,city", *records]) + newline
    data = body.encode(encoding, errors="replace")
    if garbage:
        data += garbage + newline.encode()
    path = tmp_path / "stores.csv"
    path.write_bytes(data)
    try:
        result = import_file(duckdb_workspace, "stores", path)
    except ImportFileError as exc:
        assert "empty" in str(exc) or "first line" in str(exc)
        return
    expected = sum(1 for r in records if _is_record(r))
    if garbage:
        expected += 1  # a line of bytes that are not text in any encoding
    assert result.rows_read == result.loaded + result.duplicates + result.quarantined
    assert result.rows_read == expected


def test_empty_file_is_an_error(duckdb_workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "stores.csv"
    path.write_bytes(b"")
    try:
        import_file(duckdb_workspace, "stores", path)
    except ImportFileError as exc:
        assert "is empty" in str(exc)
    else:
        raise AssertionError("an empty file must be refused")
