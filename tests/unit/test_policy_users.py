"""Decisions on users, accounts, lists and settings as ALLOW / DENY tables (cedar style).

Each row: who asks (level, account kind), what it does to which target -> ALLOW / DENY and
the name of the rule that decided. Expected values come from docs/DOMAIN.md ("Users and levels",
"Accounts", "Guests"), not from `sitegate.policy`'s own tables.
"""

from __future__ import annotations

import ast
import collections
import inspect

import pytest

from sitegate import policy
from sitegate.models.stored import Account, User
from sitegate.policy import Caller, Scope, decide, decide_account_list, decide_on_account, decide_on_user, decide_user_list

ALLOW, DENY = True, False
TENANT = "acme"
STAMP = "2025-01-01T00:00:00+00:00"
J1, J2 = "job-1", "job-2"

# --- accounts -------------------------------------------------------------------
OWNER = Account(tenant_id=TENANT, account_id="owner", kind="owner", name="Acme", created_at=STAMP)
CUSTOMER = Account(tenant_id=TENANT, account_id="cust", kind="customer", name="Fulton", created_at=STAMP,
                   master_user_id="cust-master")
OTHER_CUSTOMER = Account(tenant_id=TENANT, account_id="cust-2", kind="customer", name="Downer", created_at=STAMP)
GUEST = Account(tenant_id=TENANT, account_id="guest", kind="guest_contractor", name="Sparky", created_at=STAMP,
                sponsor_account_id="cust")
NEW_GUEST = GUEST.changed(account_id="guest-new")  # a guest contractor account about to be made
NEW_CUSTOMER = OTHER_CUSTOMER.changed(account_id="cust-new")
OTHER_GUEST = GUEST.changed(account_id="guest-of-cust-2", sponsor_account_id="cust-2")  # sponsored by another customer
PLATFORM = Account(tenant_id="platform", account_id="operators", kind="platform", name="SiteGate", created_at=STAMP)
ACCOUNTS = {a.account_id: a for a in (OWNER, CUSTOMER, OTHER_CUSTOMER, GUEST, OTHER_GUEST, PLATFORM)}


def _user(user_id: str, account: Account, level: str, *, job_ids: tuple[str, ...] = (), status: str = "active",
          can_create_guests: bool = False, is_master: bool = False) -> User:
    return User(tenant_id=account.tenant_id, user_id=user_id, account_id=account.account_id,
                email=f"{user_id}@example.com", name=user_id, level=level, status=status, job_ids=list(job_ids),
                can_create_guests=can_create_guests, is_master=is_master, created_at=STAMP, updated_at=STAMP)


USERS = {u.user_id: u for u in [
    _user("super", OWNER, "super_admin", is_master=True),
    _user("ops", OWNER, "operations_user"),
    _user("invoicing", OWNER, "invoicing"),
    _user("viewer", OWNER, "view_user"),
    _user("staff-basic", OWNER, "basic_user", job_ids=(J1,)),
    _user("cust-master", CUSTOMER, "administrator", is_master=True),
    _user("cust-admin", CUSTOMER, "administrator"),
    _user("cust-manager", CUSTOMER, "manager", job_ids=(J1,)),
    _user("cust-manager-guests", CUSTOMER, "manager", job_ids=(J1,), can_create_guests=True),
    _user("cust-basic-j1", CUSTOMER, "basic", job_ids=(J1,)),
    _user("cust-basic-j2", CUSTOMER, "basic", job_ids=(J2,)),
    _user("cust-disabled", CUSTOMER, "administrator", status="disabled"),
    _user("other-admin", OTHER_CUSTOMER, "administrator"),
    _user("guest-admin", GUEST, "administrator", is_master=True),
    _user("guest-j1", GUEST, "basic", job_ids=(J1,)),
    _user("guest-j2", GUEST, "basic", job_ids=(J2,)),
    _user("other-guest-j1", OTHER_GUEST, "basic", job_ids=(J1,)),
    _user("operator", PLATFORM, "platform_operator"),
]}


def caller(user_id: str) -> Caller:
    user = USERS[user_id]
    return Caller(user, ACCOUNTS[user.account_id])


def new_user(level: str, account: Account, *job_ids: str) -> User:
    return _user("new-user", account, level, job_ids=job_ids)


def _row(verdict: bool, rule: str, who: str, action: str, target: str, note: str = "") -> str:
    return "-".join(p for p in (who, action, target, note, "ALLOW" if verdict else "DENY", rule) if p)


