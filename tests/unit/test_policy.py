"""The authorization policy against docs/DOMAIN.md, as ALLOW / DENY tables.

Every expected value here is transcribed from docs/DOMAIN.md ("Users and levels",
"Jobs and job access", "Project directory"), never read from `sitegate.policy`'s
own tables, so a code table that drifts from the spec fails a test.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sitegate import policy
from sitegate.models.stored import Account, JobGrant, User
from sitegate.policy import (
    BILLING_TIER,
    STAFF_CAPABILITIES,
    STAFF_LEVELS,
    Caller,
    JobFacts,
    Scope,
    decide,
    project_role_allows,
    within,
)

ALLOW, DENY = True, False
TENANT = "acme"
OWNER_ACCOUNT = "owner-1"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
STAMP = "2025-01-01T00:00:00+00:00"
MY_JOB = "job-allocated"  # the job a caller is allocated / assigned to
OTHER_JOB = "job-other"  # a job of the tenant the caller is not allocated to
NORMAL_SETTING = "job_booking_fields"
SENSITIVE_SETTINGS = ["system_settings", "vehicle_check_items", "hazard_register_items", "daily_check_list_items",
                      "audit_retention_days"]
NORMAL_SETTINGS = ["job_booking_fields", "tmp_templates", "tmp_library", "special_event_dates"]


# --- factories -------------------------------------------------------------

def _user(level: str, account_id: str, *, job_ids: list[str] | None = None, status: str = "active",
          can_create_guests: bool = False) -> User:
    return User(tenant_id=TENANT, user_id=f"u-{level}", account_id=account_id, email=f"{level}@example.com",
                name=level.replace("_", " ").title(), level=level, status=status, job_ids=job_ids or [],
                can_create_guests=can_create_guests, created_at=STAMP, updated_at=STAMP)


def _account(kind: str, account_id: str, *, status: str = "active") -> Account:
    return Account(tenant_id=TENANT, account_id=account_id, kind=kind, name=f"{kind} co", status=status,
                   created_at=STAMP)


def staff(level: str, *, job_ids: list[str] | None = None, status: str = "active",
          account_status: str = "active") -> Caller:
    """A user of the tenant's owner account at a staff level, allocated to `job_ids`."""
    return Caller(_user(level, OWNER_ACCOUNT, job_ids=job_ids, status=status),
                  _account("owner", OWNER_ACCOUNT, status=account_status))


def account_user(kind: str, level: str, *, job_ids: list[str] | None = None, status: str = "active",
                 account_status: str = "active", can_create_guests: bool = False) -> Caller:
    """A user of a connected account of `kind` at an account level, assigned to `job_ids`."""
    account_id = f"acc-{kind}"
    return Caller(_user(level, account_id, job_ids=job_ids, status=status, can_create_guests=can_create_guests),
                  _account(kind, account_id, status=account_status))


def platform_operator() -> Caller:
    return Caller(_user("platform_operator", "operators"), _account("platform", "operators"))


def grant(caller: Caller, *, job_id: str = MY_JOB, access_type: str | None = None, expires_at: str | None = None,
          account_id: str | None = None) -> JobGrant:
    """The caller's account's entry on the job's access list (or another account's, with `account_id`)."""
    return JobGrant(tenant_id=TENANT, job_id=job_id, job_number="249519", account_id=account_id or caller.account.account_id,
                    account_kind=caller.account.kind, access_type=access_type, granted_by="u-super_admin",
                    granted_at=STAMP, expires_at=expires_at)


def _id(*parts: object) -> str:
    return "-".join(str(p) for p in parts if p not in (None, ""))


def _verdict(allowed: bool) -> str:
    return "ALLOW" if allowed else "DENY"


# --- the staff level table, transcribed from docs/DOMAIN.md "Users and levels" ---
# "" is no; "yes" / "all" is every job; "allocated" is allocated jobs only; "normal" is non-sensitive settings.

SPEC_LEVELS = ["view_user", "basic_user", "basic_user_plus", "tmp_designer", "tmp_designer_plus", "operations_user",
               "invoicing", "super_admin"]

