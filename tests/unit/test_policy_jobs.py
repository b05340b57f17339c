"""Job-side access decisions as ALLOW / DENY tables (cedar style): staff on tickets, prices,
the access list (decide_on_grant), project roles (decide_role_setter, decide_on_role), the
directory's reach and contact privacy, and guests whose entry never outlives their sponsor's.
Expected values are transcribed from the product rules, not read from the policy's tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sitegate import policy
from sitegate.models.stored import Account, JobGrant, User
from sitegate.policy import Caller, JobFacts

ALLOW, DENY = True, False
TENANT, OWNER = "acme", "owner-1"
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
PAST, FUTURE = (NOW - timedelta(minutes=1)).isoformat(), (NOW + timedelta(days=1)).isoformat()
STAMP = "2026-01-01T00:00:00+00:00"
JOB, OTHER = "job-1", "job-2"
SPONSOR = "acc-sponsor"


def _account(kind: str, account_id: str, *, status: str = "active", sponsor: str | None = None) -> Account:
    return Account(tenant_id=TENANT, account_id=account_id, kind=kind, name=account_id, status=status,
                   sponsor_account_id=sponsor, created_at=STAMP)


def _user(level: str, account_id: str, job_ids: list[str] | None = None, user_id: str | None = None) -> User:
    return User(tenant_id=TENANT, user_id=user_id or f"u-{account_id}-{level}", account_id=account_id,
                email=f"{level}@example.com", name=level, level=level, job_ids=job_ids or [], created_at=STAMP,
                updated_at=STAMP)


def staff(level: str, job_ids: list[str] | None = None) -> Caller:
    return Caller(_user(level, OWNER, job_ids), _account("owner", OWNER))


def member(kind: str, level: str = "administrator", job_ids: list[str] | None = None, *,
           account_id: str | None = None, sponsor: str | None = None) -> Caller:
    account_id = account_id or f"acc-{kind}"
    return Caller(_user(level, account_id, job_ids), _account(kind, account_id, sponsor=sponsor))


def entry(account_id: str, kind: str, *, expires_at: str | None = None, sponsor: str | None = None,
          access_type: str | None = None) -> JobGrant:
    return JobGrant(tenant_id=TENANT, job_id=JOB, job_number="249519", account_id=account_id, account_kind=kind,
                    access_type=access_type, granted_by="u-admin", granted_at=STAMP, expires_at=expires_at,
                    sponsor_account_id=sponsor)


def on_job(caller: Caller, *, role: str | None = None, access_type: str | None = None) -> JobFacts:
    """The facts of JOB for `caller`: its account's live entry (none for staff) and its role."""
    account = caller.account
    grant = None if account.kind == "owner" else entry(account.account_id, account.kind, access_type=access_type)
    return JobFacts(JOB, grant, project_role=role)


def _v(allowed: bool) -> str:
    return "ALLOW" if allowed else "DENY"


# --- staff who can view a job see its tickets and ETAs; unloading and ticket writes need job.edit
STAFF_TICKETS = {  # level: (tickets.view, tickets.etas, tickets.unload, tickets.edit) on the allocated job
    "view_user": (ALLOW, ALLOW, DENY, DENY),
    "basic_user": (ALLOW, ALLOW, DENY, DENY),
    "basic_user_plus": (ALLOW, ALLOW, DENY, DENY),
    "tmp_designer": (ALLOW, ALLOW, ALLOW, ALLOW),
    "tmp_designer_plus": (ALLOW, ALLOW, ALLOW, ALLOW),
    "operations_user": (ALLOW, ALLOW, ALLOW, ALLOW),
    "invoicing": (ALLOW, ALLOW, ALLOW, ALLOW),
    "super_admin": (ALLOW, ALLOW, ALLOW, ALLOW),
}
TICKET_ACTIONS = ("tickets.view", "tickets.etas", "tickets.unload", "tickets.edit")


@pytest.mark.parametrize(("level", "action", "allowed"), [
    pytest.param(level, action, allowed, id=f"{level}-{action}-{_v(allowed)}")
    for level, row in STAFF_TICKETS.items() for action, allowed in zip(TICKET_ACTIONS, row, strict=True)])
def test_staff_ticket_features_follow_job_view_and_job_edit(level, action, allowed):
    # Given a staff user allocated to the job
    caller = staff(level, [JOB])
    # When
    decision = policy.decide(caller, action, job=JobFacts(JOB), now=NOW)
    # Then
    assert decision.allowed is allowed, decision.reason


