"""The one comparison form of a name, wherever names must be unique (vendors, accounts by kind,
a job's locations and equipment): two names are the same name when they differ only in spacing,
case, Unicode composition or invisible zero-width characters."""

from __future__ import annotations

import unicodedata

# Invisible characters that would make a second "same" name: zero-width space, non-joiner, joiner,
# word joiner, and the byte-order mark used as a zero-width no-break space.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def comparable(name: str) -> str:
    """NFKC, case-folded, zero-width characters dropped, whitespace collapsed to single spaces."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(folded.translate(_ZERO_WIDTH).split())
