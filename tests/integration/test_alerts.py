"""Jobsite alerts through the notifications handler: who may send, who receives (by preference,
through the queue), the roll-call and its acknowledgments, and who sees them."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from tests.integration.conftest import Identity, call
from tests.integration.notify import Person, account, drain_all, emailed, emails, grant, job, ok, person, role, sms

N = "notifications"
MESSAGE = {"message": "Evacuate: gas leak at gate 2. Assemble at the car park."}


@dataclass
class Site:
    admin: Identity
    job_id: str
    gc_lead: Person
    member: Person
    alerts_only: Person
    trade_lead: Person
    not_on_jobsite: Person
    editor: Person  # staff with job.edit, no role


@pytest.fixture
def site(super_admin, resources) -> Site:
    admin = super_admin
    job_id = job(admin)
    trade_id, _ = account(admin, "trade_contractor")
    grant(admin, job_id, trade_id)
    people = {"gc_lead": person(admin, "basic_user_plus", sms=True),  # a GC lead without job.edit
              "member": person(admin, "administrator", trade_id, email=False, sms=True),
              "alerts_only": person(admin, "administrator", trade_id, email=True),
              "trade_lead": person(admin, "administrator", trade_id, email=False, sms=False),
              "not_on_jobsite": person(admin, "administrator", trade_id),
              "editor": person(admin, "operations_user")}
    for name in ("gc_lead", "member", "alerts_only", "trade_lead"):
        role(admin, job_id, people[name], {"gc_lead": "lead", "trade_lead": "lead"}.get(name, name))
    drain_all(resources)
    from moto.ses.models import ses_backends

    ses_backends["123456789012"]["us-east-1"].sent_messages.clear()
    return Site(admin, job_id, **people)


def _send(who: Identity, job_id: str, body=None, headers=None):
    return call(N, "post_alerts.json", who, path={"job_id": job_id}, body=MESSAGE if body is None else body,
                headers=headers)


def _get(who: Identity, job_id: str, alert_id: str):
    return call(N, "get_alert.json", who, path={"job_id": job_id, "alert_id": alert_id})


def _ack(who: Identity, job_id: str, alert_id: str):
    return call(N, "post_alert_ack.json", who, path={"job_id": job_id, "alert_id": alert_id})


# ------------------------------------------------------------ sending
def test_gc_lead_alerts_everyone_with_a_role_by_their_preferences(site, resources):
    # When
    reply = _send(site.gc_lead.who, site.job_id)
    drain_all(resources)
    # Then: lead, member, alerts_only and the trade lead are on it; not_on_jobsite and the editor are not
    accepted = ok(reply, 202)
    assert accepted["recipients"] == 4 and accepted["unreachable"] == 1  # the trade lead turned both channels off
    assert emailed() == sorted([site.gc_lead.email, site.alerts_only.email])
    texts = dict(sms())
    assert set(texts) == {site.gc_lead.phone}  # the member's phone is the same test number
    assert "North wharf" in next(iter(texts.values())) and "Evacuate" in next(iter(texts.values()))


def test_staff_with_job_edit_may_send_without_a_role(site):
    assert _send(site.editor.who, site.job_id).status == 202


@pytest.mark.parametrize("sender", ["member", "alerts_only", "trade_lead", "not_on_jobsite"])
def test_people_who_are_not_gc_leads_nor_editors_may_not_send(site, sender):
    # When
    reply = _send(getattr(site, sender).who, site.job_id)
    # Then: they can see the job, so 403 (alerts_only and not_on_jobsite users see it through their account)
    assert reply.status == 403, reply.body


def test_another_tenants_job_is_404(site, operator):
    # Given: a second tenant's super admin
    other = ok(call("user_levels", "post_tenants.json", operator, headers={"idempotency-key": ""}))
    stranger = Identity(other["tenant_id"], other["admin_user_id"], other["owner_account_id"])
    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    # When / Then
    assert _send(stranger, site.job_id).status == 404
    assert call(N, "get_alerts.json", stranger, path={"job_id": site.job_id}).status == 404
    assert _get(stranger, site.job_id, alert_id).status == 404
    assert _ack(stranger, site.job_id, alert_id).status == 404


def test_archived_job_takes_no_alerts(site):
    # Given
    ok(call("job_access", "post_job_archive.json", site.admin, path={"job_id": site.job_id}))
    # When / Then
    assert _send(site.gc_lead.who, site.job_id).status == 409


@pytest.mark.parametrize("body", [{}, {"message": ""}, {"message": "   "}, {"message": "x" * 1001},
                                  {"message": "hi", "to": "everyone"}, {"message": 5}, {"message": None},
                                  {"message": "gas\u0000leak"}, {"message": "\u001b[2Jcleared"},
                                  {"message": "Evacuate.\tNow."}, {"message": "Gate \u202e1 etag"}])
def test_bad_messages_are_422_naming_the_field(site, body):
    reply = _send(site.gc_lead.who, site.job_id, body=body)
    assert reply.status == 422, reply.body
    assert [e["field"] for e in reply.body["errors"]] in (["message"], ["to"])


def test_a_message_keeps_its_line_breaks(site, resources):
    # When: sent with a Windows line end and a plain one
    assert _send(site.gc_lead.who, site.job_id, body={"message": "Evacuate.\r\nAssemble at gate 1.\nNow."}).status == 202
    drain_all(resources)
    # Then: each line of the message is a line of the email, set apart from the email's own
    body = next(body for to, _, body in emails() if to == site.alerts_only.email)
    assert "| Evacuate.\n| Assemble at gate 1.\n| Now.\n" in body


def test_repeating_a_send_with_its_idempotency_key_alerts_once(site, resources):
    # When
    first = _send(site.gc_lead.who, site.job_id, headers={"idempotency-key": "evac-1"})
    again = _send(site.gc_lead.who, site.job_id, headers={"idempotency-key": "evac-1"})
    drain_all(resources)
    # Then
    assert first.status == again.status == 202 and first.body == again.body
    assert len(ok(call(N, "get_alerts.json", site.gc_lead.who, path={"job_id": site.job_id}))["items"]) == 1
    assert emailed() == sorted([site.gc_lead.email, site.alerts_only.email])


# ------------------------------------------------------------ roll-call and acknowledgments
def test_acknowledging_keeps_the_first_time_and_shows_on_the_roll_call(site):
    # Given
    from datetime import UTC, datetime, timedelta

    from sitegate import clock

    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    clock.freeze(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    first = ok(_ack(site.alerts_only.who, site.job_id, alert_id))
    # When: acknowledged again later
    clock.freeze(datetime(2026, 11, 23, 9, 0, tzinfo=UTC) + timedelta(minutes=5))
    again = ok(_ack(site.alerts_only.who, site.job_id, alert_id))
    # Then
    assert first == again == {"alert_id": alert_id, "acknowledged_at": "2026-11-23T09:00:00+00:00"}
    roll = ok(_get(site.gc_lead.who, site.job_id, alert_id))
    acked = {r["user_id"]: r["acknowledged_at"] for r in roll["recipients"]}
    assert acked[site.alerts_only.who.user_id] == "2026-11-23T09:00:00+00:00"
    assert acked[site.member.who.user_id] is None
    assert roll["acknowledged"] == 1 and len(roll["recipients"]) == 4
    assert roll["message"] == MESSAGE["message"] and roll["sent_by"] == site.gc_lead.who.user_id


def test_racing_acknowledgments_all_answer_the_one_first_time(site):
    # Given
    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    answers: list[str] = []

    def ack() -> None:
        answers.append(ok(_ack(site.member.who, site.job_id, alert_id))["acknowledged_at"])

    # When
    threads = [threading.Thread(target=ack) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then
    assert len(answers) == 8 and len(set(answers)) == 1


def test_someone_not_on_the_roll_call_cannot_acknowledge(site):
    # Given
    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    # When / Then: to a job user who may not see alerts, an alert not sent to them does not exist
    assert _ack(site.not_on_jobsite.who, site.job_id, alert_id).status == 404
    # ... and an editor who may see the roll-call, but is not on it, is refused
    assert _ack(site.editor.who, site.job_id, alert_id).status == 403


def test_a_person_given_a_role_after_the_alert_is_not_on_its_roll_call(site):
    # Given
    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    role(site.admin, site.job_id, site.not_on_jobsite, "member")
    # When / Then
    assert _ack(site.not_on_jobsite.who, site.job_id, alert_id).status == 404


@pytest.mark.parametrize("viewer", ["member", "alerts_only", "trade_lead"])
def test_only_gc_leads_and_editors_see_alerts(site, viewer):
    # Given
    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    who = getattr(site, viewer).who
    # When / Then: recipients who can see the job are refused, list and roll-call alike
    assert call(N, "get_alerts.json", who, path={"job_id": site.job_id}).status == 403
    assert _get(who, site.job_id, alert_id).status == 403
    assert ok(_get(site.editor.who, site.job_id, alert_id))["alert_id"] == alert_id


def test_unknown_alert_is_404(site):
    assert _get(site.gc_lead.who, site.job_id, "0" * 32).status == 404
    assert _ack(site.member.who, site.job_id, "0" * 32).status == 404
    assert _get(site.gc_lead.who, site.job_id, "a#b").status == 404


def test_an_alert_of_another_job_is_404_on_this_one(site, super_admin):
    # Given
    other_job = job(super_admin, "Elsewhere")
    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    # When / Then
    assert _get(super_admin, other_job, alert_id).status == 404
    assert _ack(super_admin, other_job, alert_id).status == 404


def test_alerts_list_newest_first_in_pages(site):
    # Given
    from datetime import UTC, datetime

    from sitegate import clock

    ids = []
    for minute in range(3):
        clock.freeze(datetime(2026, 11, 23, 9, minute, tzinfo=UTC))
        ids.append(ok(_send(site.gc_lead.who, site.job_id, body={"message": f"m{minute}"}), 202)["alert_id"])
    # When
    first = ok(call(N, "get_alerts.json", site.gc_lead.who, path={"job_id": site.job_id}, query={"limit": "2"}))
    second = ok(call(N, "get_alerts.json", site.gc_lead.who, path={"job_id": site.job_id},
                     query={"limit": "2", "cursor": first["next_cursor"]}))
    # Then
    assert [a["alert_id"] for a in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    assert first["items"][0]["recipient_count"] == 4 and first["items"][0]["acknowledged"] == 0


def test_a_cursor_of_another_list_is_422(site):
    from sitegate.data import core

    cursor = core.encode_cursor({"PK": "T#x#JOB#y", "SK": "ALERT#1"})
    reply = call(N, "get_alerts.json", site.gc_lead.who, path={"job_id": site.job_id}, query={"cursor": cursor})
    assert reply.status == 422


# ------------------------------------------------------------ cost
@pytest.mark.parametrize(("event", "status"), [("post_alerts.json", 202), ("get_alerts.json", 200),
                                               ("get_alert.json", 200), ("post_alert_ack.json", 200)])
def test_every_alert_route_is_authorized_in_one_read_first(site, event, status):
    # Given
    from sitegate.data import aws

    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    calls: list[str] = []

    def count(model, **_):
        calls.append(model.name)

    aws.dynamodb_client().meta.events.register("before-call.dynamodb", count)
    try:
        # When
        reply = call(N, event, site.gc_lead.who, path={"job_id": site.job_id, "alert_id": alert_id},
                     body=MESSAGE if event == "post_alerts.json" else None)
    finally:
        aws.dynamodb_client().meta.events.unregister("before-call.dynamodb", count)
    # Then: the caller on the job in one BatchGetItem, then a few calls of its own, none a Scan
    assert reply.status == status, reply.body
    assert calls[0] == "BatchGetItem" and "Scan" not in calls and len(calls) <= 7, calls
