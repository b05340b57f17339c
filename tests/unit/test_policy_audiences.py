"""Who is told of what, as ALLOW / DENY tables: the notification audiences the policy derives from
its tables (financial.view for invoices, access.view_own for an account's new entry, alerts.receive
for alerts, the approvals table for deliveries). Expected values are transcribed from docs/DOMAIN.md
("Notifications and acknowledgments", "Staff levels", "Account levels", "Deliveries"), not read from
the policy's tables."""

from __future__ import annotations

import pytest

from sitegate import policy
from tests.unit.test_policy import account_user, platform_operator, staff
from tests.unit.test_policy_deliveries import FOR, PEOPLE, _facts

ALLOW, DENY = True, False
STAFF_LEVELS = ["view_user", "basic_user", "basic_user_plus", "tmp_designer", "tmp_designer_plus",
                "operations_user", "invoicing", "super_admin"]


def _v(allowed: bool) -> str:
    return "ALLOW" if allowed else "DENY"


# --- an invoice is issued: the staff with financial.view (Invoicing, Super Admin), nobody else
INVOICE_NOTICE = {level: level in ("invoicing", "super_admin") for level in STAFF_LEVELS}


@pytest.mark.parametrize(("level", "told"), [pytest.param(lv, t, id=f"{lv}-{_v(t)}") for lv, t in INVOICE_NOTICE.items()])
def test_an_invoice_notice_goes_to_the_staff_levels_with_financial_view(level, told):
    decision = policy.decide_notice(staff(level), "invoice.issued")
    assert decision.allowed is told, decision.reason


# --- an account is given access to a job: its administrators (who read their own entry), nobody else
ACCESS_NOTICE = [
    ("customer", "administrator", ALLOW), ("vendor", "administrator", ALLOW),
    ("trade_contractor", "administrator", ALLOW), ("guest_contractor", "administrator", ALLOW),
    ("customer", "manager", DENY), ("trade_contractor", "manager", DENY), ("customer", "basic", DENY),
]


@pytest.mark.parametrize(("kind", "level", "told"), [
    pytest.param(k, lv, t, id=f"{k}-{lv}-{_v(t)}") for k, lv, t in ACCESS_NOTICE])
def test_an_access_notice_goes_to_the_accounts_administrators(kind, level, told):
    decision = policy.decide_notice(account_user(kind, level, job_ids=["j"]), "access.granted")
    assert decision.allowed is told, decision.reason


@pytest.mark.parametrize("level", STAFF_LEVELS)
def test_staff_get_no_access_notice(level):
    assert not policy.decide_notice(staff(level), "access.granted")


@pytest.mark.parametrize(("caller", "event"), [
    pytest.param(lambda: staff("super_admin", status="disabled"), "invoice.issued", id="disabled-super-admin"),
    pytest.param(lambda: account_user("vendor", "administrator", account_status="archived"), "access.granted",
                 id="administrator-of-an-archived-account"),
    pytest.param(platform_operator, "invoice.issued", id="platform-operator"),
    pytest.param(lambda: account_user("customer", "administrator"), "invoice.issued", id="customer-administrator"),
])
def test_nobody_without_standing_or_the_capability_is_told(caller, event):
    assert not policy.decide_notice(caller(), event)


def test_an_event_without_a_written_audience_tells_nobody():
    decision = policy.decide_notice(staff("super_admin"), "job.archived")
    assert (decision.allowed, decision.rule) == (DENY, "notice-unknown")


# --- an alert: the roles that receive alerts are read for its roll-call
def test_the_roles_that_receive_alerts_are_lead_member_and_alerts_only():
    assert policy.roles_with("alerts.receive") == {"lead", "member", "alerts_only"}
    assert policy.roles_with("project.view") == {"lead", "member"}


# --- a delivery: asked to approve (and told of a cancellation) are the leads who give its approvals
APPROVAL_GIVERS = [  # who, booked for, the approvals they give
    ("gc_lead", "gc", ["gc"]),
    ("gc_lead", "trade", ["gc"]),
    ("trade_lead", "trade", ["trade"]),
    ("trade_lead", "gc", []),
    ("other_trade_lead", "trade", []),
    ("gc_member", "gc", []),
    ("trade_member", "trade", []),
    ("gc_alerts_only", "gc", []),
    ("trade_alerts_only", "trade", []),
    ("trade_not_on_jobsite", "trade", []),
    ("gc_editor_without_role", "gc", []),  # job.edit runs the job, but only leads approve
    ("gc_lead_unallocated", "gc", []),  # cannot see the job at all
    ("vendor_lead", "gc", []),
    ("customer_lead", "gc", []),
]


@pytest.mark.parametrize(("who", "booked_for", "gives"), [
    pytest.param(w, b, g, id=f"{w}-on-{b}-{'+'.join(g) or 'none'}") for w, b, g in APPROVAL_GIVERS])
def test_the_leads_the_approvals_table_names_are_the_ones_asked(who, booked_for, gives):
    # Given
    caller, role = PEOPLE[who]
    # When
    given = policy.approvals_given_by(caller, _facts(caller, role), FOR[booked_for])
    # Then
    assert given == gives


def test_only_leads_are_read_as_approvers():
    assert set(policy.APPROVER_ROLES) == {"lead"}