SPEC_STAFF_TABLE: dict[str, list[str]] = {
    #                      view_user  basic_user   basic_plus  tmp_designer tmp_plus  operations invoicing super_admin
    "time.record":         ["",       "yes",       "yes",      "yes",       "yes",    "yes",     "yes",    "yes"],
    "equipment.record":    ["",       "yes",       "yes",      "yes",       "yes",    "yes",     "yes",    "yes"],
    "job.view":            ["all",    "allocated", "all",      "allocated", "all",    "all",     "all",    "all"],
    "job.add":             ["",       "",          "",         "yes",       "yes",    "yes",     "",       "yes"],
    "job.edit":            ["",       "",          "",         "allocated", "all",    "all",     "all",    "all"],
    "job.archive":         ["",       "",          "",         "",          "",       "",        "",       "yes"],
    "job.delete":          ["",       "",          "",         "",          "",       "",        "",       "yes"],
    "dashboard.view":      ["",       "",          "",         "yes",       "yes",    "yes",     "yes",    "yes"],
    "financial.view":      ["",       "",          "",         "",          "",       "",        "yes",    "yes"],
    "settings.view":       ["",       "",          "",         "",          "",       "normal",  "all",    "all"],
    "settings.edit":       ["",       "",          "",         "",          "",       "normal",  "all",    "all"],
    "resources.view":      ["",       "",          "",         "",          "",       "yes",     "yes",    "yes"],
    "resources.edit":      ["",       "",          "",         "",          "",       "yes",     "yes",    "yes"],
    "user.add":            ["",       "",          "",         "",          "",       "yes",     "",       "yes"],
    "user.edit":           ["",       "",          "",         "",          "",       "yes",     "",       "yes"],
    "user.reset_password": ["",       "",          "",         "",          "",       "yes",     "",       "yes"],
    "user.delete":         ["",       "",          "",         "",          "",       "",        "",       "yes"],
    "client.add_edit":     ["",       "",          "",         "",          "",       "yes",     "yes",    "yes"],
    "client.archive":      ["",       "",          "",         "",          "",       "",        "",       "yes"],
    "audit.view":          ["",       "",          "",         "",          "",       "",        "",       "yes"],
}
SPEC_STAFF = {level: {cap: row[i] for cap, row in SPEC_STAFF_TABLE.items()} for i, level in enumerate(SPEC_LEVELS)}

JOB_CAPABILITIES = {"job.view", "job.edit", "job.archive", "job.delete"}  # decided per job
SETTINGS_CAPABILITIES = {"settings.view", "settings.edit"}  # decided per setting key


def _staff_cases() -> list:
    """One or two cases per cell: where the cell reaches it is ALLOW, just past its edge it is DENY."""
    cases = []
    for level, row in SPEC_STAFF.items():
        for capability, cell in row.items():
            if capability in SETTINGS_CAPABILITIES:
                where = {"": [(NORMAL_SETTING, DENY)],
                         "normal": [(NORMAL_SETTING, ALLOW), ("system_settings", DENY)],
                         "all": [(NORMAL_SETTING, ALLOW), ("system_settings", ALLOW)]}[cell]
                cases += [pytest.param(level, capability, None, setting, allowed,
                                       id=_id(level, capability, setting, _verdict(allowed))) for setting, allowed in where]
            elif capability in JOB_CAPABILITIES:
                where = {"": [(MY_JOB, DENY)],  # not even on a job the user is allocated to
                         "allocated": [(MY_JOB, ALLOW), (OTHER_JOB, DENY)],
                         "all": [(MY_JOB, ALLOW), (OTHER_JOB, ALLOW)],
                         "yes": [(MY_JOB, ALLOW), (OTHER_JOB, ALLOW)]}[cell]
                names = {MY_JOB: "allocated_job", OTHER_JOB: "other_job"}
                cases += [pytest.param(level, capability, job_id, None, allowed,
                                       id=_id(level, capability, names[job_id], _verdict(allowed))) for job_id, allowed in where]
            else:
                allowed = {"": DENY, "yes": ALLOW}[cell]
                cases.append(pytest.param(level, capability, None, None, allowed, id=_id(level, capability, _verdict(allowed))))
    return cases


