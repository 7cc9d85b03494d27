"""PDF reports show Chinese: the text layer holds the Chinese title and KPI names,
every Chinese character is drawn with the CJK font chosen through fontconfig (whose
cmap covers it), and page 1 rendered to PNG has ink where the title is."""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from fontTools.ttLib import TTCollection, TTFont
from tests.reports.conftest import DAY

from storeops.kpi import KPIS
from storeops.reports import CjkFontMissingError, ReportRequest, build_report
from storeops.reports import fonts as report_fonts
from storeops.reports.fonts import find_cjk_font
from storeops.workspace import Workspace

#: Scale of the PNG (1 PDF point = 2 pixels).
SCALE = 2.0


def is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def font_names(textpage: Any) -> list[str]:
    """The font of every character of a text page, as pdfium reads it from the PDF."""
    names = []
    buf = ctypes.create_string_buffer(256)
    flags = ctypes.c_int()
    for i in range(textpage.count_chars()):
        pdfium_c.FPDFText_GetFontInfo(textpage.raw, i, buf, 256, ctypes.byref(flags))
        names.append(buf.value.decode("utf-8", "replace"))
    return names


def cmap_of_chosen_font() -> dict[int, str]:
    font = find_cjk_font()
    if font.file.suffix.lower() in {".ttc", ".otc"}:
        face = TTCollection(str(font.file), lazy=True).fonts[font.index]
    else:
        face = TTFont(str(font.file), fontNumber=font.index, lazy=True)
    cmap: dict[int, str] = face.getBestCmap()
    return cmap


@pytest.fixture(scope="module")
def zh_pdf(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from storeops.workspace import open_workspace

    out = tmp_path_factory.mktemp("pdf")
    request = ReportRequest(kind="daily", day=DAY, locale="zh_CN", format="pdf")
    return build_report(open_workspace(demo_root), request, out=out).path


def test_pdf_text_layer_has_the_chinese_title_and_kpi_names(zh_pdf: Path) -> None:
    pdf = pdfium.PdfDocument(zh_pdf)
    text = pdf[0].get_textpage().get_text_range()
    assert "全部门店" in text and "日报" in text and "核心指标" in text
    assert DAY.isoformat() in text
    for kpi in ("entries", "conversion", "atv", "sales", "upt"):
        assert KPIS[kpi].name_zh in text, KPIS[kpi].name_zh


def test_every_chinese_character_is_drawn_with_the_cjk_font(zh_pdf: Path) -> None:
    pdf = pdfium.PdfDocument(zh_pdf)
    chosen = find_cjk_font()
    embedded_as = chosen.family.replace(" ", "-")  # e.g. "ABCDEF+Noto-Sans-CJK-SC"
    cmap = cmap_of_chosen_font()
    cjk_seen = 0
    for page in pdf:
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        names = font_names(textpage)
        assert len(names) == len(text)
        for char, name in zip(text, names, strict=True):
            if not is_cjk(char):
                continue
            cjk_seen += 1
            assert embedded_as in name, f"{char!r} drawn with {name!r}, not {chosen.family}"
            assert ord(char) in cmap and cmap[ord(char)] != ".notdef", char
    assert cjk_seen > 100


def test_page_one_png_shows_the_title(zh_pdf: Path, tmp_path: Path) -> None:
    pdf = pdfium.PdfDocument(zh_pdf)
    page = pdf[0]
    image = page.render(scale=SCALE).to_pil().convert("L")
    image.save(tmp_path / "report-page1.png")
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    start = text.index("日报")
    height = page.get_height()
    for i in (start, start + 1):
        left, bottom, right, top = textpage.get_charbox(i)
        box = image.crop(
            (int(left * SCALE), int((height - top) * SCALE),
             int(right * SCALE) + 1, int((height - bottom) * SCALE) + 1)
        )  # fmt: skip
        dark = int((np.asarray(box) < 128).sum())
        assert dark > 0.12 * box.width * box.height, (text[i], dark, box.size)
    # and the page is not ink everywhere: most of it is white paper
    assert (np.asarray(image) > 240).mean() > 0.7


def test_english_pdf(demo: Workspace, tmp_path: Path) -> None:
    request = ReportRequest(kind="weekly", store_id="S001", day=DAY, locale="en", format="pdf")
    built = build_report(demo, request, out=tmp_path)
    text = pdfium.PdfDocument(built.path)[0].get_textpage().get_text_range()
    assert "Weekly report" in text and "Key figures" in text and KPIS["conversion"].name_en in text


def test_no_cjk_font_is_a_clear_error(
    demo: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fonts(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 0, stdout="", stderr="")

    monkeypatch.setattr(report_fonts.subprocess, "run", no_fonts)
    find_cjk_font.cache_clear()
    try:
        request = ReportRequest(kind="daily", day=DAY, format="pdf")
        with pytest.raises(CjkFontMissingError, match="apt-get install fonts-noto-cjk"):
            build_report(demo, request, out=tmp_path)
        assert list(tmp_path.iterdir()) == []  # nothing half-written
    finally:
        find_cjk_font.cache_clear()
