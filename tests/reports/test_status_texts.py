"""Every goal status the goals service returns has a report text in both languages."""

from __future__ import annotations

from typing import get_args

from storeops.goals.pacing import Status
from storeops.i18n import gettext
from storeops.reports.html import STATUS_TEXTS


def test_every_goal_status_has_a_text() -> None:
    assert set(STATUS_TEXTS) == set(get_args(Status))
    assert gettext("zh_CN", "reports", STATUS_TEXTS["no_data"]) == "暂无数据"
    assert gettext("en", "reports", STATUS_TEXTS["no_data"]) == "No data"
