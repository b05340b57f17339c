"""The text rule of request bodies (docs/DOMAIN.md "Text"), as ALLOW / DENY tables: one-line text
(names, titles, addresses, reasons) and prose (descriptions, notes, alert messages)."""

from __future__ import annotations

import inspect
from typing import Annotated

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from sitegate.models import requests
from sitegate.models.requests import Name, Prose

ONE_LINE = TypeAdapter(Name)
PROSE = TypeAdapter(Prose)

ALLOW_EVERYWHERE = [
    "Steel Co",
    "O'Brien & Sons (Steel) Ltd. #2 / Gate-3 \"North\"",
    "Ōtautahi Builders",
    "株式会社 建設",
    "\u05d1\u05e0\u05d9\u05d9\u05d4 \u200f\u05d1\u05e2\"\u05de",  # Hebrew with a right-to-left mark (U+200F)
    "\u0634\u0631\u06a9\u062a\u200c\u0647\u0627",  # Persian with a zero-width non-joiner (U+200C)
    "Crew \U0001f477\u200d\u2640\ufe0f",  # an emoji joined by a zero-width joiner (U+200D)
    "Steel\u00a0Co",  # a no-break space
    "Steel\u00adCo",  # a soft hyphen
]
DENY_EVERYWHERE = [
    ("gas\x00leak", "U+0000"),
    ("\x1b[2Jcleared", "U+001B"),  # a terminal escape
    ("Steel\tCo", "U+0009"),  # the tab is a control character too
    ("Steel\x7fCo", "U+007F"),
    ("Steel\x9bCo", "U+009B"),  # C1: the 8-bit escape
    ("Steel\x85Co", "U+0085"),  # NEL, a C1 line break
    ("Steel\rLocation: Gate 9", "U+000D"),  # a lone carriage return
    ("Steel\x0bCo", "U+000B"),
    ("Steel\x0cCo", "U+000C"),
    ("Steel\u2028Location: Gate 9", "U+2028"),  # line separator
    ("Steel\u2029Co", "U+2029"),  # paragraph separator
    ("Eve \u202egnp.exe", "U+202E"),  # a right-to-left override: "Eve exe.png" on screen
    # every bidirectional embedding, override and isolate: U+202A-U+202E, U+2066-U+2069
    *((f"x{c}y", f"U+{ord(c):04X}") for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
    ("x\ud800y", "U+D800"),  # an unpaired surrogate (JSON "\ud800")
]


@pytest.mark.parametrize("text", ALLOW_EVERYWHERE)
@pytest.mark.parametrize("rule", [ONE_LINE, PROSE], ids=["one-line", "prose"])
def test_allow_ordinary_writing(rule, text):
    assert rule.validate_python(text) == text


@pytest.mark.parametrize(("text", "named"), DENY_EVERYWHERE)
@pytest.mark.parametrize("rule", [ONE_LINE, PROSE], ids=["one-line", "prose"])
def test_deny_control_characters_line_separators_and_bidi_overrides(rule, text, named):
    with pytest.raises(ValidationError) as refused:
        rule.validate_python(text)
    assert named in str(refused.value)


def test_deny_a_line_break_in_one_line_text():
    with pytest.raises(ValidationError) as refused:
        ONE_LINE.validate_python("Trade\nLocation: Gate 9")
    assert "U+000A" in str(refused.value) and "one line" in str(refused.value)


@pytest.mark.parametrize(("sent", "kept"), [
    ("Mud on the road.\nBy gate 2.", "Mud on the road.\nBy gate 2."),
    ("Mud on the road.\r\nBy gate 2.\r\n\r\nThanks", "Mud on the road.\nBy gate 2.\n\nThanks"),  # Windows line ends
])
def test_allow_line_breaks_in_prose_kept_as_newlines(sent, kept):
    assert PROSE.validate_python(sent) == kept


def test_the_refusal_says_which_character_and_where():
    with pytest.raises(ValidationError) as refused:
        ONE_LINE.validate_python("Eve \u202egnp.exe")
    assert "a bidirectional override or isolate (U+202E, character 5)" in str(refused.value)


# ------------------------------------------------------------ every free-text field takes the rule
# str fields that are not free text, with why the rule is not theirs (anything else must refuse a U+202E):
NOT_FREE_TEXT = {
    ("TenantCreate", "timezone"): "one of the IANA zones (checked by its own validator)",
    ("UserCreate", "account_id"): "an id: one SiteGate never made is 404",
    ("AccessGrant", "account_id"): "an id: one SiteGate never made is 404",
    ("UserCreate", "level"): "one of the known levels (sitegate.users answers 422 for any other)",
    ("UserUpdate", "level"): "one of the known levels (sitegate.users answers 422 for any other)",
    ("SettingUpdate", "value"): "any JSON value, stored as JSON",
}
BODIES = [m for _, m in inspect.getmembers(requests, inspect.isclass)
          if issubclass(m, BaseModel) and m is not requests.Body and m.__module__ == requests.__name__]
FIELDS = [(m, name) for m in BODIES for name in m.model_fields]
TEXT_FIELDS = [(m, name) for m, name in FIELDS if (m.__name__, name) not in NOT_FREE_TEXT]


@pytest.mark.parametrize(("model", "field"), TEXT_FIELDS, ids=[f"{m.__name__}.{f}" for m, f in TEXT_FIELDS])
def test_every_text_field_of_a_request_refuses_a_bidi_override(model, field):
    # Given: the field's type with its constraints, as the model validates it
    info = model.model_fields[field]
    adapter = TypeAdapter(Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation)
    # When / Then
    with pytest.raises(ValidationError):
        adapter.validate_python("Trade\u202eCo")


def test_the_exceptions_name_fields_that_exist():
    assert {(m.__name__, f) for m, f in FIELDS} >= set(NOT_FREE_TEXT)