def _domain_staff_table() -> tuple[list[str], dict[str, list[str]]]:
    """docs/DOMAIN.md's "Staff levels" table as written there: its levels, and each capability's cells."""
    text = (Path(__file__).parents[2] / "docs" / "DOMAIN.md").read_text(encoding="utf-8")
    section = text.split("### Staff levels", 1)[1].split("\n### ", 1)[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("| ") and not line.startswith("| ---")]
    header, body = rows[0], rows[1:]
    return header[1:], {re.match(r"`([^`]+)`|\*\*(.+)\*\*", row[0]).group(1) or row[0].strip("*"): row[1:] for row in body}


def test_spec_table_is_the_domain_docs_table():
    # The transcription itself is docs/DOMAIN.md's table, cell for cell (and its billing tier row)
    levels, rows = _domain_staff_table()
    assert levels == SPEC_LEVELS
    tiers = rows.pop("billing tier")
    assert rows == SPEC_STAFF_TABLE
    assert dict(zip(levels, tiers, strict=True)) == SPEC_BILLING_TIER


def test_code_has_exactly_the_spec_staff_levels_and_capabilities():
    assert list(STAFF_LEVELS) == SPEC_LEVELS
    assert sorted(STAFF_CAPABILITIES) == sorted(SPEC_STAFF_TABLE)


@pytest.mark.parametrize(("level", "capability", "job_id", "setting", "allowed"), _staff_cases())
def test_staff_level_table(level, capability, job_id, setting, allowed):
    # Given a staff user allocated to one job
    caller = staff(level, job_ids=[MY_JOB])
    job = JobFacts(job_id) if job_id else None
    # When
    decision = decide(caller, capability, job=job, setting=setting, now=NOW)
    # Then: allowed or not, and how far an allowed cell reaches
    assert decision.allowed is allowed, decision.reason
    assert bool(decision) is allowed
    cell = SPEC_STAFF[level][capability]
    assert decision.scope is ({"yes": Scope.ALL, "all": Scope.ALL, "allocated": Scope.ALLOCATED,
                               "normal": Scope.NORMAL}[cell] if allowed else None)


@pytest.mark.parametrize("setting", NORMAL_SETTINGS)
@pytest.mark.parametrize("action", sorted(SETTINGS_CAPABILITIES))
def test_operations_user_reaches_every_normal_setting(action, setting):
    # When
    decision = decide(staff("operations_user"), action, setting=setting)
    # Then
    assert (decision.allowed, decision.scope) == (ALLOW, Scope.NORMAL), decision.reason


def test_the_settings_are_the_docs_eight_and_only_the_sensitive_four_need_all_settings():
    # docs/DOMAIN.md "Staff levels": these nine keys are the only settings (the settings routes and
    # GET /levels take the two lists from the policy)
    assert (set(policy.SENSITIVE_SETTINGS), set(policy.NORMAL_SETTINGS)) == (set(SENSITIVE_SETTINGS), set(NORMAL_SETTINGS))


@pytest.mark.parametrize("setting", SENSITIVE_SETTINGS)
@pytest.mark.parametrize("action", sorted(SETTINGS_CAPABILITIES))
@pytest.mark.parametrize(("level", "allowed"), [
    pytest.param("operations_user", DENY, id="operations_user-DENY"),
    pytest.param("invoicing", ALLOW, id="invoicing-ALLOW"),
    pytest.param("super_admin", ALLOW, id="super_admin-ALLOW"),
])
def test_sensitive_settings_need_all_settings(level, allowed, action, setting):
    # When
    decision = decide(staff(level), action, setting=setting)
    # Then
    assert decision.allowed is allowed, decision.reason


# --- access types, and decisions that stay as made ---------------------------------

def test_the_access_types_are_the_docs_three():
    # docs/DOMAIN.md "Job access" (the access list's routes validate against this list)
    assert sorted(policy.ACCESS_TYPES) == ["limited", "standard", "ticket_taker"]


def test_decisions_and_the_facts_they_were_made_on_cannot_be_changed():
    # A decision, its caller and its facts are values: frozen, and so hashable
    caller = staff("super_admin")
    facts = JobFacts(MY_JOB)
    decision = decide(caller, "job.view", job=facts, now=NOW)
    delivery = policy.DeliveryFacts(for_account_id="acc-t", booked_for_gc=False, requested_by="u", approvals={})
    for value, field in ((decision, "allowed"), (caller, "user"), (facts, "job_id"), (delivery, "requested_by")):
        with pytest.raises(AttributeError):
            setattr(value, field, None)
    assert len({decision, facts}) == 2


