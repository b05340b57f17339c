"""SMS length in real segments: what a phone network bills and joins, not characters.

A message of GSM-7 characters (the GSM 03.38 default alphabet; its extension table's characters take two
septets each) fits 160 septets in one SMS, and 153 per part once it is split (the rest of each part holds the
joining header). Anything else goes as UCS-2: 70 UTF-16 code units in one SMS, 67 per part (a character
outside the Basic Multilingual Plane, such as an emoji, takes two). SiteGate sends at most MAX_SEGMENTS parts.
"""

from __future__ import annotations

import math
from collections.abc import Callable

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")  # an escape septet, then the character's own
MAX_SEGMENTS = 2
SINGLE = {"GSM-7": 160, "UCS-2": 70}
PART = {"GSM-7": 153, "UCS-2": 67}
CUT = {"GSM-7": "...", "UCS-2": "…"}  # the ellipsis is not GSM-7: a GSM-7 message is cut with three dots


def encoding(text: str) -> str:
    """`GSM-7` when every character is in the GSM 03.38 alphabet (or its extension), else `UCS-2`."""
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "UCS-2"


def units(text: str, coding: str | None = None) -> int:
    """The message's length in its encoding's units: septets (GSM-7) or UTF-16 code units (UCS-2)."""
    if (coding or encoding(text)) == "GSM-7":
        return sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def segments(text: str) -> int:
    """How many SMS the text is sent as."""
    coding = encoding(text)
    length = units(text, coding)
    return 1 if length <= SINGLE[coding] else math.ceil(length / PART[coding])


def fits(text: str) -> bool:
    return segments(text) <= MAX_SEGMENTS


def fit(text: str) -> str:
    """The text cut, with an ellipsis, to at most MAX_SEGMENTS segments (unchanged when it fits). Messages
    put the job and what happened first, so the cut only ever shortens what follows them."""
    if fits(text):
        return text
    coding = encoding(text)
    budget = PART[coding] * MAX_SEGMENTS - units(CUT[coding], coding)
    kept, used = [], 0
    for char in text:
        size = units(char, coding)
        if used + size > budget:
            break
        kept.append(char)
        used += size
    return "".join(kept).rstrip() + CUT[coding]


def short(name: str, limit: int) -> str:
    """A name cut to `limit` characters for an SMS, with an ellipsis that keeps a GSM-7 name GSM-7."""
    if len(name) <= limit:
        return name
    mark = CUT[encoding(name)]
    return name[:max(limit - len(mark), 1)].rstrip() + mark


NAME_LIMITS = (60, 40, 24, 16, 10, 6)  # characters a name may keep, tried longest first


def compose(render: Callable[[int], str]) -> str:
    """The SMS `render(limit)` makes with its names cut to `limit`, the longest that fits in MAX_SEGMENTS:
    what happened and the job's name (however short) are always in it; only a very long tail is cut."""
    for limit in NAME_LIMITS:
        text = render(limit)
        if fits(text):
            return text
    return fit(render(NAME_LIMITS[-1]))
