"""Billing arithmetic against docs/DOMAIN.md "Billing": billed days in the tenant's time zone
(DST included), the highest tier of the day, and the invoice's money to the cent. The seed's
worked example is transcribed from the product's help page, not computed here."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sitegate.billing import (
    CSV_HEADER,
    EXTREME_ZONES,
    BilledUser,
    Change,
    Period,
    Rates,
    State,
    Timeline,
    billed_days,
    csv_rows,
    csv_safe,
    decode_days,
    draft,
    encode_days,
    line,
    month_of,
    parse_period,
)
from sitegate.errors import InvalidInput
from sitegate.policy import STAFF_LEVEL_ORDER

AUCKLAND, NEW_YORK = "Pacific/Auckland", "America/New_York"
FIELD, OFFICE = State("active", "basic_user"), State("active", "super_admin")
DISABLED, DELETED = State("disabled", "basic_user"), State("deleted", "basic_user")


def at(zone: str, y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def days_of(levels: dict[date, str]) -> list[int]:
    return sorted(d.day for d in levels)


def timeline(start: State | None, *changes: tuple[datetime, State | None]) -> Timeline:
    return Timeline("u1", "Una", start, [Change(when, state) for when, state in changes])


# ------------------------------------------------------------------ the seed's examples
def test_seed_worked_example_310_field_and_110_office_user_days_in_30_days():
    # Given: 10 field users x 30 days + 2 x 5 days; 3 office users x 30 days + 1 x 20 days
    period = Period(2026, 9, AUCKLAND)
    sept = period.days
    users = [BilledUser(f"f{i}", f"F{i}", dict.fromkeys(sept, "basic_user")) for i in range(10)]
    users += [BilledUser(f"g{i}", f"G{i}", dict.fromkeys(sept[:5], "view_user")) for i in range(2)]
    users += [BilledUser(f"o{i}", f"O{i}", dict.fromkeys(sept, "super_admin")) for i in range(3)]
    users += [BilledUser("p", "P", dict.fromkeys(sept[:20], "invoicing"))]
    # When
    invoice = draft(period, users, Rates())
    # Then: 10.33 x $30.00 = $309.90 and 3.66 x $60.00 = $219.60, subtotal $529.50
    field, office = invoice.lines
    assert (field.user_days, field.quantity, field.unit_price, field.amount) == (
        310, Decimal("10.33"), Decimal("30.00"), Decimal("309.90"))
    assert (office.user_days, office.quantity, office.unit_price, office.amount) == (
        110, Decimal("3.66"), Decimal("60.00"), Decimal("219.60"))
    assert invoice.subtotal == Decimal("529.50")
    assert invoice.gst == Decimal("79.43")  # 79.425 half-up
    assert invoice.total == Decimal("608.93")


def test_seed_ten_field_and_three_office_users_all_month_cost_480():
    period = Period(2026, 9, AUCKLAND)
    users = [BilledUser(f"f{i}", "F", dict.fromkeys(period.days, "basic_user")) for i in range(10)]
    users += [BilledUser(f"o{i}", "O", dict.fromkeys(period.days, "tmp_designer")) for i in range(3)]
    assert draft(period, users, Rates()).subtotal == Decimal("480.00")


def test_rates_and_gst_are_the_tenants():
    period = Period(2026, 2, AUCKLAND)  # 28 days
    users = [BilledUser("f", "F", dict.fromkeys(period.days, "basic_user"))]
    invoice = draft(period, users, Rates(field=Decimal("1.25"), office=Decimal("3.00"), gst=Decimal("0.10")))
    assert (invoice.lines[0].unit_price, invoice.lines[0].amount) == (Decimal("35.00"), Decimal("35.00"))
    assert (invoice.gst, invoice.total) == (Decimal("3.50"), Decimal("38.50"))


# ------------------------------------------------------------------ months
@pytest.mark.parametrize(("year", "month", "days"), [(2026, 2, 28), (2028, 2, 29), (2026, 9, 30), (2026, 10, 31),
                                                     (2026, 12, 31)])
def test_a_user_active_all_month_is_billed_every_day_of_it(year, month, days):
    period = Period(year, month, AUCKLAND)
    assert days_of(billed_days(timeline(FIELD), period)) == list(range(1, days + 1))
    assert period.days_in_month == days


def test_a_period_computes_its_bounds_once_and_they_are_not_part_of_it():
    # Given: a month whose bounds the day counting asks for at every change of every user
    period = Period(2026, 9, AUCKLAND)
    # Then: the same instants each time, the local midnights, and equal periods stay equal once computed
    assert period.start is period.start and period.end is period.end
    assert (period.start, period.end) == (at(AUCKLAND, 2026, 9, 1, 0), at(AUCKLAND, 2026, 10, 1, 0))
    assert period == Period(2026, 9, AUCKLAND) and hash(period) == hash(Period(2026, 9, AUCKLAND))


@pytest.mark.parametrize(("text", "year", "month"), [("2026-09", 2026, 9), ("2026-12", 2026, 12), ("2027-01", 2027, 1)])
def test_periods_parse(text, year, month):
    assert (parse_period(text).year, parse_period(text).month) == (year, month)


@pytest.mark.parametrize("text", [
    "2026-13", "2026-00", "abc", "", "2026-9", "2026-09 ", "\uff11\uff19\uff19\uff19-01", "1999-12"])
def test_bad_periods_are_refused(text):
    with pytest.raises(InvalidInput):
        parse_period(text)


@pytest.mark.parametrize("text", ["9999-12", "0000-01", "0001-01", "1999-12", "2026-13"])
def test_periods_outside_the_calendar_are_refused_naming_period(text):
    # 9999-12 ends on 10000-01-01, which `datetime` cannot hold; 0001-01 starts before year 1 east of UTC
    with pytest.raises(InvalidInput) as refused:
        parse_period(text, "Pacific/Kiritimati")
    assert refused.value.details["errors"][0]["field"] == "period"


@pytest.mark.parametrize("zone", ["Etc/GMT+12", "UTC", "Pacific/Kiritimati"])  # UTC-12, UTC, UTC+14
@pytest.mark.parametrize("text", ["2000-01", "9999-11"])
def test_the_first_and_last_months_have_bounds_in_every_time_zone(text, zone):
    period = parse_period(text, zone)
    assert period.start < period.end
    assert len(period.days) == period.days_in_month


def test_the_month_after_the_last_and_before_the_first_are_refused():
    with pytest.raises(InvalidInput):
        Period(2000, 1, "UTC").previous()
    with pytest.raises(InvalidInput):
        Period(9999, 12, "UTC")


@pytest.mark.parametrize("instant", ["9999-12-15T00:00:00+00:00", "9999-12-31T20:00:00+00:00",
                                     "1999-12-31T09:00:00+00:00"])
def test_a_month_of_an_instant_outside_the_calendar_is_refused(instant):
    # 9999-12-31T20:00Z is already year 10000 in Kiritimati (UTC+14)
    with pytest.raises(InvalidInput):
        month_of(datetime.fromisoformat(instant), "Pacific/Kiritimati")


def test_the_month_before_january_is_last_december():
    assert month_of(at(AUCKLAND, 2027, 1, 1, 0, 30), AUCKLAND).previous().name == "2026-12"


def test_the_month_before_any_other_month_is_the_one_before_it_in_the_same_year():
    befores = [Period(2026, month, AUCKLAND).previous() for month in range(2, 13)]
    assert [p.name for p in befores] == [f"2026-{month:02d}" for month in range(1, 12)]
    assert {p.timezone for p in befores} == {AUCKLAND}


def test_the_calendar_starts_in_2000_01():
    assert Period(2000, 1, "UTC").name == "2000-01"
    with pytest.raises(InvalidInput):
        Period(1999, 12, "UTC")
    with pytest.raises(InvalidInput):
        Period(2026, 0, "UTC")
    with pytest.raises(InvalidInput):
        Period(2026, 13, "UTC")


def test_no_period_at_all_is_refused_naming_its_field():
    with pytest.raises(InvalidInput) as refused:
        parse_period(None, field_name="month")
    assert refused.value.details["errors"][0]["field"] == "month"


def test_the_month_is_the_tenants_not_utcs():
    # 1 October 00:30 in Auckland is still 30 September in UTC
    assert month_of(at(AUCKLAND, 2026, 10, 1, 0, 30), AUCKLAND).name == "2026-10"
    assert month_of(at(AUCKLAND, 2026, 10, 1, 0, 30), NEW_YORK).name == "2026-09"


# ------------------------------------------------------------------ created, disabled, re-enabled, deleted
def test_created_mid_month_counts_from_its_day():
    period = Period(2026, 9, AUCKLAND)
    levels = billed_days(timeline(None, (at(AUCKLAND, 2026, 9, 28, 23, 59), FIELD)), period)
    assert days_of(levels) == [28, 29, 30]


def test_disabled_and_re_enabled_bills_the_days_it_was_active_at_any_moment():
    period = Period(2026, 9, AUCKLAND)
    levels = billed_days(timeline(FIELD, (at(AUCKLAND, 2026, 9, 3, 0, 1), DISABLED),
                                  (at(AUCKLAND, 2026, 9, 7, 23, 59), FIELD)), period)
    assert days_of(levels) == [1, 2, 3, *range(7, 31)]


def test_disabled_and_re_enabled_within_one_day_bills_that_day_once():
    period = Period(2026, 9, AUCKLAND)
    levels = billed_days(timeline(DISABLED, (at(AUCKLAND, 2026, 9, 5, 9), FIELD), (at(AUCKLAND, 2026, 9, 5, 10), DISABLED),
                                  (at(AUCKLAND, 2026, 9, 5, 11), FIELD), (at(AUCKLAND, 2026, 9, 5, 12), DISABLED)), period)
    assert days_of(levels) == [5]


def test_deleted_mid_month_stops_the_day_after():
    period = Period(2026, 9, AUCKLAND)
    levels = billed_days(timeline(FIELD, (at(AUCKLAND, 2026, 9, 10, 8), DELETED)), period)
    assert days_of(levels) == list(range(1, 11))


def test_disabled_exactly_at_midnight_is_not_billed_the_new_day():
    period = Period(2026, 9, AUCKLAND)
    levels = billed_days(timeline(FIELD, (at(AUCKLAND, 2026, 9, 11, 0, 0), DISABLED)), period)
    assert days_of(levels) == list(range(1, 11))


def test_disabled_all_month_is_not_billed():
    assert billed_days(timeline(DISABLED), Period(2026, 9, AUCKLAND)) == {}


def test_disabled_at_the_very_start_of_the_month_is_not_billed():
    period = Period(2026, 9, AUCKLAND)
    assert billed_days(timeline(FIELD, (period.start, DISABLED)), period) == {}


def test_created_and_disabled_in_the_same_second_was_active_that_moment():
    when = at(AUCKLAND, 2026, 9, 9, 9)
    assert days_of(billed_days(timeline(None, (when, FIELD), (when, DISABLED)), Period(2026, 9, AUCKLAND))) == [9]


def test_created_and_disabled_at_the_very_start_of_the_month_was_active_that_moment():
    # local midnight of the 1st: that instant is the 1st's
    period = Period(2026, 9, AUCKLAND)
    assert days_of(billed_days(timeline(None, (period.start, FIELD), (period.start, DISABLED)), period)) == [1]


def test_active_a_microsecond_into_a_day_bills_that_day():
    period = Period(2026, 9, AUCKLAND)
    midnight = period.day_start(date(2026, 9, 11))
    levels = billed_days(timeline(FIELD, (midnight + timedelta(microseconds=1), DISABLED)), period)
    assert days_of(levels) == list(range(1, 12))


def test_not_yet_created_is_not_billed():
    assert billed_days(timeline(None), Period(2026, 9, AUCKLAND)) == {}


def test_a_change_at_the_very_end_of_the_month_belongs_to_the_next_month():
    # Given: created, or promoted to office, exactly at local midnight after the 30th
    period = Period(2026, 9, AUCKLAND)
    # Then: nothing of it is billed in September
    assert billed_days(timeline(None, (period.end, FIELD)), period) == {}
    levels = billed_days(timeline(FIELD, (period.end, OFFICE)), period)
    assert (len(levels), set(levels.values())) == (30, {"basic_user"})


@pytest.mark.parametrize("level", ["administrator", "manager", "basic", "platform_operator"])
def test_only_staff_levels_are_billed(level):
    # Connected-account users are free: an active account level is never a billed day
    assert billed_days(timeline(State("active", level)), Period(2026, 9, AUCKLAND)) == {}


# ------------------------------------------------------------------ levels within a day
def test_a_level_change_mid_day_bills_the_highest_tier_of_that_day():
    # Given: promoted at 16:00 on the 10th, demoted at 08:00 on the 20th
    period = Period(2026, 9, AUCKLAND)
    levels = billed_days(timeline(FIELD, (at(AUCKLAND, 2026, 9, 10, 16), OFFICE),
                                  (at(AUCKLAND, 2026, 9, 20, 8), FIELD)), period)
    # Then: office on the 10th through the 20th, both days included
    office = [d.day for d, lv in levels.items() if lv == "super_admin"]
    assert sorted(office) == list(range(10, 21))
    assert len(levels) == 30


def test_a_level_held_only_while_disabled_is_not_billed():
    # Given: disabled at 09:00, promoted to office while disabled, demoted and re-enabled the next day
    period = Period(2026, 9, AUCKLAND)
    levels = billed_days(timeline(FIELD, (at(AUCKLAND, 2026, 9, 10, 9), DISABLED),
                                  (at(AUCKLAND, 2026, 9, 10, 10), State("disabled", "super_admin")),
                                  (at(AUCKLAND, 2026, 9, 11, 10), State("disabled", "basic_user")),
                                  (at(AUCKLAND, 2026, 9, 11, 11), FIELD)), period)
    assert set(levels.values()) == {"basic_user"}
    assert len(levels) == 30


def test_the_highest_level_of_the_day_is_the_one_shown():
    period = Period(2026, 9, AUCKLAND)
    levels = billed_days(timeline(State("active", "tmp_designer"), (at(AUCKLAND, 2026, 9, 4, 9), OFFICE),
                                  (at(AUCKLAND, 2026, 9, 4, 10), State("active", "view_user"))), period)
    assert levels[date(2026, 9, 4)] == "super_admin"
    assert levels[date(2026, 9, 3)] == "tmp_designer"
    assert levels[date(2026, 9, 5)] == "view_user"


# ------------------------------------------------------------------ time zones and DST
def test_auckland_month_bounds_follow_its_offset_and_dst():
    # September 2026 starts at NZST (+12) and ends after DST began on the 27th (+13)
    period = Period(2026, 9, AUCKLAND)
    assert period.start == datetime(2026, 8, 31, 12, tzinfo=UTC)
    assert period.end == datetime(2026, 9, 30, 11, tzinfo=UTC)


def test_new_york_month_bounds_follow_its_negative_offset_and_dst():
    # November 2026: EDT (-4) until the 1st at 02:00, then EST (-5)
    period = Period(2026, 11, NEW_YORK)
    assert period.start == datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert period.end == datetime(2026, 12, 1, 5, tzinfo=UTC)


def test_the_23_hour_day_when_auckland_springs_forward_is_one_day():
    # 27 September 2026: 02:00 NZST becomes 03:00 NZDT; active only from 00:30 to 23:30 local
    period = Period(2026, 9, AUCKLAND)
    levels = billed_days(timeline(None, (at(AUCKLAND, 2026, 9, 27, 0, 30), FIELD),
                                  (at(AUCKLAND, 2026, 9, 27, 23, 30), DISABLED)), period)
    assert days_of(levels) == [27]


def test_the_25_hour_day_when_auckland_falls_back_is_one_day():
    # 5 April 2026: 03:00 NZDT becomes 02:00 NZST
    period = Period(2026, 4, AUCKLAND)
    start, end = at(AUCKLAND, 2026, 4, 5, 0, 10), at(AUCKLAND, 2026, 4, 5, 23, 50)
    assert (end - start) == timedelta(hours=24, minutes=40)
    assert days_of(billed_days(timeline(None, (start, FIELD), (end, DISABLED)), period)) == [5]


def test_a_utc_instant_is_billed_on_the_tenants_calendar_day():
    # 1 April 2026 03:30 UTC is still 31 March in New York (EDT, -4) but 1 April 16:30 in Auckland
    instant = datetime(2026, 4, 1, 3, 30, tzinfo=UTC)
    march_ny = billed_days(timeline(None, (instant, FIELD)), Period(2026, 3, NEW_YORK))
    assert days_of(march_ny) == [31]
    assert billed_days(timeline(None, (instant, FIELD)), Period(2026, 3, AUCKLAND)) == {}


def test_new_york_spring_forward_day_counts_once():
    # 8 March 2026: 02:00 EST becomes 03:00 EDT
    period = Period(2026, 3, NEW_YORK)
    levels = billed_days(timeline(FIELD, (at(NEW_YORK, 2026, 3, 8, 1, 59), DISABLED),
                                  (at(NEW_YORK, 2026, 3, 8, 3, 1), FIELD),
                                  (at(NEW_YORK, 2026, 3, 9, 0, 0), DISABLED)), period)
    assert days_of(levels) == list(range(1, 9))


def test_the_preview_stops_at_now_today_included():
    period = Period(2026, 10, AUCKLAND)
    now = at(AUCKLAND, 2026, 10, 10, 0, 5)
    levels = billed_days(timeline(FIELD), period, until=now + timedelta(seconds=1))
    assert days_of(levels) == list(range(1, 11))


# ------------------------------------------------------------------ the CSV and the stored form
def test_csv_cells_are_never_spreadsheet_formulas():
    assert csv_safe("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert csv_safe("+64 21") == "'+64 21"
    assert csv_safe("Ada Admin") == "Ada Admin"


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_a_name_starting_like_a_formula_gets_a_leading_quote(first):
    assert csv_safe(f"{first}SUM(A1)") == f"'{first}SUM(A1)"


@pytest.mark.parametrize("name", ["Ada Admin", "'quoted", " =x", "a=b", "1-2", "#1", ""])
def test_any_other_name_is_written_as_it_is(name):
    assert csv_safe(name) == name


def test_the_csv_has_the_documented_columns():
    assert CSV_HEADER == ("date", "user_id", "name", "level", "tier")


def test_csv_rows_go_by_date_then_name_then_user():
    # Given: two users named alike (case aside) and one more, billed on the 1st and the 2nd
    d1, d2 = date(2026, 9, 1), date(2026, 9, 2)
    users = [BilledUser("u0", "bea", {d2: "super_admin", d1: "basic_user"}),
             BilledUser("u2", "Al", {d2: "view_user"}),
             BilledUser("u1", "al", {d1: "tmp_designer", d2: "tmp_designer"})]
    # When
    rows = csv_rows(users)
    # Then: names compare without case, and alike names by user id
    assert rows == [("2026-09-01", "u1", "al", "tmp_designer", "office"),
                    ("2026-09-01", "u0", "bea", "basic_user", "field"),
                    ("2026-09-02", "u1", "al", "tmp_designer", "office"),
                    ("2026-09-02", "u2", "Al", "view_user", "field"),
                    ("2026-09-02", "u0", "bea", "super_admin", "office")]


@pytest.mark.parametrize(("levels", "tier"), [
    pytest.param(("view_user", "basic_user", "basic_user_plus"), "field", id="field-levels-only"),
    pytest.param(("basic_user", "tmp_designer", "basic_user"), "office", id="one-office-day-makes-office"),
    pytest.param(("super_admin",), "office", id="office-only"),
])
def test_a_billed_users_tier_is_the_highest_of_its_month(levels, tier):
    days = {date(2026, 9, i + 1): level for i, level in enumerate(levels)}
    user = BilledUser("u", "U", days)
    assert user.tier == tier
    assert user.tier_days("office") + user.tier_days("field") == user.days == len(levels)


def test_stored_days_of_another_length_than_the_month_are_refused():
    period = Period(2026, 9, AUCKLAND)
    legend, codes = encode_days(period, {date(2026, 9, 1): "basic_user"})
    for wrong in (codes[:-1], codes + "-"):
        with pytest.raises(ValueError):
            decode_days(period, legend, wrong)


def test_billing_values_cannot_be_changed():
    # Rates, periods, states and invoices are values: frozen (and hashable where they hold no lists)
    period = Period(2026, 9, AUCKLAND)
    user = BilledUser("u", "U", {date(2026, 9, 1): "basic_user"})
    invoice = draft(period, [user], Rates())
    values = [(Rates(), "gst"), (period, "month"), (FIELD, "level"), (Change(period.start, FIELD), "state"),
              (timeline(FIELD), "start"), (user, "name"), (invoice.lines[0], "amount"), (invoice, "total")]
    for value, field in values:
        with pytest.raises(AttributeError):
            setattr(value, field, None)
    assert len({Rates(), period, FIELD, Change(period.start, FIELD), invoice.lines[0]}) == 5


def test_the_extreme_zones_are_the_earliest_and_the_latest_of_all_zones():
    # fan_out checks the month before in these two zones: every zone's date lies between theirs
    instants = [datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 7, 15, tzinfo=UTC)]
    offsets = {zone: [ZoneInfo(zone).utcoffset(i.replace(tzinfo=None)) for i in instants] for zone in available_timezones()}
    west, east = EXTREME_ZONES
    assert offsets[west] == [timedelta(hours=-12)] * 2 and offsets[east] == [timedelta(hours=14)] * 2
    assert all(offsets[west][i] <= o[i] <= offsets[east][i] for o in offsets.values() for i in range(2))


def test_stored_days_round_trip():
    period = Period(2026, 9, AUCKLAND)
    levels = {date(2026, 9, 1): "basic_user", date(2026, 9, 2): "super_admin", date(2026, 9, 30): "view_user"}
    legend, codes = encode_days(period, levels)
    assert len(codes) == 30
    assert decode_days(period, legend, codes) == levels


# ------------------------------------------------------------------ properties
ZONES = st.sampled_from([AUCKLAND, NEW_YORK, "UTC", "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns"])
STATES = st.sampled_from([FIELD, OFFICE, DISABLED, DELETED, State("active", "tmp_designer"),
                          State("active", "view_user"), None])


@st.composite
def timelines(draw, period: Period) -> Timeline:
    span = int((period.end - period.start).total_seconds())
    offsets = sorted(draw(st.lists(st.integers(-3600, span + 3600), max_size=8)))
    changes = [Change(period.start + timedelta(seconds=s), draw(STATES)) for s in offsets]
    return Timeline(draw(st.uuids()).hex, draw(st.text(min_size=1, max_size=12)), draw(STATES), changes)


@st.composite
def months(draw) -> Period:
    return Period(draw(st.integers(2025, 2028)), draw(st.integers(1, 12)), draw(ZONES))


def state_at(t: Timeline, instant: datetime) -> State | None:
    """The state a timeline holds at `instant`: its last change at or before it (the start before any)."""
    state = t.start
    for change in sorted(t.changes, key=lambda c: c.at):
        if change.at <= instant:
            state = change.state
    return state


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_csv_rows_add_up_exactly_to_the_invoice_lines(data):
    # Given: any users' histories in any month and zone
    period = data.draw(months())
    timelines_drawn = data.draw(st.lists(timelines(period), max_size=6, unique_by=lambda t: t.user_id))
    users = [BilledUser(t.user_id, t.name, billed_days(t, period)) for t in timelines_drawn]
    # When
    invoice = draft(period, users, Rates())
    rows = csv_rows(invoice.users)
    # Then
    per_tier = Counter(r[4] for r in rows)
    assert [(ln.tier, ln.user_days) for ln in invoice.lines] == [("field", per_tier["field"]),
                                                                  ("office", per_tier["office"])]
    assert len(rows) == sum(u.days for u in invoice.users)
    assert len(set((r[0], r[1]) for r in rows)) == len(rows)  # one row per user per day
    assert all(date.fromisoformat(r[0]) in set(period.days) for r in rows)
    # ... and they are the right days: every user active at local noon is billed that day, at
    # that level or higher (the check that an empty invoice cannot pass)
    billed = {(r[0], r[1]): STAFF_LEVEL_ORDER.index(r[3]) for r in rows}
    for t in timelines_drawn:
        for day in period.days:
            state = state_at(t, period.day_start(day) + timedelta(hours=12))
            if state is not None and state.status == "active":
                assert billed[(day.isoformat(), t.user_id)] >= STAFF_LEVEL_ORDER.index(state.level)


@settings(max_examples=400, deadline=None)
@given(days=st.sampled_from([28, 29, 30, 31]), user_days=st.integers(0, 31 * 5000),
       cents=st.integers(1, 100_000))
def test_quantity_times_unit_price_never_rounds_up(days, user_days, cents):
    # Given
    rate = Decimal(cents) / 100
    # When
    ln = line("field", user_days, days, rate)
    # Then: the quantity is the average rounded down, and the amount never exceeds the user-days' cost
    exact = Decimal(user_days) / Decimal(days)
    assert ln.quantity <= exact < ln.quantity + Decimal("0.01")
    assert ln.unit_price == rate * days
    assert ln.amount == (ln.quantity * ln.unit_price).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    assert ln.amount <= user_days * rate
    assert ln.amount.as_tuple().exponent == -2


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_day_is_billed_only_if_the_user_was_active_during_it(data):
    period = data.draw(months())
    t = data.draw(timelines(period))
    levels = billed_days(t, period)
    assert len(levels) <= period.days_in_month
    if t.start is None and not t.changes:
        assert levels == {}
    if all(c.state is None or c.state.status != "active" for c in t.changes) and (
            t.start is None or t.start.status != "active"):
        assert levels == {}
