"""How a delivery's window reads in an email or SMS (no AWS)."""

import pytest

from sitegate.models.events import DeliveryEvent, DomainEvent
from sitegate.notifications import MESSAGES, window


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