# --- billing tier --------------------------------------------------------------

SPEC_BILLING_TIER = {"view_user": "field", "basic_user": "field", "basic_user_plus": "field", "tmp_designer": "office",
                     "tmp_designer_plus": "office", "operations_user": "office", "invoicing": "office",
                     "super_admin": "office"}


@pytest.mark.parametrize(("level", "tier"), [
    pytest.param(level, tier, id=f"{level}-{tier}") for level, tier in SPEC_BILLING_TIER.items()
])
def test_billing_tier_of_each_staff_level(level, tier):
    assert BILLING_TIER[level] == tier


# --- no escalation ---------------------------------------------------------------

WITHIN_CASES = [
    # granter, granted level, allowed
    *[("super_admin", level, ALLOW) for level in SPEC_LEVELS],
    ("operations_user", "view_user", ALLOW),
    ("operations_user", "basic_user", ALLOW),
    ("operations_user", "basic_user_plus", ALLOW),
    ("operations_user", "tmp_designer", ALLOW),
    ("operations_user", "tmp_designer_plus", ALLOW),
    ("operations_user", "invoicing", DENY),  # lacks financial.view, and settings beyond normal
    ("operations_user", "super_admin", DENY),
    ("invoicing", "operations_user", DENY),  # lacks user.add
    ("invoicing", "tmp_designer", DENY),  # lacks job.add
    ("invoicing", "basic_user_plus", ALLOW),
    ("tmp_designer", "basic_user", ALLOW),  # allocated job.view within allocated job.view
    ("tmp_designer", "basic_user_plus", DENY),  # job.view on all jobs is beyond allocated
    ("tmp_designer", "tmp_designer_plus", DENY),
    ("view_user", "basic_user", DENY),  # lacks time.record
    ("basic_user", "view_user", DENY),  # job.view on all jobs is beyond allocated
    *[(level, level, ALLOW) for level in SPEC_LEVELS],
]


@pytest.mark.parametrize(("granter", "granted", "allowed"), [
    pytest.param(granter, granted, allowed, id=f"{granter}-gives-{granted}-{_verdict(allowed)}")
    for granter, granted, allowed in WITHIN_CASES
])
def test_no_escalation(granter, granted, allowed):
    assert within(granted, granter) is allowed


_RANK = {"": 0, "allocated": 1, "normal": 1, "yes": 2, "all": 2}


def _spec_within(granted: str, granter: str) -> bool:
    """docs/DOMAIN.md: every capability of the level given is within the giver's own; a Super Admin gives any level."""
    if granter == "super_admin":
        return True
    return all(not cell or _RANK[SPEC_STAFF[granter][cap]] >= _RANK[cell] for cap, cell in SPEC_STAFF[granted].items())


@pytest.mark.parametrize(("granter", "granted"), [
    pytest.param(granter, granted, id=f"{granter}-gives-{granted}-{_verdict(_spec_within(granted, granter))}")
    for granter in SPEC_LEVELS for granted in SPEC_LEVELS
])
def test_no_escalation_matches_spec_table_for_every_pair(granter, granted):
    assert within(granted, granter) is _spec_within(granted, granter)


# --- default deny and the guards ---------------------------------------------------

def _callers_with_grant() -> list:
    """(caller factory kwargs -> caller, action, job) covering each family."""
    return [
        pytest.param(lambda **kw: staff("super_admin", **kw), "job.view", None, id="super_admin-job.view"),
        pytest.param(lambda **kw: staff("super_admin", **kw), "user.add", None, id="super_admin-user.add"),
        pytest.param(lambda **kw: staff("operations_user", **kw), "time.record", None, id="operations_user-time.record"),
        pytest.param(lambda **kw: account_user("customer", "administrator", **kw), "tickets.view", MY_JOB,
                     id="customer_administrator-tickets.view"),
        pytest.param(lambda **kw: account_user("inspection_firm", "manager", job_ids=[MY_JOB], **kw), "job.view", MY_JOB,
                     id="inspection_firm_manager-job.view"),
    ]