@pytest.mark.parametrize("level", ["basic_user", "tmp_designer"])
@pytest.mark.parametrize("action", TICKET_ACTIONS)
def test_allocated_staff_get_no_ticket_features_on_other_jobs(level, action):
    assert not policy.decide(staff(level, [OTHER]), action, job=JobFacts(JOB), now=NOW)


# --- prices
@pytest.mark.parametrize(("caller", "allowed", "rule"), [
    pytest.param(staff("invoicing"), ALLOW, "prices-financial-view", id="invoicing-ALLOW"),
    pytest.param(staff("super_admin"), ALLOW, "prices-financial-view", id="super_admin-ALLOW"),
    pytest.param(staff("operations_user"), DENY, "prices-need-financial-view", id="operations_user-DENY"),
    pytest.param(staff("tmp_designer"), DENY, "prices-need-financial-view", id="tmp_designer-DENY"),
    pytest.param(staff("view_user"), DENY, "prices-need-financial-view", id="view_user-DENY"),
    pytest.param(member("customer"), DENY, "prices-need-financial-view", id="customer_administrator-DENY"),
])
def test_prices_only_with_financial_view(caller, allowed, rule):
    decision = policy.decide_on_prices(caller)
    assert (decision.allowed, decision.rule) == (allowed, rule)


# --- the access list
def _guest(sponsor: str | None = SPONSOR, account_id: str = "acc-guest") -> Account:
    return _account("guest_contractor", account_id, sponsor=sponsor)


GRANT_CASES = [  # caller, target account, allowed, rule
    ("super_admin", _account("vendor", "acc-v"), ALLOW, None),
    ("operations_user", _account("vendor", "acc-v"), ALLOW, None),
    ("tmp_designer_on_job", _account("vendor", "acc-v"), ALLOW, None),
    ("tmp_designer_elsewhere", _account("vendor", "acc-v"), DENY, "staff-allocation"),
    ("view_user", _account("vendor", "acc-v"), DENY, None),
    ("sponsor_administrator", _guest(), ALLOW, None),
    ("sponsor_administrator", _guest(sponsor="acc-else"), DENY, "grant-own-guests-only"),
    ("sponsor_administrator", _account("vendor", "acc-v"), DENY, "grant-own-guests-only"),
    ("sponsor_manager", _guest(), DENY, None),
    ("guest_administrator", _guest(sponsor="acc-guest", account_id="acc-guest2"), DENY, "guests-grant-nothing"),
    ("guest_administrator", _account("vendor", "acc-v"), DENY, "guests-grant-nothing"),
]
GRANTERS = {
    "super_admin": lambda: staff("super_admin"),
    "operations_user": lambda: staff("operations_user"),
    "tmp_designer_on_job": lambda: staff("tmp_designer", [JOB]),
    "tmp_designer_elsewhere": lambda: staff("tmp_designer", [OTHER]),
    "view_user": lambda: staff("view_user"),
    "sponsor_administrator": lambda: member("customer", account_id=SPONSOR),
    "sponsor_manager": lambda: member("customer", "manager", [JOB], account_id=SPONSOR),
    "guest_administrator": lambda: member("guest_contractor", account_id="acc-guest", sponsor=SPONSOR),
}


@pytest.mark.parametrize(("who", "target", "allowed", "rule"), [
    pytest.param(who, target, allowed, rule, id=f"{who}-{target.kind}-{_v(allowed)}-{i}")
    for i, (who, target, allowed, rule) in enumerate(GRANT_CASES)])
def test_decide_on_grant(who, target, allowed, rule):
    # Given the caller on the job (a guest's entry with its sponsor's live entry)
    caller = GRANTERS[who]()
    facts = on_job(caller)
    if caller.account.kind == "guest_contractor":
        facts = JobFacts(JOB, entry("acc-guest", "guest_contractor", sponsor=SPONSOR),
                         sponsor=_account("customer", SPONSOR), sponsor_grant=entry(SPONSOR, "customer"))
    # When
    decision = policy.decide_on_grant(caller, facts, target)
    # Then
    assert decision.allowed is allowed, decision.reason
    if rule:
        assert decision.rule == rule


