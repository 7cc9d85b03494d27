"""Size and shape of the simulated merchant."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from storeops.errors import ConfigError


@dataclass(frozen=True)
class DemoConfig:
    """Everything that decides the demo data; the same config and seed give the same files.

    The end date is a fixed field rather than "yesterday" so that a seed always
    produces byte-identical source files, whatever day the demo is built.
    """

    stores: int = 6
    customers: int = 5_000
    days: int = 430
    seed: int = 42
    end_date: date = date(2026, 10, 31)
    #: Behavioural events to write; ``None`` means "20 per customer".
    events: int | None = None
    #: Wi-Fi probes only cover the most recent weeks (sensors were installed late).
    wifi_days: int = 28
    #: The app's event stream covers the most recent days.
    event_days: int = 90
    #: Daily inventory snapshots cover the most recent days.
    inventory_days: int = 90
    products: int = 160
    open_hour: int = 10
    close_hour: int = 22
    timezone: str = "Asia/Shanghai"
    #: Rows of events per JSON Lines file (and per generation chunk).
    events_chunk: int = 250_000
    #: Plant malformed rows in the source files (a known number, see the truth).
    malformed: bool = True

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.stores <= 200:
            problems.append(f"stores must be between 1 and 200 (got {self.stores})")
        if self.customers < 10:
            problems.append(f"customers must be at least 10 (got {self.customers})")
        if self.days < 14:
            problems.append(f"days must be at least 14 (got {self.days})")
        if self.events is not None and self.events < 0:
            problems.append(f"events must be >= 0 (got {self.events})")
        if not 0 <= self.open_hour < self.close_hour <= 24:
            problems.append("opening hours must satisfy 0 <= open_hour < close_hour <= 24")
        if self.products < 20:
            problems.append(f"products must be at least 20 (got {self.products})")
        if problems:
            raise ConfigError("invalid demo configuration: " + "; ".join(problems))

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)

    @property
    def n_events(self) -> int:
        return self.events if self.events is not None else 20 * self.customers

    def window_start(self, days: int) -> date:
        """First day of a window of ``days`` days that ends on :attr:`end_date`."""
        return self.end_date - timedelta(days=min(days, self.days) - 1)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["end_date"] = self.end_date.isoformat()
        return data
