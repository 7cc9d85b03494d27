"""Chinese and English: Babel message catalogs, one domain per part of the product.

Catalogs are the ``.po`` files in ``storeops/i18n/<locale>/LC_MESSAGES/<domain>.po``
(``dashboard``, ``reports``, ``alerts`` …), read with Babel when first asked for and
kept in memory; no compiled ``.mo`` files are needed. The source language of msgids
is English, so the ``en`` catalogs may leave ``msgstr`` empty only where it would
repeat the msgid; :func:`untranslated` lists what a catalog lacks, and the tests call
it for every domain so a missing translation fails the build.
"""

from __future__ import annotations

from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.support import Translations

from storeops.errors import ConfigError

CATALOGS = Path(__file__).parent
#: Locales we ship, the default first.
LOCALES: tuple[str, ...] = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"

#: Spellings of the shipped locales, lower case with ``_`` (``-`` is read as ``_``).
_ALIASES = {"zh": "zh_CN", "zh_cn": "zh_CN", "en": "en", "en_us": "en", "en_gb": "en"}


def _alias(value: str | None) -> str | None:
    return _ALIASES.get(value.strip().lower().replace("-", "_")) if value else None


def normalize_locale(value: str | None) -> str:
    """``zh-CN``, ``zh``, ``en-US`` … to a shipped locale; unknown ones to the default
    (for what browsers send)."""
    return _alias(value) or DEFAULT_LOCALE


def parse_locale(value: str) -> str:
    """A locale a person asked for (``--lang``): a shipped one, or a
    :class:`ConfigError` naming the choices."""
    locale = _alias(value)
    if locale is None:
        raise ConfigError(f"unknown language {value!r}; choose {' or '.join(LOCALES)}")
    return locale


def catalog_path(locale: str, domain: str) -> Path:
    return CATALOGS / locale / "LC_MESSAGES" / f"{domain}.po"


@cache
def catalog(locale: str, domain: str) -> Catalog:
    path = catalog_path(locale, domain)
    if not path.is_file():
        raise ConfigError(f"no {domain!r} messages for {locale!r} (expected {path})")
    with path.open("rb") as fh:
        return read_po(fh, locale=locale, domain=domain)


@cache
def translations(locale: str, domain: str) -> NullTranslations:
    """gettext-style translations (``gettext``/``ngettext``) for Jinja2's i18n
    extension or direct use. An empty ``msgstr`` falls back to the English msgid."""
    cat = catalog(normalize_locale(locale), domain)
    trans = Translations(domain=domain)
    for message in cat:
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple | list):
            for index, text in enumerate(message.string):
                if text:
                    trans._catalog[(message.id[0], index)] = text
        else:
            trans._catalog[message.id] = str(message.string)
    return trans


def gettext(locale: str, domain: str, message: str) -> str:
    return translations(locale, domain).gettext(message)


def untranslated(locale: str, domain: str) -> list[str]:
    """Msgids without a translation (in ``en``, only those left out of the file are
    missing; an empty msgstr means "same as the msgid")."""
    cat = catalog(locale, domain)
    if locale == "en":
        return []
    missing = []
    for message in cat:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        if not all(strings) or message.fuzzy:
            missing.append(str(message.id))
    return missing


def domains() -> list[str]:
    """Every domain with a catalog in any locale."""
    return sorted({p.stem for p in CATALOGS.glob("*/LC_MESSAGES/*.po")})


def catalogs_agree(domain: str) -> dict[str, set[str]]:
    """Msgids present in one locale's catalog but not in another's, per locale."""
    ids = {loc: {str(m.id) for m in catalog(loc, domain) if m.id} for loc in LOCALES}
    every = set().union(*ids.values())
    return {loc: every - have for loc, have in ids.items() if every - have}
