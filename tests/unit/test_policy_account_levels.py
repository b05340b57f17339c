"""The account levels and the user actions as ALLOW / DENY tables, transcribed from docs/DOMAIN.md
("Account levels", "Staff levels", "Users"), never read from `sitegate.policy`'s own tables.

The account-level table is the docs' "right x level" table written as the capabilities the API
asks for; each cell is checked without a job (how far the right reaches: the scope the lists
use) and, for the rights decided per job, on the user's assigned job and on another job its
account has access to. The user actions are checked for every level of both families: the
capability each action needs, as the docs name it.
"""

from __future__ import annotations

import pytest

from sitegate import policy
from sitegate.errors import Forbidden
from sitegate.models.stored import Account, JobGrant, User
from sitegate.policy import Caller, JobFacts, Scope, decide, decide_on_user
from tests.unit.test_policy import NOW, SPEC_LEVELS, SPEC_STAFF, STAMP, TENANT

ALLOW, DENY = True, False
CUSTOMER = "acc-customer"
MY_JOB, OTHER_JOB = "job-assigned", "job-of-the-account"  # both on the account's access list
ACCOUNT_LEVELS = ["administrator", "manager", "basic"]

# docs/DOMAIN.md "Account levels", one row per right, as the capabilities the API asks for.
# "account": every job of its account; "assigned": its assigned jobs; "yes": allowed;
# "basic_only": basic users of its own jobs only; "flag": only with can_create_guests; "": no.
SPEC_ACCOUNT_TABLE: dict[str, list[str]] = {
    #                     administrator manager       basic
    "job.view":            ["account",  "assigned",   "assigned"],  # reach a job
    "records.view":        ["account",  "assigned",   ""],          # read records (customers only)
    "request.create":      ["account",  "assigned",   "assigned"],  # create job requests
    "request.view_all":    ["account",  "assigned",   ""],          # see job requests (basic: own only)
    "user.view":           ["account",  "assigned",   ""],          # see users (basic: itself)
    "user.add":            ["yes",      "basic_only", ""],          # add users
    "user.edit":           ["yes",      "",           ""],          # edit, reset password, delete users
    "user.reset_password": ["yes",      "",           ""],
    "user.delete":         ["yes",      "",           ""],
    "guest.create":        ["yes",      "flag",       ""],          # create guest contractors
    "guest.grant":         ["yes",      "",           ""],          # grant guests job access
    "access.view_own":     ["yes",      "",           ""],          # read its own entry on a job's access list
}
SPEC_ACCOUNT = {level: {cap: row[i] for cap, row in SPEC_ACCOUNT_TABLE.items()} for i, level in enumerate(ACCOUNT_LEVELS)}
SCOPES = {"account": Scope.ACCOUNT, "assigned": Scope.ASSIGNED, "yes": Scope.ALL, "basic_only": Scope.BASIC_ONLY,
          "flag": Scope.ALL}
PER_JOB = {"job.view", "records.view", "request.create", "request.view_all", "guest.grant", "access.view_own"}


def _user(level: str, account_id: str = CUSTOMER, *, user_id: str | None = None, job_ids: tuple[str, ...] = (),
          can_create_guests: bool = False) -> User:
    return User(tenant_id=TENANT, user_id=user_id or f"u-{account_id}-{level}", account_id=account_id,
                email=f"{user_id or level}@example.com", name=user_id or level, level=level, job_ids=list(job_ids),
                can_create_guests=can_create_guests, created_at=STAMP, updated_at=STAMP)


def _account(kind: str, account_id: str) -> Account:
    return Account(tenant_id=TENANT, account_id=account_id, kind=kind, name=account_id, created_at=STAMP)


CUSTOMER_ACCOUNT = _account("customer", CUSTOMER)
OWNER_ACCOUNT = _account("owner", "owner-1")


def customer_user(level: str, *, can_create_guests: bool = False) -> Caller:
    """An account user of a customer; managers and basic users are assigned MY_JOB only."""
    job_ids = () if level == "administrator" else (MY_JOB,)
    return Caller(_user(level, job_ids=job_ids, can_create_guests=can_create_guests), CUSTOMER_ACCOUNT)


def on(job_id: str) -> JobFacts:
    """A job the customer account has a live entry for."""
    return JobFacts(job_id, JobGrant(tenant_id=TENANT, job_id=job_id, job_number="249519", account_id=CUSTOMER,
                                     account_kind="customer", granted_by="u-super_admin", granted_at=STAMP))


def _v(allowed: bool) -> str:
    return "ALLOW" if allowed else "DENY"


def test_the_account_levels_are_the_docs_three():
    assert [level for level in ACCOUNT_LEVELS if policy.level_family(level) == "account"] == ACCOUNT_LEVELS
    assert all(policy.level_family(level) == "staff" for level in SPEC_LEVELS)


