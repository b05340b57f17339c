"""How messages read in an email or SMS (no AWS): a delivery's window, long names, and what a user
typed, which never adds a line or a header."""

import unicodedata

import pytest

from sitegate.models.events import AccessGranted, AlertSent, DeliveryEvent, DomainEvent
from sitegate.notifications import MESSAGES, one_line, window


@pytest.mark.parametrize(("start", "end", "shown"), [
    ("2026-11-23T10:00:00+13:00", "2026-11-23T12:30:00+13:00", "Mon 23 Nov 2026 10:00-12:30 (+13:00)"),
    ("2026-11-23T23:00:00+13:00", "2026-11-24T01:00:00+13:00",
     "Mon 23 Nov 2026 23:00 to Tue 24 Nov 2026 01:00 (+13:00)"),
    # Auckland's clocks go back at 03:00 on 5 April 2026: three hours, not two
    ("2026-04-05T01:00:00+13:00", "2026-04-05T03:00:00+12:00", "Sun 05 Apr 2026 01:00-03:00 (+13:00 to +12:00)"),
])
def test_a_window_names_its_days_and_offsets(start, end, shown):
    assert window(start, end) == shown


@pytest.mark.parametrize(("kind", "state"), [("delivery.requested", "needs your approval"),
                                              ("delivery.rejected", "is rejected")])
def test_an_sms_about_a_delivery_says_what_happened_however_long_the_names(kind, state):
    # Given: names of 200 characters (found by attacking the stack: the action was cut off)
    data = DeliveryEvent(job_id="j", job_name="J" * 200, delivery_id="d", requested_by="u", for_account_id="a",
                         company_name="C" * 200, location_name="L" * 200, start="2026-11-23T10:00:00+13:00",
                         end="2026-11-23T10:30:00+13:00", reason="R" * 1000 if kind == "delivery.rejected" else None)
    event = DomainEvent(event_id="e", type=kind, tenant_id="t", occurred_at="2026-11-20T00:00:00+00:00",
                        data=data.model_dump())
    # When
    sms = MESSAGES[kind](event).sms
    # Then
    assert len(sms) <= 320
    assert sms.startswith("SiteGate JJJ") and state in sms and "10:00-10:30" in sms


# ------------------------------------------------------------ what a user typed never restructures a message
# Stored before the text rule, or by a path it does not cover: line breaks of every kind, a NUL, a bidi override.
FORGED = "Steel Co\nLocation: Gate 9\r\nWindow: never\u2028Reason: forged\x85Bcc: all@site.example\x00 \u202eoc"


def _delivery(kind: str, **typed: str) -> DomainEvent:
    data = DeliveryEvent(**{"job_id": "j", "job_name": "North wharf", "delivery_id": "d", "requested_by": "u",
                            "for_account_id": "a", "company_name": "Steel Co", "location_name": "Gate 2",
                            "start": "2026-11-23T10:00:00+13:00", "end": "2026-11-23T10:30:00+13:00",
                            "reason": "Crane booked" if kind == "delivery.rejected" else None, **typed})
    return DomainEvent(event_id="e", type=kind, tenant_id="t", occurred_at="2026-11-20T00:00:00+00:00",
                       data=data.model_dump())


def _access(**typed: str) -> DomainEvent:
    data = AccessGranted(**{"job_id": "j", "job_name": "North wharf", "account_id": "a", "account_name": "Steel Co",
                            "granted_by": "u", **typed})
    return DomainEvent(event_id="e", type="access.granted", tenant_id="t", occurred_at="2026-11-20T00:00:00+00:00",
                       data=data.model_dump())


def _alert(**typed: str) -> DomainEvent:
    data = AlertSent(**{"job_id": "j", "job_name": "North wharf", "alert_id": "al", "sent_by": "u",
                        "sender_name": "Sam Lead", "message": "Evacuate.\nAssemble at gate 1.", **typed})
    return DomainEvent(event_id="e", type="alert.sent", tenant_id="t", occurred_at="2026-11-20T00:00:00+00:00",
                       data=data.model_dump())


ONE_LINE_SLOTS = [
    *((kind, field) for kind in ("delivery.requested", "delivery.approved", "delivery.cancelled")
      for field in ("job_name", "company_name", "location_name")),
    *(("delivery.rejected", field) for field in ("job_name", "company_name", "location_name", "reason")),
    ("access.granted", "job_name"), ("access.granted", "account_name"),
    ("alert.sent", "job_name"), ("alert.sent", "sender_name"),
]
BUILD = {"access.granted": _access, "alert.sent": _alert}


FLAT = "Steel Co Location: Gate 9 Window: never Reason: forged Bcc: all@site.example oc"  # FORGED on one line


@pytest.mark.parametrize(("kind", "field"), ONE_LINE_SLOTS, ids=[f"{k}:{f}" for k, f in ONE_LINE_SLOTS])
def test_a_typed_value_with_line_breaks_adds_no_line_header_or_bidi_control(kind, field):
    # Given: the same event with a plain value and with a forged one
    build = BUILD.get(kind, lambda **typed: _delivery(kind, **typed))
    plain, forged = MESSAGES[kind](build(**{field: "VALUE"})), MESSAGES[kind](build(**{field: FORGED}))
    # Then: the forged value sits on one line where the plain one did, and nothing else changed
    assert forged.body == plain.body.replace("VALUE", FLAT)
    assert forged.subject == plain.subject.replace("VALUE", FLAT)
    # and the SMS is one line without control or bidi characters
    assert len(forged.sms.splitlines()) == 1
    assert not any(unicodedata.category(c) == "Cc" or c in "\u2028\u2029\u202e" for c in forged.sms)


def test_an_alerts_message_is_a_block_none_of_whose_lines_passes_for_the_emails_own():
    # Given: a message that writes a fake footer and sender
    message = "Evacuate.\r\n\r\nJobsite alert on Other job from The Boss.\u2028Please ignore the alert above.\x00"
    # When
    sent = MESSAGES["alert.sent"](_alert(message=message))
    # Then: every line of it is quoted, and the email's own lines are those of an honest alert
    assert "\n| Evacuate.\n|\n| Jobsite alert on Other job from The Boss.\n| Please ignore the alert above.\n" \
        in sent.body
    own = [line for line in sent.body.splitlines() if not line.startswith("|")]
    honest = [line for line in MESSAGES["alert.sent"](_alert()).body.splitlines() if not line.startswith("|")]
    assert own == honest
    assert sent.sms == ("SiteGate ALERT North wharf: Evacuate. Jobsite alert on Other job from The Boss. "
                        "Please ignore the alert above. (Sam Lead)")


@pytest.mark.parametrize(("typed", "shown"), [
    ("North\r\nwharf\x00", "North wharf"),
    ("Crew \U0001f477\u200d\u2640\ufe0f", "Crew \U0001f477\u200d\u2640\ufe0f"),  # an emoji's zero-width joiner stays
    ("\u05d1\u05e0\u05d9\u05d9\u05d4 \u200f\u05d1\u05e2\"\u05de", "\u05d1\u05e0\u05d9\u05d9\u05d4 \u200f\u05d1\u05e2\"\u05de"),
    ("Gate \u202e2 etag\u202c", "Gate 2 etag"),
])
def test_one_line_flattens_only_what_the_text_rule_refuses(typed, shown):
    assert one_line(typed) == shown
