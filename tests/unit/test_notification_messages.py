"""How a delivery's window reads in an email or SMS (no AWS)."""

import pytest

from sitegate.notifications import window


@pytest.mark.parametrize(("start", "end", "shown"), [
    ("2026-11-23T10:00:00+13:00", "2026-11-23T12:30:00+13:00", "Mon 23 Nov 2026 10:00-12:30 (+13:00)"),
    ("2026-11-23T23:00:00+13:00", "2026-11-24T01:00:00+13:00",
     "Mon 23 Nov 2026 23:00 to Tue 24 Nov 2026 01:00 (+13:00)"),
    # Auckland's clocks go back at 03:00 on 5 April 2026: three hours, not two
    ("2026-04-05T01:00:00+13:00", "2026-04-05T03:00:00+12:00", "Sun 05 Apr 2026 01:00-03:00 (+13:00 to +12:00)"),
])
def test_a_window_names_its_days_and_offsets(start, end, shown):
    assert window(start, end) == shown
