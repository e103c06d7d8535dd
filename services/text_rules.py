"""Clean input: which characters a name, a key or a free text may hold, and when two keys look the same.

One rule for every way in (the import, the window's forms, the command line, the unit of work's last check), so a
text refused in one place is never stored through another.

- Refused everywhere: control characters (C0, DEL, C1), bidi overrides and isolates (U+202A–U+202E, U+2066–U+2069)
  and every other format character (Unicode category Cf: zero-width space/joiners U+200B–U+200D, word joiner U+2060,
  BOM U+FEFF, soft hyphen, invisible operators, tags…), line/paragraph separators (U+2028, U+2029), and characters
  drawn as nothing (Hangul fillers, combining grapheme joiner, Mongolian/Khmer invisible marks). They make two
  different texts look alike, or reorder what is shown around them (a family name that flips a statement's line).
- Multi-line free text (notes, objectives, reasons) may hold newlines and tabs, and variation selectors (the emoji
  form of ❤ in a note hides nothing); names and keys may not.
- Texts are stored in NFC, so « é » typed as e + ◌́ and as one character is the same text, the same search.
- A key may not start or end with a space (keys are compared exactly), nor differ from another key only by case or by
  look-alike characters (`skeleton`), nor be a spelling of the reserved `system` (the command line's actor).

Look-alikes. `skeleton` is a small version of Unicode TR39's: NFKD (fullwidth, mathematical and ligature forms fold
to ASCII), casefold, invisible characters dropped, every space the same, then a table of the Cyrillic, Greek and
other letters drawn like a Latin one. A table of ~50 letters rather than the `confusables`/`confusable-homoglyphs`
packages: keys here are short codes typed by a French team, the cross-script look-alikes are the real risk, and the
full TR39 table also folds ASCII among itself (0/O, 1/l/I, rn/m), which would refuse legitimate code pairs such as
« S-10 » and « S-1O »… and a new dependency for one table is not worth it.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache

KEY, LINE, TEXT = "key", "line", "text"  # a key, a one-line text (name, commune…), a multi-line free text
RESERVED_KEY = "system"

_BIDI = frozenset({*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C})
_ZERO_WIDTH = frozenset({0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF})
# Not of category Cf, yet drawn as nothing (or as a blank where a letter is expected).
_BLANK_LETTERS = frozenset({0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x3164,
                            0xFFA0, 0x2800})
_VARIATION_SELECTORS = frozenset({*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)})
_MULTILINE_ALLOWED = frozenset({"\n", "\t"})

# Letters drawn like a Latin letter (after casefold, so the capital's look counts: Cyrillic Н→н is drawn H).
_LOOK_ALIKES = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "н": "h", "і": "i", "ј": "j", "к": "k", "ӏ": "l",
    "м": "m", "п": "n", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "ү": "y", "ԝ": "w", "х": "x",
    "ѵ": "v",
    # Greek
    "α": "a", "β": "b", "ϲ": "c", "ε": "e", "η": "h", "ι": "i", "ϳ": "j", "κ": "k", "μ": "m", "ν": "n", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "y", "χ": "x", "ζ": "z", "ω": "w",
    # Latin variants and Armenian
    "ı": "i", "ɑ": "a", "ɡ": "g", "ʏ": "y", "ɪ": "i", "օ": "o", "ս": "u", "ո": "n", "հ": "h",
})


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"


@cache
def _forbidden() -> frozenset[int]:
    """Every code point refused in any text (computed once from this Python's Unicode data, ~0.1 s)."""
    return frozenset(c for c in range(0x110000) if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp")
                     ) | _BLANK_LETTERS


def _what(char: str) -> str:
    point = ord(char)
    if point in _BIDI:
        return "un caractère de direction d'écriture"
    if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
        return "un caractère de contrôle"
    return "un caractère invisible"


def first_forbidden(text: str, kind: str = LINE) -> str | None:
    """The first character `text` may not hold for its kind, or None."""
    if text.isascii():  # the common case, without a per-character loop in Python
        for char in text:
            if (char < " " or char == "\x7f") and not (kind == TEXT and char in _MULTILINE_ALLOWED):
                return char
        return None
    forbidden = _forbidden()
    for char in text:
        point = ord(char)
        if point in forbidden:
            if kind == TEXT and char in _MULTILINE_ALLOWED:
                continue
            return char
        if point in _VARIATION_SELECTORS and kind != TEXT:
            return char
    return None


def character_problem(text: str, kind: str = LINE) -> str | None:
    """Why `text` cannot be stored as a text of `kind`, in French without its subject (« contient un caractère
    invisible (U+200B) : retirez-le »), or None. Lone surrogates and NUL: services.uow.unstorable."""
    char = first_forbidden(text, kind)
    if char is None:
        return None
    return f"contient {_what(char)} ({_code(char)}) : retirez-le"


def visible(text: str) -> str:
    """`text` with every refused character written as an escape (\\u200b), for a message that quotes it."""
    if text.isascii() and text.isprintable():
        return text
    forbidden = _forbidden()
    return "".join(f"\\u{ord(c):04x}" if ord(c) in forbidden or ord(c) in _VARIATION_SELECTORS else c for c in text)


def normalise(text: str) -> str:
    """The stored form of a text: NFC (one way of writing « é »)."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def key_problem(key: str) -> str | None:
    """Why `key` is not a usable key, in French without its subject (« commence ou finit par une espace »), or None."""
    if key != key.strip():
        return "commence ou finit par une espace : retirez-la"
    return character_problem(key, KEY)


def skeleton(key: str) -> str:
    """What `key` looks like: two keys with the same skeleton are read as the same key by a person."""
    text = unicodedata.normalize("NFKD", key).casefold()
    forbidden = _forbidden()
    text = "".join(" " if char.isspace() else char for char in text
                   if ord(char) not in forbidden and ord(char) not in _VARIATION_SELECTORS)
    # NFKD again: casefold may compose, and the table works on letters without their accents.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKD", text).translate(_LOOK_ALIKES)).strip()


def is_reserved(key: str) -> bool:
    """`system` in any case or look-alike spelling: the command line's actor in the audit log."""
    return skeleton(key) == RESERVED_KEY


def look_alike(key: str, others: Iterable[str]) -> str | None:
    """A key among `others` that differs from `key` yet looks the same (case, look-alike letters), or None."""
    wanted = skeleton(key)
    return next((other for other in others if other != key and skeleton(other) == wanted), None)


class KeyIndex:
    """Keys by skeleton, to find a look-alike among many keys without comparing each pair."""

    def __init__(self, keys: Iterable[str] = ()):
        self._by_skeleton: dict[str, set[str]] = {}
        for key in keys:
            self.add(key)

    def add(self, key: str) -> None:
        self._by_skeleton.setdefault(skeleton(key), set()).add(key)

    def look_alike(self, key: str) -> str | None:
        """A known key that looks like `key` without being it, or None (a key already known is not its own twin)."""
        same = self._by_skeleton.get(skeleton(key), set())
        if key in same:
            return None
        return min(same) if same else None


def look_alike_reason(key: str, other: str) -> str:
    return (f"la clé « {key} » se confond avec la clé « {other} » déjà présente (majuscules et minuscules ou "
            "caractères qui se ressemblent) : choisissez une clé vraiment différente")