# --- decide_on_user -----------------------------------------------------------------
#   (caller, action, target user, level given, job_ids given) -> verdict, rule
ON_USER = [
    # seeing users
    ("super", "user.view", "staff-basic", None, None, ALLOW, "staff-allows"),
    ("invoicing", "user.view", "cust-basic-j1", None, None, ALLOW, "staff-allows"),
    ("viewer", "user.view", "staff-basic", None, None, DENY, "staff-lacks"),
    ("viewer", "user.view", "viewer", None, None, ALLOW, "self-view"),
    ("cust-basic-j1", "user.view", "cust-basic-j1", None, None, ALLOW, "self-view"),
    ("operator", "user.view", "operator", None, None, ALLOW, "self-view"),
    ("operator", "user.view", "staff-basic", None, None, DENY, "user-actions"),
    ("cust-disabled", "user.view", "cust-disabled", None, None, DENY, "inactive-user"),
    ("cust-admin", "user.view", "cust-basic-j2", None, None, ALLOW, "account-allows"),
    ("cust-admin", "user.view", "guest-j2", None, None, ALLOW, "account-allows"),
    ("cust-admin", "user.view", "other-admin", None, None, DENY, "other-account"),
    ("cust-admin", "user.view", "staff-basic", None, None, DENY, "other-account"),
    ("cust-manager", "user.view", "cust-basic-j1", None, None, ALLOW, "account-allows"),
    ("cust-manager", "user.view", "cust-admin", None, None, ALLOW, "account-allows"),
    ("cust-manager", "user.view", "cust-basic-j2", None, None, DENY, "shares-no-job"),
    ("cust-manager", "user.view", "guest-j1", None, None, DENY, "guest-users-need-flag"),
    ("cust-manager-guests", "user.view", "guest-j1", None, None, ALLOW, "account-allows"),
    ("cust-manager-guests", "user.view", "guest-j2", None, None, DENY, "shares-no-job"),
    ("cust-basic-j1", "user.view", "cust-manager", None, None, DENY, "account-lacks"),
    ("guest-admin", "user.view", "cust-basic-j1", None, None, DENY, "other-account"),
    ("guest-admin", "user.view", "guest-j2", None, None, ALLOW, "account-allows"),
    ("cust-admin", "user.view", "other-guest-j1", None, None, DENY, "other-account"),  # another sponsor's guest
    ("cust-manager-guests", "user.view", "other-guest-j1", None, None, DENY, "other-account"),
    ("ops", "user.view", "super", None, None, ALLOW, "staff-allows"),  # seeing a higher level is no escalation
    ("invoicing", "user.view", "super", None, None, ALLOW, "staff-allows"),
    # their own name and phone (PATCH /me): themselves only, whatever the level
    ("cust-basic-j1", "user.edit_self", "cust-basic-j1", None, None, ALLOW, "self-edit"),
    ("operator", "user.edit_self", "operator", None, None, ALLOW, "self-edit"),
    ("viewer", "user.edit_self", "viewer", None, None, ALLOW, "self-edit"),
    ("super", "user.edit_self", "viewer", None, None, DENY, "self-edit-others"),
    ("cust-admin", "user.edit_self", "cust-basic-j1", None, None, DENY, "self-edit-others"),
    ("cust-disabled", "user.edit_self", "cust-disabled", None, None, DENY, "inactive-user"),
    # changing users
    ("super", "user.frobnicate", "staff-basic", None, None, DENY, "user-actions"),
    ("ops", "user.edit", "staff-basic", "tmp_designer", None, ALLOW, "staff-allows"),
    ("ops", "user.edit", "staff-basic", "invoicing", None, DENY, "no-escalation"),
    ("ops", "user.edit", "super", None, None, DENY, "above-caller"),
    ("ops", "user.delete", "staff-basic", None, None, DENY, "staff-lacks"),
    ("ops", "user.edit", "cust-basic-j1", None, None, ALLOW, "staff-allows"),
    ("invoicing", "user.edit", "staff-basic", None, None, DENY, "staff-lacks"),
    ("super", "user.disable", "super", None, None, DENY, "self-lockout"),
    ("super", "user.delete", "super", None, None, DENY, "self-lockout"),
    ("cust-admin", "user.delete", "cust-admin", None, None, DENY, "self-lockout"),
    ("cust-admin", "user.disable", "cust-admin", None, None, DENY, "self-lockout"),
    ("cust-admin", "user.edit", "cust-admin", None, None, ALLOW, "account-allows"),  # editing oneself is no lockout
    ("super", "user.edit", "super", "operations_user", None, DENY, "master-protected"),
    ("cust-admin", "user.disable", "cust-master", None, None, DENY, "master-protected"),
    ("cust-admin", "user.delete", "cust-master", None, None, DENY, "master-protected"),
    ("cust-admin", "user.edit", "cust-master", "manager", None, DENY, "master-protected"),
    ("cust-admin", "user.edit", "cust-master", None, None, ALLOW, "account-allows"),
    ("cust-master", "user.edit", "cust-master", "manager", None, DENY, "master-protected"),
    ("cust-admin", "user.disable", "cust-basic-j1", None, None, ALLOW, "account-allows"),
    ("cust-admin", "user.disable", "guest-admin", None, None, ALLOW, "account-allows"),
    ("cust-manager", "user.edit", "cust-basic-j1", None, None, DENY, "account-lacks"),
    ("cust-basic-j1", "user.reset_password", "cust-basic-j2", None, None, DENY, "account-lacks"),
    ("guest-admin", "user.disable", "guest-j1", None, None, ALLOW, "account-allows"),
    ("guest-admin", "user.edit", "cust-basic-j1", None, None, DENY, "other-account"),
]