# --- guests reach a job only while their sponsor does
GUEST_REACH = [  # name, sponsor account status, sponsor's entry, allowed, rule
    ("sponsor_live", "active", "live", ALLOW, None),
    ("sponsor_entry_unexpired", "active", "future", ALLOW, None),
    ("sponsor_removed", "active", None, DENY, "guest-sponsor-off-job"),
    ("sponsor_expired", "active", "expired", DENY, "guest-sponsor-off-job"),
    ("sponsor_archived", "archived", "live", DENY, "guest-sponsor-inactive"),
    ("sponsor_unknown", None, "live", DENY, "guest-sponsor-inactive"),
]


@pytest.mark.parametrize(("sponsor_status", "sponsor_entry", "allowed", "rule"), [
    pytest.param(*row[1:], id=f"{row[0]}-{_v(row[3])}") for row in GUEST_REACH])
def test_a_guests_entry_never_outlives_its_sponsors(sponsor_status, sponsor_entry, allowed, rule):
    # Given a guest administrator with a live entry of its own
    guest = member("guest_contractor", account_id="acc-guest", sponsor=SPONSOR)
    sponsor = None if sponsor_status is None else _account("customer", SPONSOR, status=sponsor_status)
    expires = {"live": None, "future": FUTURE, "expired": PAST}
    sponsor_grant = None if sponsor_entry is None else entry(SPONSOR, "customer", expires_at=expires[sponsor_entry])
    facts = JobFacts(JOB, entry("acc-guest", "guest_contractor", sponsor=SPONSOR), sponsor=sponsor,
                     sponsor_grant=sponsor_grant)
    # When
    decision = policy.decide(guest, "job.view", job=facts, now=NOW)
    # Then
    assert decision.allowed is allowed, decision.reason
    if rule:
        assert decision.rule == rule


@pytest.mark.parametrize(("on_entry", "on_account"), [
    pytest.param(SPONSOR, None, id="sponsor-on-the-entry-only"),
    pytest.param(None, SPONSOR, id="sponsor-on-the-account-only"),
    pytest.param(SPONSOR, SPONSOR, id="sponsor-on-both"),
])
def test_a_guests_sponsor_is_read_from_its_entry_or_else_its_account(on_entry, on_account):
    # Given: a guest whose sponsor has left the job; the sponsor named on the entry, the account, or both
    guest = member("guest_contractor", account_id="acc-guest", sponsor=on_account)
    facts = JobFacts(JOB, entry("acc-guest", "guest_contractor", sponsor=on_entry), sponsor=_account("customer", SPONSOR))
    # When
    decision = policy.decide(guest, "job.reach", job=facts, now=NOW)
    # Then: whichever names it, the sponsor is checked
    assert (decision.allowed, decision.rule) == (DENY, "guest-sponsor-off-job")


def test_a_guests_sponsor_is_read_from_its_entry_first():
    # Given: the entry names a sponsor with a live entry, the account an unknown one
    guest = member("guest_contractor", account_id="acc-guest", sponsor="acc-unknown")
    facts = JobFacts(JOB, entry("acc-guest", "guest_contractor", sponsor=SPONSOR), sponsor=_account("customer", SPONSOR),
                     sponsor_grant=entry(SPONSOR, "customer"))
    # Then
    decision = policy.decide(guest, "job.reach", job=facts, now=NOW)
    assert (decision.allowed, decision.rule) == (ALLOW, "grant"), decision.reason


def test_a_guest_sponsored_by_the_owner_account_needs_no_sponsor_entry():
    guest = member("guest_contractor", account_id="acc-guest", sponsor=OWNER)
    facts = JobFacts(JOB, entry("acc-guest", "guest_contractor", sponsor=OWNER), sponsor=_account("owner", OWNER))
    assert policy.decide(guest, "job.view", job=facts, now=NOW)


# --- project roles
ROLE_CASES = [  # caller, caller's role on the job, target, allowed, rule
    ("super_admin", None, "trade_worker", ALLOW, "role-setter-job-edit"),
    ("basic_user_plus", "lead", "trade_worker", ALLOW, "gc-lead"),
    ("basic_user_plus", "member", "trade_worker", DENY, "role-setters-lead-or-editor"),
    ("basic_user_plus", None, "trade_worker", DENY, "role-setters-lead-or-editor"),
    ("trade_admin", "lead", "trade_worker", ALLOW, "trade-lead"),
    ("trade_admin", "lead", "other_trade_worker", DENY, "role-setters-own-company"),
    ("trade_admin", "member", "trade_worker", DENY, "role-setters-lead-or-editor"),
    ("trade_admin", "alerts_only", "trade_worker", DENY, "role-setters-lead-or-editor"),
    ("vendor_admin", "lead", "trade_worker", DENY, "role-setters-own-company"),
]
ROLE_CALLERS = {"super_admin": lambda: staff("super_admin"), "basic_user_plus": lambda: staff("basic_user_plus"),
                "trade_admin": lambda: member("trade_contractor"), "vendor_admin": lambda: member("vendor")}
