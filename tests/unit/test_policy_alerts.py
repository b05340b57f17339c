"""Jobsite alerts as ALLOW / DENY tables: who sends a job's alerts and sees their roll-call
(GC leads, staff with job.edit), who acknowledges (the alert's recipients), and who receives
alerts (people who reach the job with a role: lead, member, alerts_only). Expected values are
transcribed from the product rules, not read from the policy's table."""

from __future__ import annotations

import pytest

from sitegate import policy
from sitegate.policy import Caller, JobFacts
from tests.unit.test_policy_jobs import JOB, OTHER, _account, _user, entry, member, on_job, staff

ALLOW, DENY = True, False


def _v(allowed: bool) -> str:
    return "ALLOW" if allowed else "DENY"


# caller, its role on the job, (alert.send, alert.view, alert.ack when NOT on the roll-call)
SENDERS = [
    ("super_admin", staff("super_admin"), None, (ALLOW, ALLOW, DENY)),
    ("operations_user", staff("operations_user"), None, (ALLOW, ALLOW, DENY)),
    ("tmp_designer_allocated", staff("tmp_designer", [JOB]), None, (ALLOW, ALLOW, DENY)),
    ("tmp_designer_elsewhere", staff("tmp_designer", [OTHER]), None, (DENY, DENY, DENY)),
    ("view_user", staff("view_user"), None, (DENY, DENY, DENY)),
    ("view_user_gc_lead", staff("view_user"), "lead", (ALLOW, ALLOW, DENY)),
    ("basic_user_plus_gc_lead", staff("basic_user_plus"), "lead", (ALLOW, ALLOW, DENY)),
    ("basic_user_plus_gc_member", staff("basic_user_plus"), "member", (DENY, DENY, DENY)),
    ("basic_user_gc_lead_not_allocated", staff("basic_user", [OTHER]), "lead", (DENY, DENY, DENY)),
    ("trade_lead", member("trade_contractor"), "lead", (DENY, DENY, DENY)),
    ("trade_member", member("trade_contractor"), "member", (DENY, DENY, DENY)),
    ("vendor_lead", member("vendor"), "lead", (DENY, DENY, DENY)),
    ("alerts_only", member("trade_contractor"), "alerts_only", (DENY, DENY, DENY)),
]
ACTIONS = ("alert.send", "alert.view", "alert.ack")


@pytest.mark.parametrize(("caller", "role", "action", "allowed"), [
    pytest.param(caller, role, action, allowed, id=f"{name}-{action}-{_v(allowed)}")
    for name, caller, role, row in SENDERS for action, allowed in zip(ACTIONS, row, strict=True)])
def test_gc_leads_and_job_editors_send_and_see_alerts(caller: Caller, role, action, allowed):
    # When
    decision = policy.decide_on_alerts(caller, on_job(caller, role=role), action)
    # Then
    assert decision.allowed is allowed, decision.reason


# A person on the alert's roll-call: (alert.send, alert.view, alert.ack). Being a recipient lets one
# acknowledge, never send or see the roll-call; and only while one still reaches the job.
RECIPIENTS = [
    ("trade_member_on_roll_call", member("trade_contractor"), "member", (DENY, DENY, ALLOW)),
    ("alerts_only_on_roll_call", member("trade_contractor"), "alerts_only", (DENY, DENY, ALLOW)),
    ("gc_member_on_roll_call", staff("basic_user_plus"), "member", (DENY, DENY, ALLOW)),
    ("gc_lead_on_roll_call", staff("basic_user_plus"), "lead", (ALLOW, ALLOW, ALLOW)),
    ("role_since_removed", member("trade_contractor"), None, (DENY, DENY, ALLOW)),  # the alert reached them
    ("trade_manager_no_longer_assigned", member("trade_contractor", "manager", [OTHER]), "member", (DENY, DENY, DENY)),
    ("gc_member_no_longer_allocated", staff("basic_user", [OTHER]), "member", (DENY, DENY, DENY)),
]


