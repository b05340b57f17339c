"""Delivery and job-request decisions as ALLOW / DENY tables: who may request a delivery for
whom and which approvals it then needs (roles x approvals), who approves and rejects, who cancels,
who manages locations and equipment, who sees and moves job requests. Expected values are
transcribed from docs/DOMAIN.md ("Deliveries", "Job requests"), not read from the policy's tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sitegate import policy
from sitegate.models.stored import Account, JobGrant, User
from sitegate.policy import Caller, DeliveryFacts, JobFacts, Scope

ALLOW, DENY = True, False
TENANT, OWNER, TRADE, OTHER_TRADE, VENDOR = "acme", "owner-1", "acc-trade", "acc-trade-2", "acc-vendor"
STAMP = "2026-01-01T00:00:00+00:00"
JOB = "job-1"
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _caller(kind: str, account_id: str, level: str, job_ids: list[str] | None = None, user_id: str = "u-me") -> Caller:
    user = User(tenant_id=TENANT, user_id=user_id, account_id=account_id, email="me@example.com", name="Me",
                level=level, job_ids=job_ids or [], created_at=STAMP, updated_at=STAMP)
    return Caller(user, Account(tenant_id=TENANT, account_id=account_id, kind=kind, name=account_id, created_at=STAMP))


def _facts(caller: Caller, role: str | None) -> JobFacts:
    account = caller.account
    grant = None if account.kind == "owner" else JobGrant(
        tenant_id=TENANT, job_id=JOB, job_number="1", account_id=account.account_id, account_kind=account.kind,
        granted_by="u-admin", granted_at=STAMP)
    return JobFacts(JOB, grant, project_role=role)


# People on the job: (caller, project role). Staff act through their project role.
PEOPLE = {
    "gc_lead": (_caller("owner", OWNER, "basic_user_plus"), "lead"),
    "gc_member": (_caller("owner", OWNER, "view_user"), "member"),
    "gc_alerts_only": (_caller("owner", OWNER, "basic_user_plus"), "alerts_only"),
    "gc_editor_without_role": (_caller("owner", OWNER, "operations_user"), None),
    "gc_lead_unallocated": (_caller("owner", OWNER, "basic_user", job_ids=["job-2"]), "lead"),
    "trade_lead": (_caller("trade_contractor", TRADE, "administrator"), "lead"),
    "trade_member": (_caller("trade_contractor", TRADE, "manager", [JOB]), "member"),
    "trade_alerts_only": (_caller("trade_contractor", TRADE, "administrator"), "alerts_only"),
    "trade_not_on_jobsite": (_caller("trade_contractor", TRADE, "administrator"), None),
    "other_trade_lead": (_caller("trade_contractor", OTHER_TRADE, "administrator"), "lead"),
    "vendor_lead": (_caller("vendor", VENDOR, "administrator"), "lead"),
    "vendor_member": (_caller("vendor", VENDOR, "administrator"), "member"),
    "customer_lead": (_caller("customer", "acc-customer", "administrator"), "lead"),
}


def _v(allowed: bool) -> str:
    return "ALLOW" if allowed else "DENY"


# --- who may request, booked for whom, and what the request then needs (docs/DOMAIN.md table)
REQUESTS = [  # requester, booked for (gc | trade | other_trade), allowed, approvals given at once / still needed
    ("gc_lead", "gc", ALLOW, {"gc": "approved"}),
    ("gc_member", "gc", ALLOW, {"gc": "pending"}),
    ("gc_lead", "trade", ALLOW, {"gc": "approved", "trade": "pending"}),
    ("gc_member", "trade", ALLOW, {"gc": "pending", "trade": "pending"}),
    ("trade_lead", "trade", ALLOW, {"gc": "pending", "trade": "approved"}),
    ("trade_member", "trade", ALLOW, {"gc": "pending", "trade": "pending"}),
    ("trade_lead", "gc", DENY, None),
    ("trade_member", "gc", DENY, None),
    ("trade_lead", "other_trade", DENY, None),
    ("gc_alerts_only", "gc", DENY, None),
    ("gc_editor_without_role", "gc", DENY, None),
    ("gc_lead_unallocated", "gc", DENY, None),
    ("trade_alerts_only", "trade", DENY, None),
    ("trade_not_on_jobsite", "trade", DENY, None),
    ("vendor_lead", "gc", DENY, None),
    ("vendor_member", "trade", DENY, None),
    ("customer_lead", "gc", DENY, None),
]
FOR = {"gc": OWNER, "trade": TRADE, "other_trade": OTHER_TRADE}


@pytest.mark.parametrize(("who", "booked_for", "allowed", "approvals"), [
    pytest.param(*row, id=f"{row[0]}-for-{row[1]}-{_v(row[2])}") for row in REQUESTS])
def test_who_requests_for_whom_and_the_approvals_it_needs(who, booked_for, allowed, approvals):
    # Given
    caller, role = PEOPLE[who]
    facts = _facts(caller, role)
    for_gc = booked_for == "gc"  # a trade asking to book for the GC asks for exactly that
    # When
    decision = policy.decide_delivery_request(caller, facts, booked_for_gc=for_gc, for_account_id=FOR[booked_for])
    # Then
    assert decision.allowed is allowed, decision.reason
    if allowed:
        assert policy.requested_approvals(caller, facts, booked_for_gc=for_gc) == approvals


# --- who approves (and rejects): a lead whose approval the delivery needs
def _delivery(booked_for: str, approvals: dict[str, str], requested_by: str = "u-someone") -> DeliveryFacts:
    return DeliveryFacts(for_account_id=FOR[booked_for], booked_for_gc=booked_for == "gc", requested_by=requested_by,
                         approvals=approvals)


APPROVERS = [  # who, the delivery (booked for, approvals), allowed, the approval given
    ("gc_lead", ("gc", {"gc": "pending"}), ALLOW, "gc"),
    ("gc_lead", ("trade", {"gc": "pending", "trade": "pending"}), ALLOW, "gc"),
    ("gc_lead", ("trade", {"gc": "approved", "trade": "pending"}), ALLOW, "gc"),  # already given: 409 in the logic
    ("trade_lead", ("trade", {"gc": "pending", "trade": "pending"}), ALLOW, "trade"),
    ("trade_lead", ("trade", {"gc": "approved", "trade": "pending"}), ALLOW, "trade"),
    ("trade_lead", ("gc", {"gc": "pending"}), DENY, None),
    ("other_trade_lead", ("trade", {"gc": "pending", "trade": "pending"}), DENY, None),
    ("gc_member", ("gc", {"gc": "pending"}), DENY, None),
    ("trade_member", ("trade", {"gc": "pending", "trade": "pending"}), DENY, None),
    ("gc_editor_without_role", ("gc", {"gc": "pending"}), DENY, None),
    ("gc_alerts_only", ("gc", {"gc": "pending"}), DENY, None),
    ("trade_alerts_only", ("trade", {"gc": "pending", "trade": "pending"}), DENY, None),
    ("vendor_lead", ("gc", {"gc": "pending"}), DENY, None),
    ("gc_lead_unallocated", ("gc", {"gc": "pending"}), DENY, None),
]


@pytest.mark.parametrize(("who", "delivery", "allowed", "approval"), [
    pytest.param(*row, id=f"{row[0]}-on-{row[1][0]}-{i}-{_v(row[2])}") for i, row in enumerate(APPROVERS)])
def test_a_lead_whose_approval_is_needed_approves(who, delivery, allowed, approval):
    # Given
    caller, role = PEOPLE[who]
    # When
    decision = policy.decide_approval(caller, _facts(caller, role), _delivery(*delivery))
    # Then
    assert (decision.allowed, decision.approval) == (allowed, approval), decision.reason


# --- who cancels: the requester (while it sees project pages) or a GC lead
CANCELS = [  # who, requested by the caller?, allowed, rule
    ("trade_member", True, ALLOW, "cancel-requester"),
    ("gc_member", True, ALLOW, "cancel-requester"),
    ("gc_lead", False, ALLOW, "cancel-gc-lead"),
    ("trade_lead", False, DENY, "cancel-requester-or-gc-lead"),
    ("gc_member", False, DENY, "cancel-requester-or-gc-lead"),
    ("gc_editor_without_role", False, DENY, "cancel-requester-or-gc-lead"),
    ("trade_alerts_only", True, DENY, "cancel-needs-project-pages"),
]


@pytest.mark.parametrize(("who", "own", "allowed", "rule"), [
    pytest.param(*row, id=f"{row[0]}-{'own' if row[1] else 'other'}-{_v(row[2])}") for row in CANCELS])
def test_the_requester_or_a_gc_lead_cancels(who, own, allowed, rule):
    caller, role = PEOPLE[who]
    delivery = _delivery("trade", {"gc": "pending", "trade": "pending"}, caller.user.user_id if own else "u-else")
    decision = policy.decide_cancel(caller, _facts(caller, role), delivery)
    assert (decision.allowed, decision.rule) == (allowed, rule)


# --- locations and shared equipment: GC leads and staff with job.edit
PLACES = [
    ("gc_lead", ALLOW), ("gc_editor_without_role", ALLOW), ("gc_member", DENY), ("trade_lead", DENY),
    ("vendor_lead", DENY), ("gc_alerts_only", DENY), ("gc_lead_unallocated", DENY),
]


@pytest.mark.parametrize(("who", "allowed"), [pytest.param(w, a, id=f"{w}-{_v(a)}") for w, a in PLACES])
def test_gc_leads_and_job_edit_manage_locations_and_equipment(who, allowed):
    caller, role = PEOPLE[who]
    assert policy.decide_on_places(caller, _facts(caller, role)).allowed is allowed


# --- vendors named on a booking: whoever may request adds a vendor never on the job to the directory
VENDOR_ENTRIES = [
    ("gc_lead", ALLOW), ("gc_member", ALLOW), ("trade_lead", ALLOW), ("trade_member", ALLOW),
    ("gc_editor_without_role", DENY), ("gc_alerts_only", DENY), ("trade_not_on_jobsite", DENY),
    ("vendor_lead", DENY), ("customer_lead", DENY),
]


@pytest.mark.parametrize(("who", "allowed"), [pytest.param(w, a, id=f"{w}-{_v(a)}") for w, a in VENDOR_ENTRIES])
def test_delivery_requesters_add_the_vendors_they_name(who, allowed):
    caller, role = PEOPLE[who]
    assert policy.decide_vendor_entry(caller, _facts(caller, role), "never").allowed is allowed


# A removal stands and an expired entry is not renewed: only a vendor never on the job joins it.
VENDOR_HISTORIES = [("never", ALLOW), ("live", DENY), ("expired", DENY), ("removed", DENY)]


@pytest.mark.parametrize("who", ["gc_lead", "trade_member"])
@pytest.mark.parametrize(("history", "allowed"), [pytest.param(h, a, id=f"{h}-{_v(a)}") for h, a in VENDOR_HISTORIES])
def test_only_a_vendor_never_on_the_job_is_put_on_it_by_a_booking(who, history, allowed):
    caller, role = PEOPLE[who]
    assert policy.decide_vendor_entry(caller, _facts(caller, role), history).allowed is allowed


def test_a_vendor_history_that_is_none_of_the_four_is_refused():
    caller, role = PEOPLE["gc_lead"]
    decision = policy.decide_vendor_entry(caller, _facts(caller, role), "unheard-of")
    assert (decision.allowed, decision.rule) == (DENY, "vendor-entry-unheard-of")


@pytest.mark.parametrize(("entry", "removed", "history"), [
    (None, False, "never"), (None, True, "removed"), ("live", False, "live"), ("live", True, "live"),
    ("expired", False, "expired"), ("expired", True, "expired")])
def test_vendor_history_reads_the_entry_and_the_removal_marker(entry, removed, history):
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    expires = {"live": (now + timedelta(days=1)).isoformat(), "expired": (now - timedelta(seconds=1)).isoformat()}
    grant = None if entry is None else JobGrant(
        tenant_id="acme", job_id="job-1", job_number="1", account_id="acc-v", account_kind="vendor",
        granted_by="u", granted_at=now.isoformat(), expires_at=expires[entry])
    assert policy.vendor_history(grant, removed, now) == history


# --- job requests: who sees which, who moves them
REQUEST_LISTS = [  # caller, allowed, scope
    (_caller("owner", OWNER, "view_user"), ALLOW, Scope.ALL),
    (_caller("owner", OWNER, "basic_user", job_ids=[JOB]), ALLOW, Scope.ALL),
    (_caller("owner", OWNER, "basic_user", job_ids=["job-2"]), DENY, None),
    (_caller("customer", "acc-c", "administrator"), ALLOW, Scope.ACCOUNT),
    (_caller("customer", "acc-c", "manager", [JOB]), ALLOW, Scope.ACCOUNT),
    (_caller("customer", "acc-c", "manager", ["job-2"]), DENY, None),
    (_caller("customer", "acc-c", "basic", [JOB]), ALLOW, Scope.SELF),
    (_caller("customer", "acc-c", "basic", ["job-2"]), DENY, None),
]


@pytest.mark.parametrize(("caller", "allowed", "scope"), [
    pytest.param(c, a, s, id=f"{c.account.kind}-{c.user.level}-{i}-{_v(a)}") for i, (c, a, s) in enumerate(REQUEST_LISTS)])
def test_request_lists_reach_by_level(caller, allowed, scope):
    decision = policy.decide_request_list(caller, _facts(caller, None))
    assert (decision.allowed, decision.scope if allowed else None) == (allowed, scope)


REQUEST_MOVES = [
    (_caller("owner", OWNER, "operations_user"), ALLOW),
    (_caller("owner", OWNER, "tmp_designer", job_ids=[JOB]), ALLOW),
    (_caller("owner", OWNER, "tmp_designer", job_ids=["job-2"]), DENY),
    (_caller("owner", OWNER, "basic_user_plus"), DENY),
    (_caller("customer", "acc-c", "administrator"), DENY),
]


@pytest.mark.parametrize(("caller", "allowed"), [
    pytest.param(c, a, id=f"{c.user.level}-{i}-{_v(a)}") for i, (c, a) in enumerate(REQUEST_MOVES)])
def test_staff_with_job_edit_move_requests(caller, allowed):
    assert policy.decide_on_request(caller, _facts(caller, None)).allowed is allowed


def test_the_approvals_table_reads_like_the_domain_table():
    # Then: every row of docs/DOMAIN.md's table, and nothing else
    assert policy.APPROVALS == {
        ("gc_lead", "gc"): {"gc": "given"}, ("gc_member", "gc"): {"gc": "pending"},
        ("gc_lead", "trade"): {"gc": "given", "trade": "pending"},
        ("gc_member", "trade"): {"gc": "pending", "trade": "pending"},
        ("trade_lead", "own_trade"): {"gc": "pending", "trade": "given"},
        ("trade_member", "own_trade"): {"gc": "pending", "trade": "pending"}}
