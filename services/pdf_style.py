"""What the PDFs Parcours prints share (the monthly statement, the family's access export), so they read alike.

They use reportlab's built-in Helvetica, which only has WinAnsi (cp1252) glyphs: anything else would print as a
black box, so both documents pass user text through `drawable()` first.
"""
from __future__ import annotations

import re
import unicodedata

from reportlab.lib import colors

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
RULE = colors.HexColor("#9aa5b1")
HEAD_BG = colors.HexColor("#e4e7eb")

# Characters with no WinAnsi glyph and no Unicode decomposition to a plain letter.
_FALLBACKS = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i", "Ŀ": "L", "ŀ": "l",
              "\u202f": "\u00a0", "\u2009": " ", "’": "'", "‘": "'", "\u2212": "-"}


_REPLACED = re.compile("[" + "".join(_FALLBACKS) + "]")


def drawable(text: str) -> str:
    """Keep what Helvetica (WinAnsi) can draw; 'Şahin' -> 'Sahin' rather than a black box."""
    if _REPLACED.search(text) is None:  # most text, at once: a statement has thousands of cells
        try:
            text.encode("cp1252")
            return text
        except UnicodeEncodeError:
            pass
    out = []
    for ch in text:
        if ch in _FALLBACKS:
            ch = _FALLBACKS[ch]
        try:
            ch.encode("cp1252")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        try:
            base.encode("cp1252")
            out.append(base or "?")
        except UnicodeEncodeError:
            out.append("?")
    return "".join(out)