TARGETS = {"trade_worker": _user("basic", "acc-trade_contractor", [JOB]),
           "other_trade_worker": _user("basic", "acc-other-trade", [JOB])}


@pytest.mark.parametrize(("who", "role", "target", "allowed", "rule"), [
    pytest.param(*case, id=f"{case[0]}-{case[1] or 'no_role'}-sets-{case[2]}-{_v(case[3])}") for case in ROLE_CASES])
def test_decide_on_role(who, role, target, allowed, rule):
    caller = ROLE_CALLERS[who]()
    decision = policy.decide_on_role(caller, on_job(caller, role=role), TARGETS[target])
    assert (decision.allowed, decision.rule) == (allowed, rule), decision.reason


# A lead sets roles only while it sees the job's project pages: a lead whose company is off the job,
# or a GC lead no longer allocated to it, sets none (its role alone says nothing).
LEADS_OFF_THE_JOB = [  # name, the caller, its facts on the job (role lead)
    ("trade_lead_entry_removed", member("trade_contractor"), JobFacts(JOB, None, project_role="lead")),
    ("trade_lead_entry_expired", member("trade_contractor"),
     JobFacts(JOB, entry("acc-trade_contractor", "trade_contractor", expires_at=PAST), project_role="lead")),
    ("trade_lead_manager_unassigned", member("trade_contractor", "manager", [OTHER]), None),
    ("gc_lead_no_longer_allocated", staff("basic_user", [OTHER]), None),
]


@pytest.mark.parametrize(("caller", "facts"), [
    pytest.param(caller, facts, id=f"{name}-DENY") for name, caller, facts in LEADS_OFF_THE_JOB])
def test_a_lead_who_no_longer_reaches_the_job_sets_no_roles(caller, facts):
    # Given
    facts = facts or on_job(caller, role="lead")
    # When
    setter = policy.decide_role_setter(caller, facts)
    on_role = policy.decide_on_role(caller, facts, TARGETS["trade_worker"])
    # Then
    assert (setter.allowed, setter.rule) == (DENY, "role-setters-lead-or-editor"), setter.reason
    assert not on_role
    assert not policy.decide_on_grant(caller, facts, _account("vendor", "acc-v"))
    assert not policy.decide_access_list(caller, facts)


# --- which access-list entries a reader sees (decide_access_list, then entries_in_sight)
def test_the_whole_access_list_for_job_editors_and_gc_leads_own_and_sponsored_entries_for_administrators():
    # Given: the job's entries: the customer's, its guest's, another customer's and that one's guest
    grants = [entry(SPONSOR, "customer"), entry("acc-guest", "guest_contractor", sponsor=SPONSOR),
              entry("acc-other", "customer"), entry("acc-other-guest", "guest_contractor", sponsor="acc-other")]
    administrator = member("customer", account_id=SPONSOR)
    facts = JobFacts(JOB, grants[0])
    # When
    everything = policy.entries_in_sight(staff("super_admin"), policy.decide_access_list(staff("super_admin"), facts), grants)
    own = policy.entries_in_sight(administrator, policy.decide_access_list(administrator, facts), grants)
    # Then
    assert everything == grants
    assert [g.account_id for g in own] == [SPONSOR, "acc-guest"]


# --- an entry's end: at its expires_at instant it grants nothing; a second before, it still does
@pytest.mark.parametrize(("expires_at", "allowed", "rule"), [
    pytest.param(NOW.isoformat(), DENY, "grant-expired", id="expires-now-DENY"),
    pytest.param((NOW + timedelta(seconds=1)).isoformat(), ALLOW, "grant", id="expires-in-a-second-ALLOW"),
])
def test_an_entry_ends_at_its_expiry_instant(expires_at, allowed, rule):
    caller = member("trade_contractor")
    facts = JobFacts(JOB, entry(caller.account.account_id, "trade_contractor", expires_at=expires_at))
    decision = policy.decide(caller, "job.reach", job=facts, now=NOW)
    assert (decision.allowed, decision.rule) == (allowed, rule), decision.reason
    assert policy.vendor_history(facts.grant, False, NOW) == ("live" if allowed else "expired")


