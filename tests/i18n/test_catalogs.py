"""Every shipped catalog is complete in Chinese and has the same msgids in every locale."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storeops import i18n
from storeops.errors import ConfigError


@pytest.mark.parametrize("domain", i18n.domains())
def test_every_message_is_translated(domain: str) -> None:
    for locale in i18n.LOCALES:
        assert i18n.untranslated(locale, domain) == [], (locale, domain)
    assert i18n.catalogs_agree(domain) == {}


@pytest.fixture
def catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(i18n, "CATALOGS", tmp_path)
    i18n.catalog.cache_clear()
    i18n.translations.cache_clear()
    yield tmp_path
    i18n.catalog.cache_clear()
    i18n.translations.cache_clear()


def _write(root: Path, locale: str, body: str) -> None:
    path = root / locale / "LC_MESSAGES" / "demo.po"
    path.parent.mkdir(parents=True)
    path.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n' + body)


def test_translations_fall_back_to_the_msgid(catalogs: Path) -> None:
    _write(catalogs, "zh_CN", 'msgid "Sales"\nmsgstr "销售额"\n\nmsgid "Stores"\nmsgstr ""\n')
    _write(catalogs, "en", 'msgid "Sales"\nmsgstr ""\n\nmsgid "Stores"\nmsgstr ""\n')
    assert i18n.gettext("zh-CN", "demo", "Sales") == "销售额"
    assert i18n.gettext("zh-CN", "demo", "Stores") == "Stores"
    assert i18n.gettext("en", "demo", "Sales") == "Sales"
    assert i18n.untranslated("zh_CN", "demo") == ["Stores"]
    assert i18n.untranslated("en", "demo") == []
    assert i18n.domains() == ["demo"]


def test_catalogs_that_disagree_are_reported(catalogs: Path) -> None:
    _write(catalogs, "zh_CN", 'msgid "Sales"\nmsgstr "销售额"\n')
    _write(catalogs, "en", 'msgid "Sales"\nmsgstr ""\n\nmsgid "Goals"\nmsgstr ""\n')
    assert i18n.catalogs_agree("demo") == {"zh_CN": {"Goals"}}


def test_locale_names_are_normalized() -> None:
    assert i18n.normalize_locale("zh-CN") == "zh_CN"
    assert i18n.normalize_locale("en-US") == "en"
    assert i18n.normalize_locale(None) == "zh_CN"
    assert i18n.normalize_locale("fr") == "zh_CN"


def test_asked_for_locales_are_parsed_strictly() -> None:
    assert i18n.parse_locale("zh-CN") == "zh_CN"
    assert i18n.parse_locale("EN_us") == "en"
    with pytest.raises(ConfigError, match="unknown language 'fr'; choose zh_CN or en"):
        i18n.parse_locale("fr")
