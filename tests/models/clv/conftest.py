from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "clv"


@pytest.fixture(scope="session")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(DATA / "cdnow_summary.csv")


@pytest.fixture(scope="session")
def donations() -> pd.DataFrame:
    return pd.read_csv(DATA / "donations.csv")
