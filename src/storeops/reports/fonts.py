"""The font that draws Chinese in PDF reports, found through fontconfig.

WeasyPrint lays text out with Pango, which falls back through fontconfig one glyph at
a time; on a machine without a CJK font that fallback ends in empty boxes ("tofu")
and nothing fails. So a PDF report first asks fontconfig for a font that covers
Simplified Chinese (``fc-list :lang=zh-cn``), names that family first in the
stylesheet, and refuses to render when there is none, saying how to install one.

Preference: a sans-serif Simplified Chinese face (Noto Sans CJK SC, Source Han Sans
SC, WenQuanYi …), regular weight, over serif, monospace and other CJK locales.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from storeops.reports.errors import CjkFontMissingError

INSTALL_HINT = (
    "install a Chinese font, e.g. `apt-get install fonts-noto-cjk` (Debian/Ubuntu), "
    "`dnf install google-noto-sans-cjk-fonts` (Fedora) or `brew install --cask "
    "font-noto-sans-cjk-sc` (macOS), then run the report again"
)

_FORMAT = "%{family[0]}\t%{style[0]}\t%{file}\t%{index}\n"


@dataclass(frozen=True)
class CjkFont:
    """A font face installed on this machine that covers Simplified Chinese."""

    family: str
    style: str
    file: Path
    index: int

    @property
    def css_family(self) -> str:
        return '"' + self.family.replace('"', "") + '"'


def _score(font: CjkFont) -> tuple[int, ...]:
    name = font.family.lower()
    return (
        2 if "sc" in name.split() else int("gb" in name or "hei" in name),  # zh-Hans first
        "sans" in name or "hei" in name,
        "mono" not in name,
        "serif" not in name,
        font.style.lower() in {"regular", "normal", "book"},
    )


def _listed(output: str) -> list[CjkFont]:
    fonts = []
    for line in output.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[2]:
            continue
        family, style, file, index = parts
        fonts.append(CjkFont(family, style, Path(file), int(index or 0)))
    return fonts


@cache
def find_cjk_font() -> CjkFont:
    """The best installed Simplified Chinese font; :class:`CjkFontMissingError` if none."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        raise CjkFontMissingError(
            "fontconfig (fc-list) is not installed, so no Chinese font can be found for "
            f"PDF reports; install fontconfig and {INSTALL_HINT}"
        )
    result = subprocess.run(  # a fixed program with fixed arguments
        [fc_list, "-f", _FORMAT, ":lang=zh-cn"], capture_output=True, text=True, check=False
    )
    fonts = [f for f in _listed(result.stdout) if f.file.is_file()]
    if not fonts:
        raise CjkFontMissingError(
            "no font with Chinese glyphs is installed, so a PDF report would print empty "
            f"boxes instead of Chinese text; {INSTALL_HINT}"
        )
    return max(fonts, key=lambda f: (_score(f), f.family))