# --- every cell, without a job: allowed, and how far it reaches -----------------------------
def _cell_cases() -> list:
    cases = []
    for level, row in SPEC_ACCOUNT.items():
        for capability, cell in row.items():
            if cell == "flag":  # only with the flag, whatever else
                cases += [pytest.param(level, capability, flag, ALLOW if flag else DENY, Scope.ALL if flag else None,
                                       id=f"{level}-{capability}-{'flag' if flag else 'no_flag'}-{_v(flag)}")
                          for flag in (True, False)]
            else:
                cases += [pytest.param(level, capability, flag, bool(cell), SCOPES.get(cell),
                                       id=f"{level}-{capability}{'-flag' if flag else ''}-{_v(bool(cell))}")
                          for flag in ((False, True) if level == "basic" and capability == "guest.create" else (False,))]
    return cases


@pytest.mark.parametrize(("level", "capability", "flag", "allowed", "scope"), _cell_cases())
def test_account_level_table(level, capability, flag, allowed, scope):
    # Given a customer user (a manager or basic user is assigned one job)
    caller = customer_user(level, can_create_guests=flag)
    # When
    decision = decide(caller, capability, now=NOW)
    # Then
    assert (decision.allowed, decision.scope) == (allowed, scope), decision.reason


# --- the rights decided per job: on the assigned job, and on another job of the account -----
def _job_cases() -> list:
    cases = []
    for level, row in SPEC_ACCOUNT.items():
        for capability in sorted(PER_JOB):
            cell = row[capability]
            where = {"": [(MY_JOB, DENY), (OTHER_JOB, DENY)],
                     "assigned": [(MY_JOB, ALLOW), (OTHER_JOB, DENY)],
                     "account": [(MY_JOB, ALLOW), (OTHER_JOB, ALLOW)],
                     "yes": [(MY_JOB, ALLOW), (OTHER_JOB, ALLOW)]}[cell]
            names = {MY_JOB: "assigned_job", OTHER_JOB: "other_job_of_the_account"}
            cases += [pytest.param(level, capability, job_id, allowed, id=f"{level}-{capability}-{names[job_id]}-{_v(allowed)}")
                      for job_id, allowed in where]
    return cases


@pytest.mark.parametrize(("level", "capability", "job_id", "allowed"), _job_cases())
def test_account_level_table_on_jobs(level, capability, job_id, allowed):
    # When
    decision = decide(customer_user(level), capability, job=on(job_id), now=NOW)
    # Then
    assert decision.allowed is allowed, decision.reason


# --- the user actions: the capability each needs (docs/DOMAIN.md "Staff levels", "Account levels")
# Staff: seeing users is resources.view ("users, vehicles, accounts"); user.edit "includes
# enable/disable". Account users: "edit, reset password, delete users" are the administrator's.
SPEC_USER_ACTIONS = {  # action: (the staff capability, the account capability)
    "user.view": ("resources.view", "user.view"),
    "user.add": ("user.add", "user.add"),
    "user.edit": ("user.edit", "user.edit"),
    "user.disable": ("user.edit", "user.edit"),
    "user.enable": ("user.edit", "user.edit"),
    "user.reset_password": ("user.reset_password", "user.reset_password"),
    "user.delete": ("user.delete", "user.delete"),
}
# The target: a basic user of the customer on MY_JOB (for user.add: the one about to be made), so that
# no other rule (escalation, the master, sharing a job, basic users only) decides in the cell's place.
TARGET = _user("basic", user_id="u-target", job_ids=(MY_JOB,))


def _user_action_cases() -> list:
    cases = []
    for action, (staff_capability, account_capability) in SPEC_USER_ACTIONS.items():
        for level in SPEC_LEVELS:
            allowed = bool(SPEC_STAFF[level][staff_capability])
            cases.append(pytest.param(Caller(_user(level, "owner-1"), OWNER_ACCOUNT), action, allowed,
                                      id=f"{level}-{action}-{_v(allowed)}"))
        for level in ACCOUNT_LEVELS:
            allowed = bool(SPEC_ACCOUNT[level][account_capability])
            cases.append(pytest.param(customer_user(level), action, allowed, id=f"customer_{level}-{action}-{_v(allowed)}"))
    return cases


@pytest.mark.parametrize(("caller", "action", "allowed"), _user_action_cases())
def test_user_action_table(caller, action, allowed):
    # When: a staff user or a customer's user acts on a basic user of the customer
    decision = decide_on_user(caller, action, TARGET, CUSTOMER_ACCOUNT, job_ids=[MY_JOB] if action == "user.add" else None)
    # Then
    assert decision.allowed is allowed, decision.reason


# --- a denial, once required, is a 403 naming its rule ---------------------------------------
def test_require_passes_an_allowed_decision_through():
    decision = decide(customer_user("administrator"), "user.add")
    assert policy.require(decision) is decision


def test_require_turns_a_denial_into_forbidden_naming_its_rule():
    denied = decide(customer_user("basic"), "user.add")
    with pytest.raises(Forbidden) as refused:
        policy.require(denied)
    assert refused.value.details["rule"] == denied.rule == "account-lacks"
    assert denied.reason in str(refused.value)