@pytest.mark.parametrize(("who", "action", "target", "level", "job_ids", "allowed", "rule"), [
    pytest.param(*row, id=_row(row[5], row[6], row[0], row[1], row[2], row[3] or "")) for row in ON_USER])
def test_decide_on_user_table(who, action, target, level, job_ids, allowed, rule):
    # Given
    user = USERS[target]
    # When
    decision = decide_on_user(caller(who), action, user, ACCOUNTS[user.account_id], level=level, job_ids=job_ids)
    # Then
    assert (decision.allowed, decision.rule) == (allowed, rule), decision.reason


#   (caller, the user about to be made: level, account, its jobs) -> verdict, rule
ADD_USER = [
    ("super", "super_admin", OWNER, (), ALLOW, "staff-allows"),
    ("ops", "tmp_designer_plus", OWNER, (), ALLOW, "staff-allows"),
    ("ops", "super_admin", OWNER, (), DENY, "no-escalation"),
    ("ops", "administrator", CUSTOMER, (), ALLOW, "staff-allows"),
    ("invoicing", "view_user", OWNER, (), DENY, "staff-lacks"),
    ("cust-admin", "manager", CUSTOMER, (J1,), ALLOW, "account-allows"),
    ("cust-admin", "administrator", GUEST, (), ALLOW, "account-allows"),
    ("cust-admin", "basic", OTHER_CUSTOMER, (J1,), DENY, "other-account"),
    ("cust-manager", "basic", CUSTOMER, (J1,), ALLOW, "account-allows"),
    ("cust-manager", "basic", CUSTOMER, (J2,), DENY, "assigns-own-jobs-only"),
    ("cust-manager", "manager", CUSTOMER, (J1,), DENY, "basic-only"),
    ("cust-manager", "basic", GUEST, (J1,), DENY, "guest-users-need-flag"),
    ("cust-manager-guests", "basic", GUEST, (J1,), ALLOW, "account-allows"),
    ("cust-basic-j1", "basic", CUSTOMER, (J1,), DENY, "account-lacks"),
    ("guest-admin", "basic", GUEST, (J1,), ALLOW, "account-allows"),
    ("operator", "super_admin", OWNER, (), DENY, "user-actions"),
]


@pytest.mark.parametrize(("who", "level", "account", "job_ids", "allowed", "rule"), [
    pytest.param(*row, id=_row(row[4], row[5], row[0], "user.add", f"{row[1]}@{row[2].kind}")) for row in ADD_USER])
def test_decide_on_user_add_table(who, level, account, job_ids, allowed, rule):
    # Given
    made = new_user(level, account, *job_ids)
    # When
    decision = decide_on_user(caller(who), "user.add", made, account, level=level, job_ids=list(job_ids))
    # Then
    assert (decision.allowed, decision.rule) == (allowed, rule), decision.reason


