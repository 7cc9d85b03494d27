"""The documentation cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from storeops.cli.main import app
from storeops.warehouse import TABLES
from storeops.warehouse.docs import main as docs_main
from storeops.warehouse.docs import render_data_model

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "storeops"
DOCS = ROOT / "docs"


def test_data_model_doc_is_generated_from_the_schema() -> None:
    committed = (DOCS / "data-model.md").read_text(encoding="utf-8")
    assert committed == render_data_model(), (
        "docs/data-model.md is stale: run `make docs` (python -m storeops.warehouse.docs)"
    )


def test_data_model_doc_covers_every_table_and_column() -> None:
    text = render_data_model()
    for table in TABLES:
        assert f"### `{table.name}`" in text
        for column in table.columns:
            assert f"| `{column.name}` | {column.dtype} |" in text


def test_docs_check_mode(tmp_path: Path) -> None:
    target = tmp_path / "data-model.md"
    assert docs_main([str(target), "--check"]) == 1
    assert docs_main([str(target)]) == 0
    assert docs_main([str(target), "--check"]) == 0
    assert target.read_text(encoding="utf-8") == render_data_model()


def _top_level_names() -> list[str]:
    names = [
        p.name for p in sorted(PACKAGE.iterdir()) if p.is_dir() and (p / "__init__.py").is_file()
    ]
    names += [
        p.stem
        for p in sorted(PACKAGE.glob("*.py"))
        if p.stem != "__init__" and not p.stem.startswith("_")
    ]
    return names


def test_architecture_doc_mentions_every_top_level_package() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    names = _top_level_names()
    assert {"warehouse", "ingest", "cli", "settings"} <= set(names)
    missing = [n for n in names if f"storeops.{n}" not in text]
    assert missing == [], f"describe storeops.{missing} in docs/architecture.md"


@pytest.mark.parametrize("doc", ["README.md", "docs/architecture.md", "docs/data-model.md"])
def test_relative_links_resolve(doc: str) -> None:
    path = ROOT / doc
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (path.parent / target).exists(), f"{doc} links to missing {target}"


def _commands(group: typer.Typer) -> set[str]:
    names = {
        c.name or (c.callback.__name__ if c.callback else "") for c in group.registered_commands
    }
    names |= {g.name or "" for g in group.registered_groups}
    return names


def test_readme_shows_the_two_commands_and_real_cli_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    head = text[: text.index("## A short tour")]
    assert "make demo" in head
    assert "make test" in head
    mentioned = set(re.findall(r"^storeops ([a-z][a-z-]*)", text, flags=re.MULTILINE))
    assert mentioned, "the README tour shows no storeops commands"
    assert mentioned <= _commands(app), "README shows commands that do not exist"


def test_makefile_targets_named_in_the_readme_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))
    for target in set(re.findall(r"`make ([a-z-]+)`", readme)):
        assert target in targets, f"README mentions `make {target}`"
