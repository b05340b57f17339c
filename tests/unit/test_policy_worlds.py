"""Which world a company lives in, as ALLOW / DENY tables: what an account user gets on a job its
account's live entry reaches (job, project pages, tickets, records, job requests, alerts), who reads
the access list, and who puts trades and vendors on a job. Expected values are transcribed from the
product rules (docs/DOMAIN.md "Which world a company lives in", records, job requests), not read
from the policy's tables."""

from __future__ import annotations

import pytest

from sitegate import policy
from sitegate.policy import Caller, JobFacts, Scope
from tests.unit.test_policy_jobs import JOB, NOW, OTHER, SPONSOR, _account, entry, member, staff

ALLOW, DENY = True, False
ACTIONS = ("job.reach", "job.view", "project.view", "tickets.view", "records.view", "request.create",
           "request.view_all", "alerts.receive")


def _facts(caller: Caller, role: str | None, *, sponsor_kind: str | None = None) -> JobFacts:
    account = caller.account
    access_type = "standard" if account.kind in ("inspection_firm", "project_owner") else None
    grant = entry(account.account_id, account.kind, access_type=access_type, sponsor=account.sponsor_account_id)
    sponsor = _account(sponsor_kind, SPONSOR) if sponsor_kind else None
    sponsor_grant = entry(SPONSOR, sponsor_kind) if sponsor_kind and sponsor_kind != "owner" else None
    return JobFacts(JOB, grant, project_role=role, sponsor=sponsor, sponsor_grant=sponsor_grant)


# kind (and for guests, their sponsor's kind), level, role: the cells of ACTIONS, in order.
WORLDS = {
    #                                              reach  job    pages  tickets records create view_all alerts
    ("customer", "administrator", None):          (ALLOW, ALLOW, DENY,  ALLOW,  ALLOW,  ALLOW, ALLOW,   DENY),
    ("customer", "manager", None):                (ALLOW, ALLOW, DENY,  ALLOW,  ALLOW,  ALLOW, ALLOW,   DENY),
    ("customer", "basic", None):                  (ALLOW, ALLOW, DENY,  ALLOW,  DENY,   ALLOW, DENY,    DENY),
    ("customer", "administrator", "member"):      (ALLOW, ALLOW, ALLOW, ALLOW,  ALLOW,  ALLOW, ALLOW,   ALLOW),
    ("inspection_firm", "administrator", None):   (ALLOW, ALLOW, DENY,  ALLOW,  DENY,   DENY,  DENY,    DENY),
    ("project_owner", "administrator", None):     (ALLOW, ALLOW, DENY,  ALLOW,  DENY,   DENY,  DENY,    DENY),
    ("project_owner", "manager", "alerts_only"):  (ALLOW, ALLOW, DENY,  ALLOW,  DENY,   DENY,  DENY,    ALLOW),
    ("guest_of_customer", "administrator", None): (ALLOW, ALLOW, DENY,  DENY,   DENY,   ALLOW, ALLOW,   DENY),
    ("guest_of_customer", "basic", None):         (ALLOW, ALLOW, DENY,  DENY,   DENY,   ALLOW, DENY,    DENY),
    ("guest_of_owner", "administrator", None):    (ALLOW, ALLOW, DENY,  DENY,   DENY,   DENY,  DENY,    DENY),
    # A guest of a trade or a vendor lives in its sponsor's world: no more of the job than its sponsor.
    ("guest_of_trade_contractor", "administrator", None): (ALLOW, DENY, DENY, DENY, DENY, DENY, DENY,     DENY),
    ("guest_of_vendor", "administrator", "alerts_only"): (ALLOW, DENY, DENY,  DENY, DENY, DENY, DENY,     ALLOW),
    ("guest_of_trade_contractor", "basic", "member"): (ALLOW, ALLOW, ALLOW, DENY,  DENY,   DENY,  DENY,    ALLOW),
    ("trade_contractor", "administrator", None):  (ALLOW, DENY,  DENY,  DENY,   DENY,   DENY,  DENY,    DENY),
    ("trade_contractor", "manager", "alerts_only"): (ALLOW, DENY, DENY, DENY,   DENY,   DENY,  DENY,    ALLOW),
    ("trade_contractor", "manager", "member"):    (ALLOW, ALLOW, ALLOW, DENY,   DENY,   DENY,  DENY,    ALLOW),
    ("trade_contractor", "administrator", "lead"): (ALLOW, ALLOW, ALLOW, DENY,  DENY,   DENY,  DENY,    ALLOW),
    ("vendor", "administrator", None):            (ALLOW, DENY,  DENY,  DENY,   DENY,   DENY,  DENY,    DENY),
    ("vendor", "administrator", "alerts_only"):   (ALLOW, DENY,  DENY,  DENY,   DENY,   DENY,  DENY,    ALLOW),
    ("vendor", "basic", "member"):                (ALLOW, ALLOW, ALLOW, DENY,   DENY,   DENY,  DENY,    ALLOW),
    ("vendor", "administrator", "lead"):          (ALLOW, ALLOW, ALLOW, DENY,   DENY,   DENY,  DENY,    ALLOW),
}


def _company(kind: str, level: str) -> Caller:
    if kind.startswith("guest_of_"):
        return member("guest_contractor", level, [JOB], account_id="acc-guest", sponsor=SPONSOR)
    return member(kind, level, [JOB])