@pytest.mark.parametrize("status", ["disabled", "deleted"])
@pytest.mark.parametrize(("make", "action", "job_id"), _callers_with_grant())
def test_disabled_and_deleted_users_are_denied_everything(make, action, job_id, status):
    # Given a caller that would be allowed while active
    active = make()
    job = JobFacts(job_id, grant(active, access_type="ticket_taker")) if job_id else None
    assert decide(active, action, job=job, now=NOW)
    # When its user is disabled or deleted
    decision = decide(make(status=status), action, job=job, now=NOW)
    # Then
    assert not decision
    assert decision.rule == "inactive-user"


@pytest.mark.parametrize("status", ["disabled", "deleted"])
def test_inactive_platform_operator_cannot_create_tenants(status):
    caller = platform_operator()
    caller = Caller(caller.user.model_copy(update={"status": status}), caller.account)
    decision = decide(caller, "tenant.create")
    assert (decision.allowed, decision.rule) == (False, "inactive-user")


@pytest.mark.parametrize(("make", "action", "job_id"), _callers_with_grant())
def test_users_of_an_archived_account_are_denied(make, action, job_id):
    # Given
    active = make()
    job = JobFacts(job_id, grant(active, access_type="ticket_taker")) if job_id else None
    assert decide(active, action, job=job, now=NOW)
    # When the account is archived
    decision = decide(make(account_status="archived"), action, job=job, now=NOW)
    # Then
    assert not decision
    assert decision.rule == "archived-account"


@pytest.mark.parametrize(("caller", "action"), [
    pytest.param(staff("super_admin"), "job.frobnicate", id="super_admin-unknown-DENY"),
    pytest.param(staff("super_admin"), "", id="super_admin-empty_action-DENY"),
    pytest.param(staff("operations_user"), "tickets.delete_all", id="operations_user-unknown-DENY"),
    pytest.param(account_user("customer", "administrator"), "job.frobnicate", id="customer_administrator-unknown-DENY"),
    pytest.param(platform_operator(), "job.frobnicate", id="platform_operator-unknown-DENY"),
])
def test_unknown_action_is_denied(caller, action):
    assert not decide(caller, action)


@pytest.mark.parametrize(("caller", "action", "allowed"), [
    pytest.param(platform_operator(), "tenant.create", ALLOW, id="platform_operator-tenant.create-ALLOW"),
    *[pytest.param(platform_operator(), action, DENY, id=f"platform_operator-{action}-DENY")
      for action in ["job.view", "job.add", "user.add", "user.delete", "settings.view", "financial.view",
                     "client.add_edit", "tickets.view", "guest.create"]],
    *[pytest.param(staff(level), "tenant.create", DENY, id=f"{level}-tenant.create-DENY") for level in SPEC_LEVELS],
    *[pytest.param(account_user(kind, level), "tenant.create", DENY, id=f"{kind}_{level}-tenant.create-DENY")
      for kind in ["customer", "guest_contractor"] for level in ["administrator", "manager", "basic"]],
])
def test_only_platform_operators_create_tenants_and_do_nothing_else(caller, action, allowed):
    assert decide(caller, action).allowed is allowed


def test_staff_level_in_a_connected_account_gets_nothing():
    # Given a super_admin level on a customer account (a level that does not belong to the account)
    caller = Caller(_user("super_admin", "acc-customer"), _account("customer", "acc-customer"))
    # Then
    assert not decide(caller, "job.view")
    assert not decide(caller, "user.add")


def test_account_level_in_the_owner_account_gets_nothing():
    caller = Caller(_user("administrator", OWNER_ACCOUNT), _account("owner", OWNER_ACCOUNT))
    assert not decide(caller, "job.view")
    assert not decide(caller, "user.add")


# --- account users reach a job (its directory) only through their account's grant -------
# What reaching gives each kind of company is in test_policy_worlds.py.

ACCOUNT_KINDS = ["customer", "inspection_firm", "project_owner", "trade_contractor", "vendor", "guest_contractor"]
PAST = (NOW - timedelta(minutes=1)).isoformat()
FUTURE = (NOW + timedelta(days=30)).isoformat()


