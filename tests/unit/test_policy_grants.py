"""One liveness rule for access-list entries, one reading of a guest's sponsor, and whether the
trade a delivery is booked for is still on the job, as ALLOW / DENY tables. Expected values are
transcribed from docs/DOMAIN.md ("Jobs and job access": an entry grants nothing after its
`expires_at`; "Deliveries": a trade removed, expired or archived since booking), not read from
the policy's tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sitegate import clock, policy
from sitegate.models.stored import JobGrant
from sitegate.policy import Caller, JobFacts
from tests.unit.test_policy_jobs import JOB, OWNER, _account, entry, member, staff

ALLOW, DENY = True, False
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _v(allowed: bool) -> str:
    return "ALLOW" if allowed else "DENY"


def _expiring(offset: timedelta | None, account_id: str = "acc-trade_contractor", kind: str = "trade_contractor",
              sponsor: str | None = None) -> JobGrant:
    return entry(account_id, kind, expires_at=None if offset is None else (NOW + offset).isoformat(), sponsor=sponsor)


# --- the boundary: an entry expiring exactly now grants nothing; a microsecond later it still does
LIVENESS = [
    ("no_expiry", None, ALLOW),
    ("expires_in_a_microsecond", timedelta(microseconds=1), ALLOW),
    ("expires_exactly_now", timedelta(0), DENY),
    ("expired_a_second_ago", timedelta(seconds=-1), DENY),
]


@pytest.mark.parametrize(("offset", "live"), [pytest.param(o, a, id=f"{n}-{_v(a)}") for n, o, a in LIVENESS])
def test_an_entry_is_live_until_its_expiry_and_not_at_it(offset, live):
    assert policy.grant_live(_expiring(offset), NOW) is live


def test_no_entry_is_not_live():
    assert policy.grant_live(None, NOW) is False


def test_an_expiry_in_another_offset_is_compared_as_an_instant():
    # Given: 22:00 in Auckland (+13:00) is 09:00 UTC, the same instant as NOW
    grant = entry("acc-trade_contractor", "trade_contractor", expires_at="2026-11-23T22:00:00+13:00")
    # Then
    assert policy.grant_live(grant, NOW) is False
    assert policy.grant_live(grant, NOW - timedelta(seconds=1)) is True


def test_liveness_without_a_time_reads_the_clock():
    clock.freeze(NOW)
    try:
        assert policy.grant_live(_expiring(timedelta(0))) is False
        assert policy.grant_live(_expiring(timedelta(seconds=1))) is True
    finally:
        clock.unfreeze()


# Every decision that rests on an entry draws the same line at the same instant.
@pytest.mark.parametrize(("offset", "live"), [pytest.param(o, a, id=f"{n}-{_v(a)}") for n, o, a in LIVENESS])
def test_every_reader_of_an_entry_agrees_on_the_boundary(offset, live):
    # Given: a trade administrator, its entry, a guest it sponsors and a vendor, all expiring at `offset`
    trade = member("trade_contractor")
    grant = _expiring(offset)
    guest = member("guest_contractor", account_id="acc-guest", sponsor=trade.account.account_id)
    guest_facts = JobFacts(JOB, _expiring(None, "acc-guest", "guest_contractor", sponsor=trade.account.account_id),
                           sponsor=trade.account, sponsor_grant=grant)
    vendor_entry = _expiring(offset, "acc-vendor", "vendor")
    # When
    reach = policy.decide(trade, "job.reach", job=JobFacts(JOB, grant), now=NOW)
    guest_reach = policy.decide(guest, "job.reach", job=guest_facts, now=NOW)
    booked = policy.decide_trade_on_job(trade.account, grant, NOW)
    history = policy.vendor_history(vendor_entry, removed=False, now=NOW)
    # Then
    assert (reach.allowed, guest_reach.allowed, booked.allowed, history) == (live, live, live,
                                                                           "live" if live else "expired")


# --- the trade a delivery is booked for: a trade contractor, active, with a live entry
TRADES_ON_JOB = [  # name, the company, its entry, allowed, rule
    ("active_trade_live_entry", _account("trade_contractor", "acc-t"), "live", ALLOW, "booked-trade-on-job"),
    ("entry_without_expiry", _account("trade_contractor", "acc-t"), "forever", ALLOW, "booked-trade-on-job"),
    ("entry_expiring_now", _account("trade_contractor", "acc-t"), "now", DENY, "booked-trade-off-job"),
    ("removed_from_job", _account("trade_contractor", "acc-t"), None, DENY, "booked-trade-off-job"),
    ("another_accounts_entry", _account("trade_contractor", "acc-t"), "other", DENY, "booked-trade-off-job"),
    ("archived_trade", _account("trade_contractor", "acc-t", status="archived"), "live", DENY, "booked-trade-archived"),
    ("vendor", _account("vendor", "acc-t"), "live", DENY, "booked-trade-kind"),
    ("customer", _account("customer", "acc-t"), "live", DENY, "booked-trade-kind"),
    ("guest_contractor", _account("guest_contractor", "acc-t"), "live", DENY, "booked-trade-kind"),
    ("the_owner_account", _account("owner", OWNER), "live", DENY, "booked-trade-kind"),
]
ENTRIES = {"live": timedelta(days=1), "now": timedelta(0), "forever": None}


@pytest.mark.parametrize(("company", "which", "allowed", "rule"), [
    pytest.param(c, w, a, r, id=f"{n}-{_v(a)}") for n, c, w, a, r in TRADES_ON_JOB])
def test_a_delivery_is_booked_for_and_approved_only_while_its_trade_is_on_the_job(company, which, allowed, rule):
    # Given
    if which is None:
        grant = None
    elif which == "other":
        grant = _expiring(None, "acc-someone-else")
    else:
        grant = _expiring(ENTRIES[which], company.account_id, company.kind)
    # When
    decision = policy.decide_trade_on_job(company, grant, NOW)
    # Then
    assert (decision.allowed, decision.rule) == (allowed, rule), decision.reason


BOOKED_FOR_GC = [  # the caller, the account named, booked for the GC?
    ("gc_user_names_its_own_account", staff("basic_user_plus"), OWNER, True),
    ("gc_user_names_a_trade", staff("basic_user_plus"), "acc-trade_contractor", False),
    ("trade_names_the_owner_account", member("trade_contractor"), OWNER, False),
    ("trade_names_itself", member("trade_contractor"), "acc-trade_contractor", False),
]


@pytest.mark.parametrize(("caller", "for_account_id", "for_gc"), [
    pytest.param(c, f, g, id=n) for n, c, f, g in BOOKED_FOR_GC])
def test_only_a_gc_user_naming_its_own_account_books_for_the_gc(caller: Caller, for_account_id, for_gc):
    assert policy.books_for_gc(caller, for_account_id) is for_gc


# --- a guest's sponsor: the one its entry records, else its account's own; nobody else has one
SPONSORS = [  # account kind, the account's sponsor, the entry's sponsor (or no entry), expected
    ("guest_contractor", "acc-a", "acc-b", "acc-b"),
    ("guest_contractor", "acc-a", None, "acc-a"),
    ("guest_contractor", "acc-a", "no entry", "acc-a"),
    ("guest_contractor", None, None, None),
    ("trade_contractor", "acc-a", "acc-b", None),
    ("customer", None, None, None),
]


@pytest.mark.parametrize(("kind", "own", "on_entry", "expected"), SPONSORS)
def test_a_guests_sponsor_is_the_one_its_entry_records_else_its_accounts(kind, own, on_entry, expected):
    account = _account(kind, "acc-x", sponsor=own)
    grant = None if on_entry == "no entry" else entry("acc-x", kind, sponsor=on_entry)
    assert policy.guest_sponsor_id(account, grant) == expected


def test_rule_names_of_moved_decisions_are_each_written_once():
    import inspect
    import re

    names = re.findall(r'_(?:allow|deny)\("([a-z0-9-]+)"', inspect.getsource(policy))
    moved = {"booked-trade-kind", "booked-trade-archived", "booked-trade-off-job", "booked-trade-on-job",
             "notice-unknown", "notice-capability"}
    assert {name: names.count(name) for name in moved} == dict.fromkeys(moved, 1)