def _world_cases() -> list:
    return [pytest.param(kind, level, role, action, allowed,
                         id=f"{kind}-{level}-{role or 'no_role'}-{action}-{'ALLOW' if allowed else 'DENY'}")
            for (kind, level, role), row in WORLDS.items() for action, allowed in zip(ACTIONS, row, strict=True)]


@pytest.mark.parametrize(("kind", "level", "role", "action", "allowed"), _world_cases())
def test_what_an_account_user_gets_on_a_job_depends_on_its_companys_world(kind, level, role, action, allowed):
    # Given: the account's live entry on the job (and, for a guest, its sponsor's)
    caller = _company(kind, level)
    sponsor_kind = kind.removeprefix("guest_of_") if kind.startswith("guest_of_") else None
    # When
    decision = policy.decide(caller, action, job=_facts(caller, role, sponsor_kind=sponsor_kind), now=NOW)
    # Then
    assert decision.allowed is allowed, decision.reason


def test_a_plot_user_without_a_role_is_told_it_sees_only_the_portal():
    # Given
    caller = member("vendor")
    # When
    decision = policy.decide(caller, "job.view", job=_facts(caller, None), now=NOW)
    # Then
    assert (decision.allowed, decision.rule) == (False, "plot-needs-role")
    assert "portal" in decision.reason


def test_plot_users_off_the_job_do_not_even_reach_it():
    # Given: a vendor administrator whose account has no entry on the job
    caller = member("vendor")
    # When
    decision = policy.decide(caller, "job.reach", job=JobFacts(JOB, None, project_role="member"), now=NOW)
    # Then
    assert (decision.allowed, decision.rule) == (False, "no-grant")


# --- the access list: the whole of it, one's own entry and one's guests', or nothing
ACCESS_LISTS = [  # who, caller, role, allowed, scope
    ("super_admin", staff("super_admin"), None, ALLOW, Scope.ALL),
    ("tmp_designer_on_job", staff("tmp_designer", [JOB]), None, ALLOW, Scope.ALL),
    ("tmp_designer_elsewhere", staff("tmp_designer", [OTHER]), None, DENY, None),
    ("view_user", staff("view_user"), None, DENY, None),
    ("view_user_gc_lead", staff("view_user"), "lead", ALLOW, Scope.ALL),
    ("basic_user_plus_gc_member", staff("basic_user_plus"), "member", DENY, None),
    ("customer_administrator", member("customer"), None, ALLOW, Scope.SPONSORED),
    ("customer_manager", member("customer", "manager", [JOB]), None, DENY, None),
    ("customer_basic", member("customer", "basic", [JOB]), None, DENY, None),
    ("inspection_firm_administrator", member("inspection_firm"), None, ALLOW, Scope.SPONSORED),
    ("trade_administrator_no_role", member("trade_contractor"), None, DENY, None),
    ("trade_administrator_alerts_only", member("trade_contractor"), "alerts_only", DENY, None),
    ("trade_administrator_lead", member("trade_contractor"), "lead", ALLOW, Scope.SPONSORED),
    ("trade_manager_lead", member("trade_contractor", "manager", [JOB]), "lead", DENY, None),
    ("vendor_administrator_no_role", member("vendor"), None, DENY, None),
]


@pytest.mark.parametrize(("caller", "role", "allowed", "scope"), [
    pytest.param(c, r, a, s, id=f"{w}-{'ALLOW' if a else 'DENY'}") for w, c, r, a, s in ACCESS_LISTS])
def test_who_reads_the_access_list(caller, role, allowed, scope):
    # When
    decision = policy.decide_access_list(caller, _facts(caller, role) if caller.account.kind != "owner"
                                         else JobFacts(JOB, None, project_role=role))
    # Then
    assert (decision.allowed, decision.scope if decision else None) == (allowed, scope), decision.reason


# --- who puts a trade or a vendor on a job: job.edit staff and GC leads (a booking is not a grant)
GRANTS = [  # who, caller, role, target kind, allowed
    ("view_user_gc_lead", staff("view_user"), "lead", "vendor", ALLOW),
    ("view_user_gc_lead", staff("view_user"), "lead", "trade_contractor", ALLOW),
    ("view_user_gc_lead", staff("view_user"), "lead", "customer", DENY),
    ("view_user_gc_lead", staff("view_user"), "lead", "inspection_firm", DENY),
    ("basic_user_plus_gc_member", staff("basic_user_plus"), "member", "vendor", DENY),
    ("view_user_alerts_only", staff("view_user"), "alerts_only", "vendor", DENY),
    ("operations_user", staff("operations_user"), None, "customer", ALLOW),
]


@pytest.mark.parametrize(("caller", "role", "kind", "allowed"), [
    pytest.param(c, r, k, a, id=f"{w}-{k}-{'ALLOW' if a else 'DENY'}") for w, c, r, k, a in GRANTS])
def test_gc_leads_put_trades_and_vendors_on_their_job(caller, role, kind, allowed):
    # When
    decision = policy.decide_on_grant(caller, JobFacts(JOB, None, project_role=role), _account(kind, f"acc-{kind}"))
    # Then
    assert decision.allowed is allowed, decision.reason


def test_a_trade_lead_does_not_put_vendors_on_the_job():
    # Given: a trade's lead (an account administrator) naming a vendor for the access list
    caller = member("trade_contractor")
    # When
    decision = policy.decide_on_grant(caller, _facts(caller, "lead"), _account("vendor", "acc-v"))
    # Then
    assert (decision.allowed, decision.rule) == (False, "grant-own-guests-only")