def _reach_cases() -> list:
    cases = []
    for kind in ACCOUNT_KINDS:
        access_type = "standard" if kind in ("inspection_firm", "project_owner") else None
        rows = [
            # level, job_ids, grant?, grant for another account?, expires_at, allowed, rule
            ("administrator", [], "own", None, ALLOW, None, "granted_unassigned"),
            ("administrator", [MY_JOB], "none", None, DENY, "no-grant", "no_grant"),
            ("administrator", [], "other", None, DENY, None, "other_accounts_grant"),
            ("administrator", [], "own", PAST, DENY, "grant-expired", "expired_grant"),
            ("administrator", [], "own", FUTURE, ALLOW, None, "unexpired_grant"),
            ("manager", [MY_JOB], "own", None, ALLOW, None, "assigned"),
            ("manager", [OTHER_JOB], "own", None, DENY, None, "not_assigned"),
            ("manager", [MY_JOB], "none", None, DENY, "no-grant", "assigned_no_grant"),
            ("manager", [MY_JOB], "own", PAST, DENY, "grant-expired", "assigned_expired_grant"),
            ("manager", [MY_JOB], "own", FUTURE, ALLOW, None, "assigned_unexpired_grant"),
            ("basic", [MY_JOB], "own", None, ALLOW, None, "assigned"),
            ("basic", [], "own", None, DENY, None, "not_assigned"),
            ("basic", [MY_JOB], "other", None, DENY, None, "assigned_other_accounts_grant"),
            ("basic", [MY_JOB], "own", PAST, DENY, "grant-expired", "assigned_expired_grant"),
        ]
        cases += [pytest.param(kind, level, job_ids, which, expires_at, access_type, allowed, rule,
                               id=_id(kind, level, name, "job.reach", _verdict(allowed)))
                  for level, job_ids, which, expires_at, allowed, rule, name in rows]
    return cases


@pytest.mark.parametrize(("kind", "level", "job_ids", "which_grant", "expires_at", "access_type", "allowed", "rule"),
                         _reach_cases())
def test_account_user_reaches_a_job_only_through_its_accounts_unexpired_grant(kind, level, job_ids, which_grant, expires_at,
                                                                              access_type, allowed, rule):
    # Given
    caller = account_user(kind, level, job_ids=job_ids)
    entry = {"own": grant(caller, access_type=access_type, expires_at=expires_at),
             "other": grant(caller, access_type=access_type, expires_at=expires_at, account_id="acc-someone-else"),
             "none": None}[which_grant]
    # When
    decision = decide(caller, "job.reach", job=JobFacts(MY_JOB, entry), now=NOW)
    # Then
    assert decision.allowed is allowed, decision.reason
    if rule:
        assert decision.rule == rule


# --- access types: inspection firms and project owners; customers; the rest ---------
# docs/DOMAIN.md "Jobs and job access": unloading / truck ETAs / ticket access.

SPEC_ACCESS_TYPES = {
    #               tickets.unload tickets.etas tickets.view
    "ticket_taker": (ALLOW,        ALLOW,       ALLOW),
    "standard":     (DENY,         ALLOW,       ALLOW),
    "limited":      (DENY,         DENY,        ALLOW),
}
TICKET_ACTIONS = ("tickets.unload", "tickets.etas", "tickets.view")


def _access_cases() -> list:
    cases = []
    for kind in ("inspection_firm", "project_owner"):
        for access_type, row in SPEC_ACCESS_TYPES.items():
            cases += [pytest.param(kind, access_type, action, allowed, id=_id(kind, access_type, action, _verdict(allowed)))
                      for action, allowed in zip(TICKET_ACTIONS, row, strict=True)]
        # "must be given an access type": without one they get none of the features
        cases += [pytest.param(kind, None, action, DENY, id=_id(kind, "no_access_type", action, "DENY"))
                  for action in TICKET_ACTIONS]
    customer = {"tickets.unload": DENY, "tickets.etas": ALLOW, "tickets.view": ALLOW}
    cases += [pytest.param("customer", None, action, allowed, id=_id("customer", action, _verdict(allowed)))
              for action, allowed in customer.items()]
    for kind in ("trade_contractor", "vendor", "guest_contractor"):
        cases += [pytest.param(kind, None, action, DENY, id=_id(kind, action, "DENY")) for action in TICKET_ACTIONS]
    return cases