@pytest.mark.parametrize(("caller", "role", "action", "allowed"), [
    pytest.param(caller, role, action, allowed, id=f"{name}-{action}-{_v(allowed)}")
    for name, caller, role, row in RECIPIENTS for action, allowed in zip(ACTIONS, row, strict=True)])
def test_recipients_acknowledge_their_own_alert_and_only_that(caller: Caller, role, action, allowed):
    # When: the caller is on the alert's roll-call
    decision = policy.decide_on_alerts(caller, on_job(caller, role=role), action, frozenset({caller.user.user_id}))
    # Then
    assert decision.allowed is allowed, decision.reason
    if action == "alert.ack":
        assert decision.rule == ("alert-recipient" if allowed else "alert-not-allowed")


def test_a_recipient_who_no_longer_reaches_the_job_cannot_acknowledge():
    caller = member("trade_contractor")
    decision = policy.decide_on_alerts(caller, JobFacts(JOB, None, project_role="member"), "alert.ack",
                                       frozenset({caller.user.user_id}))
    assert not decision


def test_a_disabled_recipient_cannot_acknowledge():
    caller = member("trade_contractor")
    caller = Caller(caller.user.changed(status="disabled"), caller.account)
    decision = policy.decide_on_alerts(caller, on_job(caller, role="member"), "alert.ack",
                                       frozenset({caller.user.user_id}))
    assert (decision.allowed, decision.rule) == (DENY, "inactive-user")


@pytest.mark.parametrize("action", ["alert.delete", "action", "gc_lead", ""])
def test_an_unknown_alert_action_is_denied(action):
    # (the alert table's own header words included: they are no actions)
    caller = staff("super_admin")
    assert policy.decide_on_alerts(caller, on_job(caller), action).rule == "alert-actions"


# --- who receives a job's alerts: reach the job (the directory's rule) and hold a receiving role
RECEIVERS = [
    ("gc_lead", staff("basic_user_plus"), "lead", ALLOW),
    ("gc_member", staff("basic_user"), "member", DENY),  # basic_user reaches only allocated jobs
    ("gc_member_allocated", staff("basic_user", [JOB]), "member", ALLOW),
    ("trade_alerts_only", member("trade_contractor"), "alerts_only", ALLOW),
    ("trade_not_on_jobsite", member("trade_contractor"), None, DENY),
    ("trade_manager_unassigned", member("trade_contractor", "manager"), "member", DENY),
    ("trade_manager_assigned", member("trade_contractor", "manager", [JOB]), "member", ALLOW),
    ("vendor_member", member("vendor"), "member", ALLOW),
]


@pytest.mark.parametrize(("person", "role", "allowed"), [
    pytest.param(person, role, allowed, id=f"{name}-{_v(allowed)}") for name, person, role, allowed in RECEIVERS])
def test_alerts_reach_people_with_a_receiving_role_who_reach_the_job(person: Caller, role, allowed):
    assert policy.decide_alert_recipient(person, on_job(person, role=role)).allowed is allowed


def test_an_account_taken_off_the_job_receives_no_alerts():
    person = member("trade_contractor")
    assert not policy.decide_alert_recipient(person, JobFacts(JOB, None, project_role="member"))


def test_a_guest_whose_sponsor_left_the_job_receives_no_alerts():
    sponsor = _account("trade_contractor", "acc-sponsor")
    guest = Caller(_user("administrator", "acc-guest"), _account("guest_contractor", "acc-guest",
                                                                  sponsor="acc-sponsor"))
    facts = JobFacts(JOB, entry("acc-guest", "guest_contractor", sponsor="acc-sponsor"), project_role="member",
                     sponsor=sponsor, sponsor_grant=None)
    assert not policy.decide_alert_recipient(guest, facts)
    live = JobFacts(JOB, entry("acc-guest", "guest_contractor", sponsor="acc-sponsor"), project_role="member",
                    sponsor=sponsor, sponsor_grant=entry("acc-sponsor", "trade_contractor"))
    assert policy.decide_alert_recipient(guest, live)
