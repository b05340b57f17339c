"""One comparison form of a name: spacing, case, Unicode composition and invisible characters do
not make a second name; anything a reader would see differently does."""

from __future__ import annotations

import pytest

from sitegate.names import comparable

SAME_AS_CABLE_WORLD = [
    "Cable World", "cable world", "CABLE  WORLD", " Cable\tWorld ", "Cable\u00a0World", "Cable\u3000World",
    "\uff23\uff41\uff42\uff4c\uff45 World",  # full-width letters (NFKC)
    "Ca\u200bble World", "Cable\u200d World", "Cable World\ufeff", "Cable\u2060 World",
    "Cable\u2063 World",  # invisible separator
    "Cable\u00ad World",  # soft hyphen
    "Cable\u180e World",  # Mongolian vowel separator
    "Cable World\ufe0f",  # variation selector
    "Cable\u034f World",  # combining grapheme joiner
    "Cable\u200e World",  # left-to-right mark
]
DIFFERENT = ["Cable Worlds", "CableWorld", "Cable-World", "Cablé World", "Kable World"]


@pytest.mark.parametrize("name", SAME_AS_CABLE_WORLD)
def test_variants_that_look_the_same_compare_the_same(name):
    assert comparable(name) == comparable("Cable World") == "cable world"


@pytest.mark.parametrize("name", DIFFERENT)
def test_names_that_read_differently_stay_different(name):
    assert comparable(name) != comparable("Cable World")
