"""SMS length in real segments (no AWS): GSM-7 160 then 153 per part, UCS-2 70 then 67, at most two."""

import pytest

from sitegate import sms
from sitegate.models.events import AlertSent, DomainEvent
from sitegate.notifications import MESSAGES


@pytest.mark.parametrize(("text", "coding", "segments"), [
    ("a" * 160, "GSM-7", 1), ("a" * 161, "GSM-7", 2), ("a" * 306, "GSM-7", 2), ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1), ("€" * 81, "GSM-7", 2),  # the extension table: two septets each
    ("ā" * 70, "UCS-2", 1), ("ā" * 71, "UCS-2", 2), ("ā" * 134, "UCS-2", 2), ("ā" * 135, "UCS-2", 3),
    ("🚧" * 35, "UCS-2", 1), ("🚧" * 36, "UCS-2", 2),  # outside the BMP: two UTF-16 units each
    ("Gate 1 {north}", "GSM-7", 1), ("Smith\u2019s", "UCS-2", 1),  # a curly apostrophe is not GSM-7
])
def test_segments_are_counted_as_the_network_counts_them(text, coding, segments):
    assert (sms.encoding(text), sms.segments(text)) == (coding, segments)


@pytest.mark.parametrize("text", ["x" * 400, "ā" * 300, "€" * 300, "🚧" * 200, "Crane " * 80 + "ā"])
def test_a_long_text_is_cut_to_two_segments_with_an_ellipsis(text):
    cut = sms.fit(text)
    assert sms.segments(cut) == 2
    assert text.startswith(cut[:-3] if cut.endswith("...") else cut[:-1])
    assert cut.endswith("...") if sms.encoding(text) == "GSM-7" else cut.endswith("…")


def test_a_text_that_fits_is_unchanged():
    assert sms.fit("a" * 306) == "a" * 306


def test_an_alert_sms_with_a_maori_name_keeps_the_job_and_the_alert_in_two_segments():
    # Given: a name outside GSM-7 turns the whole SMS into UCS-2 (134 units in two parts, not 320 characters)
    data = AlertSent(job_id="j", job_name="Tāmaki wharf", alert_id="a", message="Evacuate now. " * 30,
                     sent_by="u", sender_name="Hēmi")
    event = DomainEvent(event_id="e", type="alert.sent", tenant_id="t", occurred_at="2026-11-20T00:00:00+00:00",
                        data=data.model_dump())
    # When
    text = MESSAGES["alert.sent"](event).sms
    # Then
    assert sms.segments(text) <= 2
    assert text.startswith("SiteGate ALERT Tāmaki wharf: Evacuate now.")