@pytest.mark.parametrize("sponsor_expires", [NOW.isoformat(), PAST])
def test_a_guests_sponsor_entry_ends_at_its_expiry_instant(sponsor_expires):
    guest = member("guest_contractor", account_id="acc-guest", sponsor=SPONSOR)
    facts = JobFacts(JOB, entry("acc-guest", "guest_contractor", sponsor=SPONSOR), sponsor=_account("customer", SPONSOR),
                     sponsor_grant=entry(SPONSOR, "customer", expires_at=sponsor_expires))
    assert policy.decide(guest, "job.reach", job=facts, now=NOW).rule == "guest-sponsor-off-job"


# --- e-tickets are the portal world's: an access type on a trade's or vendor's entry gives it nothing
@pytest.mark.parametrize("kind", ["trade_contractor", "vendor", "guest_contractor"])
@pytest.mark.parametrize("action", ["tickets.view", "tickets.etas", "tickets.unload"])
def test_an_access_type_on_an_entry_that_takes_none_gives_no_tickets(kind, action):
    caller = member(kind)
    facts = on_job(caller, role="lead", access_type="ticket_taker")
    decision = policy.decide(caller, action, job=facts, now=NOW)
    assert (decision.allowed, decision.rule) == (DENY, "access-type-none"), decision.reason


# --- the directory: who is listed, who sees contacts
DIRECTORY_CASES = [  # person, its facts on the job, listed?
    ("view_user", lambda c: JobFacts(JOB), ALLOW),
    ("basic_user_allocated_here", lambda c: JobFacts(JOB), ALLOW),
    ("basic_user_allocated_elsewhere", lambda c: JobFacts(JOB), DENY),
    ("trade_administrator", lambda c: on_job(c), ALLOW),
    ("trade_manager_assigned_here", lambda c: on_job(c), ALLOW),
    ("trade_basic_assigned_elsewhere", lambda c: on_job(c), DENY),
    ("trade_administrator_entry_expired",
     lambda c: JobFacts(JOB, entry(c.account.account_id, "trade_contractor", expires_at=PAST)), DENY),
    ("trade_administrator_no_entry", lambda c: JobFacts(JOB), DENY),
    ("guest_sponsor_live", lambda c: JobFacts(JOB, entry("acc-guest", "guest_contractor", sponsor=SPONSOR),
                                              sponsor=_account("customer", SPONSOR),
                                              sponsor_grant=entry(SPONSOR, "customer")), ALLOW),
    ("guest_sponsor_gone", lambda c: JobFacts(JOB, entry("acc-guest", "guest_contractor", sponsor=SPONSOR),
                                              sponsor=_account("customer", SPONSOR)), DENY),
]
PEOPLE = {
    "view_user": lambda: staff("view_user"),
    "basic_user_allocated_here": lambda: staff("basic_user", [JOB]),
    "basic_user_allocated_elsewhere": lambda: staff("basic_user", [OTHER]),
    "trade_administrator": lambda: member("trade_contractor"),
    "trade_manager_assigned_here": lambda: member("trade_contractor", "manager", [JOB]),
    "trade_basic_assigned_elsewhere": lambda: member("trade_contractor", "basic", [OTHER]),
    "trade_administrator_entry_expired": lambda: member("trade_contractor"),
    "trade_administrator_no_entry": lambda: member("trade_contractor"),
    "guest_sponsor_live": lambda: member("guest_contractor", account_id="acc-guest", sponsor=SPONSOR),
    "guest_sponsor_gone": lambda: member("guest_contractor", account_id="acc-guest", sponsor=SPONSOR),
}


@pytest.mark.parametrize(("who", "facts", "allowed"), [
    pytest.param(who, facts, allowed, id=f"{who}-{_v(allowed)}") for who, facts, allowed in DIRECTORY_CASES])
def test_directory_lists_only_people_who_reach_the_job(who, facts, allowed):
    person = PEOPLE[who]()
    decision = policy.decide_directory_member(person, facts(person))
    assert decision.allowed is allowed, decision.reason
    if allowed:
        assert decision.rule == "directory-reach"