@pytest.mark.parametrize(("kind", "access_type", "action", "allowed"), _access_cases())
def test_access_type_table(kind, access_type, action, allowed):
    # Given an administrator of an account with a grant on the job
    caller = account_user(kind, "administrator")
    job = JobFacts(MY_JOB, grant(caller, access_type=access_type))
    # When
    decision = decide(caller, action, job=job, now=NOW)
    # Then
    assert decision.allowed is allowed, decision.reason


@pytest.mark.parametrize(("level", "job_ids", "allowed"), [
    pytest.param("manager", [MY_JOB], ALLOW, id="manager-assigned-ALLOW"),
    pytest.param("manager", [OTHER_JOB], DENY, id="manager-not_assigned-DENY"),
    pytest.param("basic", [MY_JOB], ALLOW, id="basic-assigned-ALLOW"),
    pytest.param("basic", [OTHER_JOB], DENY, id="basic-not_assigned-DENY"),
])
def test_ticket_access_is_narrowed_by_account_level(level, job_ids, allowed):
    # Given a ticket-taker inspection firm on the job
    caller = account_user("inspection_firm", level, job_ids=job_ids)
    job = JobFacts(MY_JOB, grant(caller, access_type="ticket_taker"))
    # Then
    assert all(decide(caller, action, job=job, now=NOW).allowed is allowed for action in TICKET_ACTIONS)


@pytest.mark.parametrize("action", TICKET_ACTIONS)
def test_ticket_access_needs_an_unexpired_grant(action):
    caller = account_user("inspection_firm", "administrator")
    decision = decide(caller, action, job=JobFacts(MY_JOB, grant(caller, access_type="ticket_taker", expires_at=PAST)), now=NOW)
    assert (decision.allowed, decision.rule) == (False, "grant-expired")


# --- project roles (the project directory) -------------------------------------------------------

SPEC_ROLES = {
    #                 project.view alerts.receive
    "lead":           (ALLOW,      ALLOW),
    "member":         (ALLOW,      ALLOW),
    "alerts_only":    (DENY,       ALLOW),
    "not_on_jobsite": (DENY,       DENY),
}


@pytest.mark.parametrize(("role", "capability", "allowed"), [
    pytest.param(role, capability, allowed, id=_id(role, capability, _verdict(allowed)))
    for role, row in SPEC_ROLES.items()
    for capability, allowed in zip(("project.view", "alerts.receive"), row, strict=True)
])
def test_project_role_table(role, capability, allowed):
    assert project_role_allows(role, capability).allowed is allowed


@pytest.mark.parametrize(("kind", "role", "allowed"), [
    pytest.param(kind, role, SPEC_ROLES[role or "not_on_jobsite"][0], id=_id(kind, role or "no_role", "project.view",
                                                                         _verdict(SPEC_ROLES[role or "not_on_jobsite"][0])))
    for kind in ("trade_contractor", "vendor") for role in ("lead", "member", "alerts_only", "not_on_jobsite", None)
])
def test_connected_company_users_see_project_pages_only_as_lead_or_member(kind, role, allowed):
    # Given a trade or vendor administrator whose account is on the job
    caller = account_user(kind, "administrator")
    job = JobFacts(MY_JOB, grant(caller), project_role=role)
    # When
    decision = decide(caller, "project.view", job=job, now=NOW)
    # Then
    assert decision.allowed is allowed, decision.reason


def test_decide_without_now_still_refuses_an_expired_grant():
    # Given: a customer administrator whose account's entry expired an hour ago by the one clock
    from sitegate import clock

    caller = account_user("customer", "administrator")
    expired = grant(caller, expires_at=(NOW - timedelta(hours=1)).isoformat())
    clock.freeze(NOW)
    try:
        # When
        decision = decide(caller, "job.view", job=JobFacts(MY_JOB, expired))
    finally:
        clock.unfreeze()
    # Then
    assert (decision.allowed, decision.rule) == (DENY, "grant-expired")
