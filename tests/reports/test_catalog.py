"""Every text a report prints is in the ``reports`` catalogs, so a Chinese report
never falls back to English words."""

from __future__ import annotations

import re
from pathlib import Path

from storeops.i18n import catalog
from storeops.reports.data import KIND_TITLES
from storeops.reports.html import LEVEL_TEXTS, STATUS_TEXTS

PACKAGE = Path(__file__).parents[2] / "src" / "storeops" / "reports"
CALL = re.compile(r"""\b_\(\s*["']([^"']+)["']\s*\)""")


def used_msgids() -> set[str]:
    found: set[str] = set()
    for path in [*PACKAGE.glob("*.py"), *PACKAGE.glob("templates/*.html")]:
        found |= set(CALL.findall(path.read_text("utf-8")))
    return (
        found | set(KIND_TITLES.values()) | set(LEVEL_TEXTS.values()) | set(STATUS_TEXTS.values())
    )


def test_every_report_text_is_translated() -> None:
    used = used_msgids()
    assert len(used) > 50
    zh = {str(m.id): m.string for m in catalog("zh_CN", "reports") if m.id}
    en = {str(m.id) for m in catalog("en", "reports") if m.id}
    assert used - set(zh) == set(), "add these to reports.po (zh_CN and en)"
    assert used - en == set()
    assert all(zh[m] and zh[m] != m for m in used)
    assert set(zh) - used == set(), "unused msgids in reports.po"