def test_a_manager_adds_a_basic_user_whose_level_is_given_on_the_user_alone():
    made = new_user("basic", CUSTOMER, J1)
    decision = decide_on_user(caller("cust-manager"), "user.add", made, CUSTOMER, job_ids=[J1])
    assert (decision.allowed, decision.rule) == (ALLOW, "account-allows"), decision.reason
    made = new_user("manager", CUSTOMER, J1)
    assert decide_on_user(caller("cust-manager"), "user.add", made, CUSTOMER, job_ids=[J1]).rule == "basic-only"


@pytest.mark.parametrize("who", ["super", "cust-admin"])
@pytest.mark.parametrize("action", ["user.demote", "action", "staff", "account", "user.frobnicate"])
def test_unknown_user_actions_are_denied_by_name(who, action):
    # (user.demote is no action of its own: a level change is user.edit; the table's header words are none either)
    decision = decide_on_user(caller(who), action, USERS["cust-basic-j1"], CUSTOMER)
    assert (decision.allowed, decision.rule) == (DENY, "user-actions")


@pytest.mark.parametrize("who", ["super", "cust-admin"])
@pytest.mark.parametrize("action", ["action", "staff", "account", "account.frobnicate"])
def test_unknown_account_actions_are_denied_by_name(who, action):
    decision = decide_on_account(caller(who), action, GUEST)
    assert (decision.allowed, decision.rule) == (DENY, "account-actions")


# --- decide_on_account ----------------------------------------------------------------
#   (caller, action, target account) -> verdict, rule
ON_ACCOUNT = [
    ("super", "account.view", CUSTOMER, ALLOW, "staff-allows"),
    ("viewer", "account.view", CUSTOMER, DENY, "staff-lacks"),
    ("viewer", "account.view", OWNER, ALLOW, "own-account"),
    ("cust-basic-j1", "account.view", CUSTOMER, ALLOW, "own-account"),
    ("guest-j1", "account.view", GUEST, ALLOW, "own-account"),
    ("cust-admin", "account.view", GUEST, ALLOW, "account-allows"),
    ("cust-manager", "account.view", GUEST, DENY, "account-flag"),
    ("cust-manager-guests", "account.view", GUEST, ALLOW, "account-allows"),
    ("cust-basic-j1", "account.view", GUEST, DENY, "account-lacks"),
    ("cust-admin", "account.view", OTHER_CUSTOMER, DENY, "account-actions"),
    ("guest-admin", "account.view", CUSTOMER, DENY, "account-actions"),
    ("operator", "account.view", CUSTOMER, DENY, "account-actions"),
    ("cust-disabled", "account.view", CUSTOMER, DENY, "inactive-user"),
    # creating accounts: staff any kind; sponsors only guest contractors; guests none
    ("ops", "account.create", NEW_CUSTOMER, ALLOW, "staff-allows"),
    ("ops", "account.create", NEW_GUEST, ALLOW, "staff-allows"),
    ("viewer", "account.create", NEW_CUSTOMER, DENY, "staff-lacks"),
    ("cust-admin", "account.create", NEW_GUEST, ALLOW, "account-allows"),
    ("cust-admin", "account.create", NEW_CUSTOMER, DENY, "account-users-create-guests-only"),
    ("cust-manager", "account.create", NEW_GUEST, DENY, "account-flag"),
    ("cust-manager-guests", "account.create", NEW_GUEST, ALLOW, "account-allows"),
    ("cust-basic-j1", "account.create", NEW_GUEST, DENY, "account-lacks"),
    ("guest-admin", "account.create", NEW_GUEST, DENY, "guests-sponsor-no-guests"),
    ("guest-admin", "account.create", NEW_CUSTOMER, DENY, "account-users-create-guests-only"),
    ("operator", "account.create", NEW_CUSTOMER, DENY, "account-actions"),
    # editing and archiving: staff only
    ("invoicing", "account.edit", CUSTOMER, ALLOW, "staff-allows"),
    ("cust-admin", "account.edit", CUSTOMER, DENY, "account-actions"),
    ("cust-admin", "account.archive", GUEST, DENY, "account-actions"),
    ("ops", "account.archive", CUSTOMER, DENY, "staff-lacks"),
    ("super", "account.archive", CUSTOMER, ALLOW, "staff-allows"),
]


@pytest.mark.parametrize(("who", "action", "target", "allowed", "rule"), [
    pytest.param(*row, id=_row(row[3], row[4], row[0], row[1], row[2].account_id)) for row in ON_ACCOUNT])
def test_decide_on_account_table(who, action, target, allowed, rule):
    # When
    decision = decide_on_account(caller(who), action, target)
    # Then
    assert (decision.allowed, decision.rule) == (allowed, rule), decision.reason


