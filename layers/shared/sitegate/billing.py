"""Billing arithmetic (docs/DOMAIN.md "Billing"): pure functions, no AWS, `Decimal` throughout.

A staff user is billed for each calendar day, in the tenant's time zone, on which it was
active at any moment, at the tier of the highest level it held (while active) that day.
The invoice shows per tier the user-days, the quantity (user-days / days in the month,
rounded DOWN to 2 decimals), the unit price (daily rate x days in the month) and the amount
(quantity x unit price, rounded down to the cent: an amount never exceeds what the user-days
cost); then subtotal, GST (half-up to the cent) and total.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from sitegate.errors import invalid
from sitegate.policy import BILLING_TIER, STAFF_LEVEL_ORDER

TIERS = ("field", "office")
CENT = Decimal("0.01")
PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits only: \d would take any script's digits
NOT_BILLED = "-"  # a day without a level in a user's stored day codes
# The months SiteGate bills: none before 2000, and none past 9999-11, whose end (9999-12-01) is the last
# month boundary `datetime` has (9999-12 ends on 10000-01-01). Every time zone's bounds of these months
# are UTC datetimes too (UTC-12 to UTC+14 stay inside years 1999 to 9999).
FIRST_PERIOD, LAST_PERIOD = (2000, 1), (9999, 11)
EXTREME_ZONES = ("Etc/GMT+12", "Pacific/Kiritimati")  # UTC-12 and UTC+14: every zone's date lies between theirs
CALENDAR = "a month as YYYY-MM (e.g. 2026-09), from 2000-01 to 9999-11"


@dataclass(frozen=True)
class Rates:
    """A tenant's prices: per user-day and tier, and the GST rate (defaults: the product's)."""

    field: Decimal = Decimal("1.00")
    office: Decimal = Decimal("2.00")
    gst: Decimal = Decimal("0.15")
    currency: str = "NZD"

    def daily(self, tier: str) -> Decimal:
        return self.field if tier == "field" else self.office


@dataclass(frozen=True)
class Period:
    """A calendar month in a tenant's time zone; `start`/`end` are the UTC instants of its bounds
    (computed once: the day counting asks for them at every change of every user)."""

    year: int
    month: int
    timezone: str

    def __post_init__(self) -> None:
        if not in_calendar(self.year, self.month):  # e.g. the month after 9999-11, or before 2000-01
            raise invalid("period", CALENDAR)

    @property
    def name(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> date:
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    @property
    def days_in_month(self) -> int:
        return (self.next_first_day - self.first_day).days

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.days_in_month)]

    def day_start(self, day: date) -> datetime:
        """The UTC instant the local day begins (midnight in the tenant's zone)."""
        return datetime(day.year, day.month, day.day, tzinfo=self.zone).astimezone(UTC)

    @cached_property
    def start(self) -> datetime:
        return self.day_start(self.first_day)

    @cached_property
    def end(self) -> datetime:
        return self.day_start(self.next_first_day)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def previous(self) -> Period:
        year, month = (self.year, self.month - 1) if self.month > 1 else (self.year - 1, 12)
        return Period(year, month, self.timezone)


def in_calendar(year: int, month: int) -> bool:
    return 1 <= month <= 12 and FIRST_PERIOD <= (year, month) <= LAST_PERIOD


def parse_period(text: str, timezone: str = "UTC", field_name: str = "period") -> Period:
    """`YYYY-MM` of a month SiteGate bills (422 naming `field_name` otherwise)."""
    match = PERIOD.fullmatch(text or "")
    if not match or not in_calendar(int(match.group(1)), int(match.group(2))):
        raise invalid(field_name, CALENDAR)
    return Period(int(match.group(1)), int(match.group(2)), timezone)


def month_of(instant: datetime, timezone: str) -> Period:
    """The month `instant` falls in, in the tenant's time zone (422 `period` outside the calendar)."""
    try:
        local = instant.astimezone(ZoneInfo(timezone))
    except OverflowError:  # 9999-12-31 late in UTC is year 10000 east of it
        raise invalid("period", CALENDAR) from None
    return Period(local.year, local.month, timezone)


# ------------------------------------------------------------------ day counting
@dataclass(frozen=True)
class State:
    status: str  # active | disabled | deleted
    level: str


@dataclass(frozen=True)
class Change:
    """From `at` on, the user is in `state` (None: the user does not exist)."""

    at: datetime
    state: State | None


@dataclass(frozen=True)
class Timeline:
    """One staff user's state at the period start (None: not yet created) and its changes after."""

    user_id: str
    name: str
    start: State | None
    changes: Sequence[Change] = field(default_factory=tuple)


def _rank(level: str) -> int:
    return STAFF_LEVEL_ORDER.index(level) if level in STAFF_LEVEL_ORDER else -1


def billed_days(timeline: Timeline, period: Period, until: datetime | None = None) -> dict[date, str]:
    """The billed days of one user in `period`, each with the highest level held while active that
    day. A day counts if the user was active at any moment of it (an active state that begins at
    an instant counts that instant's day, even if it ends in the same second). `until` (the
    month-to-date preview: now) cuts the timeline; nothing after it is billed."""
    end = period.end if until is None else min(period.end, until)
    if end <= period.start:
        return {}
    levels: dict[date, str] = {}
    # The state held from `since`; `began` says it began by a change inside the period (then even a
    # zero-length stay counts its instant), not by being held when the period started.
    state, since, began = timeline.start, period.start, False
    for change in [*sorted(timeline.changes, key=lambda c: c.at), Change(end, None)]:
        at = min(max(change.at, period.start), end)
        if state is not None and state.status == "active" and state.level in BILLING_TIER and (at > since or began):
            last = period.local_date(at - timedelta(microseconds=1)) if at > since else period.local_date(since)
            day = period.local_date(since)
            while day <= last:
                if day not in levels or _rank(state.level) > _rank(levels[day]):
                    levels[day] = state.level
                day += timedelta(days=1)
        if change.at >= end:
            break
        state, since, began = change.state, at, change.at >= period.start
    return levels


# ------------------------------------------------------------------ the invoice
@dataclass(frozen=True)
class BilledUser:
    user_id: str
    name: str
    levels: dict[date, str]  # billed day -> the level billed that day

    @property
    def days(self) -> int:
        return len(self.levels)

    @property
    def tier(self) -> str:
        """The highest tier billed in the period."""
        return "office" if any(BILLING_TIER[lv] == "office" for lv in self.levels.values()) else "field"

    def tier_days(self, tier: str) -> int:
        return sum(1 for lv in self.levels.values() if BILLING_TIER[lv] == tier)


@dataclass(frozen=True)
class Line:
    tier: str
    user_days: int
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    daily_rate: Decimal


@dataclass(frozen=True)
class Draft:
    period: Period
    rates: Rates
    lines: list[Line]
    users: list[BilledUser]
    subtotal: Decimal
    gst: Decimal
    total: Decimal


def line(tier: str, user_days: int, days_in_month: int, daily_rate: Decimal) -> Line:
    quantity = (Decimal(user_days) / Decimal(days_in_month)).quantize(CENT, rounding=ROUND_DOWN)
    unit_price = (daily_rate * days_in_month).quantize(CENT, rounding=ROUND_HALF_UP)
    amount = (quantity * unit_price).quantize(CENT, rounding=ROUND_DOWN)
    return Line(tier, user_days, quantity, unit_price, amount, daily_rate)


def totals(lines: Iterable[Line], gst_rate: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    subtotal = sum((ln.amount for ln in lines), Decimal("0.00")).quantize(CENT)
    gst = (subtotal * gst_rate).quantize(CENT, rounding=ROUND_HALF_UP)
    return subtotal, gst, subtotal + gst


def draft(period: Period, users: Iterable[BilledUser], rates: Rates) -> Draft:
    """The invoice of `period` for these billed users (users without a billed day are left out)."""
    billed = sorted((u for u in users if u.levels), key=lambda u: (u.name.lower(), u.user_id))
    lines = [line(tier, sum(u.tier_days(tier) for u in billed), period.days_in_month, rates.daily(tier))
             for tier in TIERS]
    subtotal, gst, total = totals(lines, rates.gst)
    return Draft(period, rates, lines, billed, subtotal, gst, total)


def money(value: Decimal) -> str:
    return f"{value.quantize(CENT):f}"


# ------------------------------------------------------------------ stored form of a user's days
def encode_days(period: Period, levels: dict[date, str]) -> tuple[list[str], str]:
    """A user's billed days, compactly: its distinct levels, and one character per day of the month
    (the level's index in that list, or `-` for a day not billed)."""
    legend = sorted(set(levels.values()), key=_rank)
    codes = "".join(str(legend.index(levels[d])) if d in levels else NOT_BILLED for d in period.days)
    return legend, codes


def decode_days(period: Period, legend: Sequence[str], codes: str) -> dict[date, str]:
    return {day: legend[int(code)] for day, code in zip(period.days, codes, strict=True) if code != NOT_BILLED}


# ------------------------------------------------------------------ the CSV of billed user-days
CSV_HEADER = ("date", "user_id", "name", "level", "tier")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP "CSV injection"): a leading `'`."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def csv_rows(users: Iterable[BilledUser]) -> list[tuple[str, str, str, str, str]]:
    """One row per billed user-day, by date then user: they add up exactly to the invoice's lines."""
    rows = [(day.isoformat(), u.user_id, csv_safe(u.name), level, BILLING_TIER[level])
            for u in users for day, level in u.levels.items()]
    return sorted(rows, key=lambda r: (r[0], r[2].lower(), r[1]))


# ------------------------------------------------------------------ tax invoices and credit notes
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def supply_of(period: str) -> str:
    """The description of the supply, as a tax invoice must give it."""
    year, month = period.split("-")
    return f"SiteGate site access control: active user-days in {MONTHS[int(month) - 1]} {year}"

@dataclass(frozen=True)
class Left:
    """What is left of a final invoice to credit: GST-exclusive, GST, and total."""

    subtotal: Decimal
    gst: Decimal
    total: Decimal


def left_of(subtotal: str, gst: str, total: str, credited_subtotal: str, credited_gst: str,
            credited_total: str) -> Left:
    return Left(Decimal(subtotal) - Decimal(credited_subtotal), Decimal(gst) - Decimal(credited_gst),
                Decimal(total) - Decimal(credited_total))


def credit_gst(amount: Decimal, left: Left, gst_rate: Decimal) -> Decimal:
    """The GST of a credit note of `amount` (GST-exclusive, at most what is left): what is left of the invoice's
    GST when it credits all that is left (so credits add up to the invoice to the cent), else the amount's GST,
    half-up, never more than the GST left."""
    if amount == left.subtotal:
        return left.gst
    return min((amount * gst_rate).quantize(CENT, rounding=ROUND_HALF_UP), left.gst)


def line_credit(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """A credit of a line's quantity at its unit price, as the line itself is computed (rounded down)."""
    return (quantity * unit_price).quantize(CENT, rounding=ROUND_DOWN)