CONTACT_CASES = [  # caller, its role on the job, sees email and phone?, rule
    ("super_admin", None, ALLOW, "contacts-job-edit"),
    ("operations_user", None, ALLOW, "contacts-job-edit"),
    ("tmp_designer_allocated", None, ALLOW, "contacts-job-edit"),
    ("tmp_designer_elsewhere_lead", "lead", ALLOW, "contacts-gc-lead"),
    ("basic_user_plus", "lead", ALLOW, "contacts-gc-lead"),
    ("basic_user_plus", "member", DENY, "contacts-hidden"),
    ("view_user", None, DENY, "contacts-hidden"),
    ("trade_admin", "lead", DENY, "contacts-hidden"),
    ("customer_admin", None, DENY, "contacts-hidden"),
]
CONTACT_CALLERS = {
    "super_admin": lambda: staff("super_admin"), "operations_user": lambda: staff("operations_user"),
    "tmp_designer_allocated": lambda: staff("tmp_designer", [JOB]),
    "tmp_designer_elsewhere_lead": lambda: staff("tmp_designer", [OTHER]),
    "basic_user_plus": lambda: staff("basic_user_plus"), "view_user": lambda: staff("view_user"),
    "trade_admin": lambda: member("trade_contractor"), "customer_admin": lambda: member("customer"),
}


@pytest.mark.parametrize(("who", "role", "allowed", "rule"), [
    pytest.param(*case, id=f"{case[0]}-{case[1] or 'no_role'}-{_v(case[2])}") for case in CONTACT_CASES])
def test_contact_details_only_for_gc_leads_and_job_editors(who, role, allowed, rule):
    caller = CONTACT_CALLERS[who]()
    decision = policy.decide_contacts(caller, on_job(caller, role=role))
    assert (decision.allowed, decision.rule) == (allowed, rule), decision.reason


# --- rule names are unique: one name, one place
def test_job_side_rule_names_are_each_written_once():
    import inspect
    import re

    source = inspect.getsource(policy)
    names = re.findall(r'_(?:allow|deny)\("([a-z0-9-]+)"', source)
    job_side = {"no-grant", "grant-expired", "job-not-assigned", "grant", "access-type-none", "access-type-allows",
                "access-type-lacks", "role-allows", "role-lacks", "guests-grant-nothing", "grant-own-guests-only",
                "role-setter-job-edit", "role-setter-lead", "role-setters-lead-or-editor", "gc-lead", "trade-lead",
                "role-setters-own-company", "prices-financial-view", "prices-need-financial-view",
                "directory-reach", "contacts-job-edit", "contacts-gc-lead", "contacts-hidden",
                "guest-unsponsored", "guest-sponsor-inactive", "guest-sponsor-owner", "guest-sponsor-off-job",
                "guest-sponsor-on-job"}
    assert {name: names.count(name) for name in job_side} == dict.fromkeys(job_side, 1)


# ---------------------------------------------------------------- staff on project pages
# Staff see a job's project pages with job.edit on it, or as its lead or member; alerts_only and
# not_on_jobsite (no role) staff see the public portal only, as anyone else with those roles.
STAFF_PROJECT_PAGES = [
    # level,            allocated, role,            decision
    ("super_admin",       False, None,             ALLOW),
    ("operations_user",   False, "alerts_only",    ALLOW),   # job.edit runs the job, whatever its role
    ("invoicing",         False, None,             ALLOW),
    ("tmp_designer",      True,  None,             ALLOW),   # job.edit on its allocated job
    ("tmp_designer",      False, "lead",           DENY),    # cannot even view an unallocated job
    ("basic_user_plus",   False, None,             DENY),    # not_on_jobsite
    ("basic_user_plus",   False, "alerts_only",    DENY),
    ("basic_user_plus",   False, "member",         ALLOW),
    ("view_user",         False, "lead",           ALLOW),
    ("view_user",         False, None,             DENY),
    ("basic_user",        False, "member",         DENY),    # views allocated jobs only
    ("basic_user",        True,  "member",         ALLOW),
]


@pytest.mark.parametrize(("level", "allocated", "role", "expected"), STAFF_PROJECT_PAGES,
                         ids=[f"{_v(e)}-{lvl}-{role}-{'alloc' if a else 'not'}" for lvl, a, role, e in STAFF_PROJECT_PAGES])
def test_staff_see_project_pages_with_job_edit_or_as_lead_or_member(level, allocated, role, expected):
    # Given
    caller = staff(level, [JOB] if allocated else [])
    # When
    decision = policy.decide(caller, "project.view", job=on_job(caller, role=role), now=NOW)
    # Then
    assert decision.allowed is expected, decision