# --- list reach -------------------------------------------------------------------------
#   (caller, asks for the whole tenant?) -> verdict, rule, scope
USER_LIST = [
    ("super", True, ALLOW, "staff-list-users", Scope.TENANT),
    ("super", False, ALLOW, "staff-list-users", Scope.ACCOUNT),
    ("invoicing", True, ALLOW, "staff-list-users", Scope.TENANT),
    ("viewer", True, ALLOW, "list-self", Scope.SELF),
    ("staff-basic", False, ALLOW, "list-self", Scope.SELF),
    ("cust-admin", True, ALLOW, "account-list-users", Scope.ACCOUNT),
    ("guest-admin", True, ALLOW, "account-list-users", Scope.ACCOUNT),
    ("cust-manager", True, ALLOW, "account-list-assigned", Scope.ASSIGNED),
    ("cust-basic-j1", True, ALLOW, "list-self", Scope.SELF),
    ("operator", True, ALLOW, "list-self", Scope.SELF),
    ("cust-disabled", True, DENY, "inactive-user", None),
]


@pytest.mark.parametrize(("who", "whole_tenant", "allowed", "rule", "scope"), [
    pytest.param(*row, id=_row(row[2], row[3], row[0], "list-users", "tenant" if row[1] else "account"))
    for row in USER_LIST])
def test_user_list_reach_table(who, whole_tenant, allowed, rule, scope):
    # When
    decision = decide_user_list(caller(who), whole_tenant=whole_tenant)
    # Then
    assert (decision.allowed, decision.rule, decision.scope) == (allowed, rule, scope), decision.reason


ACCOUNT_LIST = [
    ("super", ALLOW, "staff-list-accounts", Scope.TENANT),
    ("ops", ALLOW, "staff-list-accounts", Scope.TENANT),
    ("viewer", ALLOW, "list-own-account", Scope.SELF),
    ("cust-admin", ALLOW, "sponsor-list-accounts", Scope.SPONSORED),
    ("cust-manager-guests", ALLOW, "sponsor-list-accounts", Scope.SPONSORED),
    ("cust-manager", ALLOW, "list-own-account", Scope.SELF),
    ("cust-basic-j1", ALLOW, "list-own-account", Scope.SELF),
    ("guest-admin", ALLOW, "list-own-account", Scope.SELF),
    ("operator", ALLOW, "list-own-account", Scope.SELF),
    ("cust-disabled", DENY, "inactive-user", None),
]


@pytest.mark.parametrize(("who", "allowed", "rule", "scope"), [
    pytest.param(*row, id=_row(row[1], row[2], row[0], "list-accounts", "")) for row in ACCOUNT_LIST])
def test_account_list_reach_table(who, allowed, rule, scope):
    # When
    decision = decide_account_list(caller(who))
    # Then
    assert (decision.allowed, decision.rule, decision.scope) == (allowed, rule, scope), decision.reason


# --- visible settings --------------------------------------------------------------------
SENSITIVE = {"system_settings", "vehicle_check_items", "hazard_register_items", "daily_check_list_items"}
NORMAL = {"job_booking_fields", "tmp_templates", "tmp_library", "special_event_dates"}


@pytest.mark.parametrize(("who", "visible"), [
    pytest.param("super", SENSITIVE | NORMAL, id="super_admin-sees-all"),
    pytest.param("invoicing", SENSITIVE | NORMAL, id="invoicing-sees-all"),
    pytest.param("ops", NORMAL, id="operations_user-sees-normal"),
    pytest.param("viewer", set(), id="view_user-sees-none"),
    pytest.param("cust-admin", set(), id="customer_administrator-sees-none"),
])
def test_visible_settings_table(who, visible):
    # When
    seen = {key for key in SENSITIVE | NORMAL if decide(caller(who), "settings.view", setting=key)}
    # Then
    assert seen == visible


# --- one name, one place --------------------------------------------------------------------
def test_every_rule_name_is_written_in_one_place():
    # Given: every literal rule name passed to _allow / _deny in policy.py
    tree = ast.parse(inspect.getsource(policy))
    names = [node.args[0].value for node in ast.walk(tree)
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_allow", "_deny")
             and node.args and isinstance(node.args[0], ast.Constant)]
    # Then
    assert names
    assert [name for name, n in collections.Counter(names).items() if n > 1] == []
