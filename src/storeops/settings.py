"""One settings class shared by the CLI, the API and the jobs.

Resolution order (first wins): environment variables ``STOREOPS_*`` >
``<workspace>/storeops.toml`` > the defaults below.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from storeops.errors import ConfigError

SETTINGS_FILE = "storeops.toml"

#: Property / trait names the collector treats as phone numbers or e-mail addresses.
COLLECTOR_PII_KEYS: tuple[str, ...] = (
    "phone",
    "mobile",
    "tel",
    "telephone",
    "cellphone",
    "phone_number",
    "mobile_phone",
    "email",
    "e_mail",
    "email_address",
    "mail",
)


class Settings(BaseSettings):
    """Settings of one workspace."""

    model_config = SettingsConfigDict(env_prefix="STOREOPS_", extra="ignore")

    workspace: Path = Field(default=Path(), description="Workspace folder.")
    warehouse_backend: Literal["duckdb", "spark"] = Field(
        default="duckdb", description="Warehouse engine: embedded DuckDB or PySpark."
    )
    warehouse_path: str = Field(
        default="warehouse.duckdb",
        description="DuckDB file, or the Spark warehouse folder; relative to the workspace.",
    )
    ops_database_url: str = Field(
        default="",
        description=(
            "SQLAlchemy URL of the ops database; empty means SQLite ops.sqlite in the workspace."
        ),
    )
    default_timezone: str = Field(
        default="Asia/Shanghai",
        description="IANA time zone for stores without one and for timestamps without an offset.",
    )
    currency: str = Field(default="CNY", description="Currency of money columns (in fen).")
    lock_timeout_seconds: float = Field(
        default=30.0, gt=0, description="How long to wait for a database lock before failing."
    )
    import_progress_min_rows: int = Field(
        default=200_000, ge=0, description="Show a progress bar for imports larger than this."
    )
    encryption_key: SecretStr | None = Field(
        default=None, description="Key for personal data; no usable default outside the demo."
    )
    blind_index_key: SecretStr | None = Field(
        default=None, description="HMAC key of the blind indexes used to match personal data."
    )
    session_key: SecretStr | None = Field(default=None, description="Signs web sessions.")
    collector_pii_policy: Literal["hash", "drop"] = Field(
        default="hash",
        description=(
            "Phone numbers and e-mail addresses in collected event properties and traits: "
            "'hash' replaces them with their blind index, 'drop' removes them."
        ),
    )
    collector_pii_keys: list[str] = Field(
        default_factory=lambda: list(COLLECTOR_PII_KEYS),
        description=(
            "Property and trait names the collector treats as personal data (compared "
            "ignoring case, '_', '-' and spaces); e-mail addresses are caught under any name."
        ),
    )
    collector_segment_seconds: float = Field(
        default=10.0, gt=0, description="The collector starts a new spool segment this often."
    )
    collector_load_interval_seconds: float = Field(
        default=60.0, gt=0, le=60, description="`storeops serve` loads the spool this often."
    )
    collector_dedupe_hours: float = Field(
        default=2.0,
        ge=0,
        description=(
            "Loaded spool segments are kept this long so repeated messageIds are dropped at "
            "the door after a restart (the loader drops older repeats against the warehouse)."
        ),
    )
    pos_export_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="`storeops serve` moves till sales into the warehouse this often.",
    )
    retention_quarantine_days: int = Field(
        default=90, ge=1, description="Rejected rows (raw text) are kept this many days."
    )
    retention_failed_events_days: int = Field(
        default=30, ge=1, description="Refused collector events (raw payload) are kept this long."
    )
    retention_outbox_days: int = Field(
        default=30, ge=1, description="Sent messages in outbox/ are kept this many days."
    )
    collector_dedupe_max_keys: int = Field(
        default=5_000_000,
        ge=0,
        description=(
            "At most this many messageIds are remembered at the door (about 120 bytes "
            "each); the oldest are forgotten first, and the loader still drops repeats."
        ),
    )

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as 'Asia/Shanghai'"
            ) from exc
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _toml_path_hint.get("path")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    # Derived paths -------------------------------------------------------------
    def path(self, relative: str | Path) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.workspace / p

    @property
    def warehouse_file(self) -> Path:
        return self.path(self.warehouse_path)

    @property
    def ops_url(self) -> str:
        if self.ops_database_url:
            return self.ops_database_url
        return f"sqlite:///{self.path('ops.sqlite')}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.default_timezone)


# The TOML file depends on the workspace, which is itself a setting; the loader
# passes the path through this module-level slot for the duration of one call.
_toml_path_hint: dict[str, Path | None] = {"path": None}


def load_settings(workspace: Path | str | None = None, **overrides: Any) -> Settings:
    """Resolve settings for ``workspace`` (or ``$STOREOPS_WORKSPACE`` or the cwd)."""
    import os

    ws = Path(workspace or os.environ.get("STOREOPS_WORKSPACE") or ".").resolve()
    toml_file = ws / SETTINGS_FILE
    _toml_path_hint["path"] = toml_file if toml_file.is_file() else None
    try:
        return Settings(workspace=ws, **overrides)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{toml_file} is not valid TOML ({exc}). Fix the file, or move it away and "
            f"run `storeops init {ws}` to write a fresh one."
        ) from exc
    except ValidationError as exc:
        problems = "; ".join(_describe(err) for err in exc.errors())
        raise ConfigError(
            f"invalid settings: {problems}. Fix the value in {toml_file} or in the "
            "environment variable named (the environment wins over the file)."
        ) from exc
    finally:
        _toml_path_hint["path"] = None


def _describe(err: Any) -> str:
    """One validation problem, naming the key in both places it can be set."""
    key = ".".join(str(part) for part in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{key} (STOREOPS_{key.upper()}) = {err.get('input')!r}: {msg}"
