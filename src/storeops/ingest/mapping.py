"""The mapping file (``mapping.toml``): how a source file's columns become canonical ones.

Example (a Chinese POS export in GBK)::

    encoding = "gbk"
    timezone = "Asia/Shanghai"

    [columns]            # source header = canonical column
    "订单号" = "order_id"
    "门店" = "store_id"

    [formats]            # canonical column = strptime-style format
    ts = "%Y/%m/%d %H:%M"

    [money]              # canonical money column = unit of the source values
    total_fen = "yuan"

    [constants]          # canonical column = value for every row
    channel = "store"

Every key is checked against the canonical table, and a bad key is named in the
:class:`~storeops.errors.MappingError` together with what would be accepted.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from storeops.errors import MappingError
from storeops.warehouse.schema import TableSchema

MAPPING_FILE = "mapping.toml"

#: strptime directives the vectorized parser understands (see ``parsing.py``).
FORMAT_DIRECTIVES = frozenset("YmdHMSfz%")


class Mapping(BaseModel):
    """A validated mapping; all fields are optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    encoding: str | None = Field(
        default=None,
        description="Text encoding; default: detect UTF-8 (BOM or not) or GB18030.",
    )
    delimiter: str | None = Field(
        default=None, description="Field separator; default ',' ('\\t' for .tsv)."
    )
    timezone: str | None = Field(
        default=None, description="IANA zone of timestamps without an offset."
    )
    sheet: str | None = Field(default=None, description="Worksheet of an .xlsx file.")
    columns: dict[str, str] = Field(
        default_factory=dict, description="Source header → canonical column."
    )
    formats: dict[str, str] = Field(
        default_factory=dict, description="Canonical date/timestamp column → format."
    )
    money: dict[str, Literal["yuan", "fen"]] = Field(
        default_factory=dict, description="Canonical money column → unit in the file."
    )
    constants: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Canonical column → value for every row."
    )
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import codecs

        try:
            return codecs.lookup(value).name
        except LookupError:
            raise ValueError(
                f"unknown encoding {value!r}; use e.g. 'utf-8', 'gbk' or 'gb18030'"
            ) from None

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError(f'delimiter must be one character, got {value!r} (use "\\t" for tab)')
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Asia/Shanghai'"
            ) from None
        return value

    @field_validator("formats")
    @classmethod
    def _supported_formats(cls, value: dict[str, str]) -> dict[str, str]:
        for column, fmt in value.items():
            i = 0
            while i < len(fmt):
                if fmt[i] == "%":
                    if i + 1 >= len(fmt) or fmt[i + 1] not in FORMAT_DIRECTIVES:
                        bad = fmt[i : i + 2]
                        raise ValueError(
                            f"formats.{column}: directive {bad!r} is not supported; use "
                            "%Y %m %d %H %M %S %f %z and literal text"
                        )
                    i += 2
                else:
                    i += 1
        return value

    # -- checks against the target table ------------------------------------------------
    def check_against(self, table: TableSchema) -> None:
        """Raise :class:`MappingError` naming every key that does not fit ``table``."""
        names = set(table.column_names)
        where = f" in {self.source}" if self.source else ""
        for source_name, target in self.columns.items():
            if target not in names:
                raise MappingError(
                    f"mapping{where}: columns.{source_name!r} maps to {target!r}, which is not a "
                    f"column of {table.name}; choose one of: {', '.join(table.column_names)}"
                )
        for section in ("formats", "money", "constants"):
            for key in getattr(self, section):
                if key not in names:
                    raise MappingError(
                        f"mapping{where}: {section}.{key} is not a column of {table.name}; "
                        f"choose one of: {', '.join(table.column_names)}"
                    )
        for key in self.formats:
            if table.column(key).dtype not in ("date", "timestamp"):
                raise MappingError(
                    f"mapping{where}: formats.{key}: {key} is a {table.column(key).dtype} column; "
                    "formats apply to date and timestamp columns only"
                )
        for key in self.money:
            if not table.column(key).is_money:
                raise MappingError(
                    f"mapping{where}: money.{key}: {key} is not a money column (those end in _fen)"
                )
        targets = list(self.columns.values())
        doubled = sorted({t for t in targets if targets.count(t) > 1})
        if doubled:
            raise MappingError(
                f"mapping{where}: several source columns map to {', '.join(doubled)}; "
                "keep one per canonical column"
            )


def load_mapping(path: Path | str) -> Mapping:
    """Read and validate a mapping file."""
    p = Path(path)
    if not p.is_file():
        raise MappingError(f"mapping file {p} does not exist; check the --mapping path")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping file {p} is not valid UTF-8 TOML: {exc}") from exc
    try:
        return Mapping(**data, source=p)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = (
                    "unknown key; allowed keys are encoding, delimiter, timezone, sheet, "
                    "[columns], [formats], [money], [constants]"
                )
            problems.append(f"{loc}: {msg}")
        raise MappingError(f"mapping file {p} is invalid: " + "; ".join(problems)) from None


def resolve_mapping(data_file: Path, mapping: Path | str | None) -> Mapping:
    """The mapping given, else ``mapping.toml`` next to the file, else an empty one."""
    if mapping is not None:
        return load_mapping(mapping)
    candidate = data_file.parent / MAPPING_FILE
    if candidate.is_file():
        return load_mapping(candidate)
    return Mapping()
