"""Who sees invoices (docs/DOMAIN.md "Billing", "Staff levels": financial.view), as ALLOW / DENY
tables transcribed from the docs, never read from sitegate.policy's own tables."""

from __future__ import annotations

import inspect
import re

import pytest

from sitegate import policy
from tests.unit.test_policy import account_user, platform_operator, staff

ALLOW, DENY = True, False

INVOICE_CASES = [
    ("view_user", DENY), ("basic_user", DENY), ("basic_user_plus", DENY), ("tmp_designer", DENY),
    ("tmp_designer_plus", DENY), ("operations_user", DENY), ("invoicing", ALLOW), ("super_admin", ALLOW),
]


@pytest.mark.parametrize(("level", "allowed"), INVOICE_CASES)
def test_only_financial_view_sees_invoices(level, allowed):
    decision = policy.decide_on_invoices(staff(level))
    assert decision.allowed is allowed, decision.reason
    assert decision.rule == ("invoices-financial-view" if allowed else "invoices-need-financial-view")


@pytest.mark.parametrize("caller", [
    pytest.param(lambda: account_user("customer", "administrator"), id="customer-administrator"),
    pytest.param(lambda: account_user("trade_contractor", "manager", job_ids=["j"]), id="trade-manager"),
    pytest.param(lambda: account_user("inspection_firm", "basic", job_ids=["j"]), id="inspection-basic"),
    pytest.param(platform_operator, id="platform-operator"),
    pytest.param(lambda: staff("super_admin", status="disabled"), id="disabled-super-admin"),
    pytest.param(lambda: staff("invoicing", account_status="archived"), id="archived-owner-account"),
])
def test_nobody_else_sees_invoices(caller):
    assert not policy.decide_on_invoices(caller())


def test_billing_rule_names_are_each_written_once():
    names = re.findall(r'_(?:allow|deny)\("([a-z0-9-]+)"', inspect.getsource(policy))
    ours = {"invoices-financial-view", "invoices-need-financial-view"}
    assert {name: names.count(name) for name in ours} == dict.fromkeys(ours, 1)
