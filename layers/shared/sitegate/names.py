"""The one comparison form of a name, wherever names must be unique (vendors, accounts by kind,
a job's locations and equipment): two names are the same name when they differ only in spacing,
case, Unicode composition or invisible characters."""

from __future__ import annotations

import unicodedata

# Invisible characters that would make a second "same" name: every format character (category Cf:
# zero-width spaces and joiners, soft hyphen, invisible separators, bidi marks, the byte-order mark),
# variation selectors, the combining grapheme joiner and the Hangul fillers.
_INVISIBLE_EXTRA = frozenset({0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, *range(0xFE00, 0xFE10),
                              *range(0xE0100, 0xE01F0)})


def _visible(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) != "Cf" and ord(c) not in _INVISIBLE_EXTRA)


def comparable(name: str) -> str:
    """NFKC, case-folded, invisible characters dropped, whitespace collapsed to single spaces."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(_visible(folded).split())
