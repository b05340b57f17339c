"""Jobsite alerts through the notifications handler: who may send, who receives (by preference,
through the queue), the roll-call and its acknowledgments, and who sees them."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from tests.integration.conftest import Identity, call
from tests.integration.notify import Person, account, drain, drain_all, emailed, emails, grant, job, ok, person, role, sms

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


def _ack(who: Identity, job_id: str, alert_id: str, body=None):
    return call(N, "post_alert_ack.json", who, path={"job_id": job_id, "alert_id": alert_id}, body=body)


def _close(who: Identity, job_id: str, alert_id: str):
    return call(N, "post_alert_close.json", who, path={"job_id": job_id, "alert_id": alert_id})


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
    me = site.alerts_only.who.user_id
    assert first == again == {"alert_id": alert_id, "user_id": me, "acknowledged_at": "2026-11-23T09:00:00+00:00",
                              "acknowledged_by": me}
    roll = ok(_get(site.gc_lead.who, site.job_id, alert_id))
    acked = {r["user_id"]: r["acknowledged_at"] for r in roll["recipients"]}
    assert acked[site.alerts_only.who.user_id] == "2026-11-23T09:00:00+00:00"
    assert acked[site.member.who.user_id] is None
    assert roll["acknowledged"] == 1 and len(roll["recipients"]) == roll["recipient_count"] == 4
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
                                               ("get_alert.json", 200), ("post_alert_ack.json", 200),
                                               ("post_alert_close.json", 200)])
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


# ------------------------------------------------------------ at evacuation scale
def test_each_recipient_is_an_item_of_its_own_and_the_roll_call_pages(site):
    # Given
    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    # When: the roll-call read two at a time
    first = ok(call(N, "get_alert.json", site.gc_lead.who, path={"job_id": site.job_id, "alert_id": alert_id},
                    query={"limit": "2"}))
    second = ok(call(N, "get_alert.json", site.gc_lead.who, path={"job_id": site.job_id, "alert_id": alert_id},
                     query={"limit": "2", "cursor": first["next_cursor"]}))
    # Then: four people, each once, each with the channels their preferences give, queued or sent
    people = [r["user_id"] for r in first["recipients"] + second["recipients"]]
    assert len(first["recipients"]) == 2 and sorted(people) == people and len(set(people)) == 4
    assert first["recipient_count"] == 4
    if second["next_cursor"] is not None:  # a page that ended exactly at the end may still hand a cursor
        assert ok(call(N, "get_alert.json", site.gc_lead.who, path={"job_id": site.job_id, "alert_id": alert_id},
                       query={"limit": "2", "cursor": second["next_cursor"]}))["recipients"] == []
    by_id = {r["user_id"]: r for r in first["recipients"] + second["recipients"]}
    assert set(by_id[site.member.who.user_id]["channels"]) == {"sms"}
    assert by_id[site.trade_lead.who.user_id]["channels"] == {}
    from sitegate import keys
    from sitegate.data import core

    items = core.query_all_items(keys.alert_partition(site.admin.tenant_id, alert_id), keys.ALERT_RECIPIENT_PREFIX)
    assert len(items) == 4
    head = core.get_raw(keys.alert(site.admin.tenant_id, site.job_id, alert_id))
    assert "recipients" not in head and "acks" not in head


def test_sending_records_each_channels_state_and_a_failure_with_its_reason(site, resources):
    # Given
    from tests.integration.notify import FailSends

    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    # When: SES refuses the alerts-only person's email
    with FailSends(site.alerts_only.email):
        drain(resources)
    roll = {r["user_id"]: r for r in ok(_get(site.gc_lead.who, site.job_id, alert_id))["recipients"]}
    # Then
    assert roll[site.gc_lead.who.user_id]["channels"] == {"email": "sent", "sms": "sent"}
    assert roll[site.member.who.user_id]["channels"] == {"sms": "sent"}
    failed = roll[site.alerts_only.who.user_id]
    assert failed["channels"] == {"email": "failed"} and "injected" in failed["reasons"]["email"]
    # ... and the queue's retry sends it, once
    drain_all(resources)
    roll = {r["user_id"]: r for r in ok(_get(site.gc_lead.who, site.job_id, alert_id))["recipients"]}
    assert roll[site.alerts_only.who.user_id]["channels"] == {"email": "sent"}
    assert emailed() == sorted([site.gc_lead.email, site.alerts_only.email])


def test_a_big_roll_call_is_sent_in_batches_each_person_once(site, resources, monkeypatch):
    # Given: batches of one recipient, so four people make four batches
    from sitegate import alerts

    monkeypatch.setattr(alerts, "BATCH_SIZE", 1)
    texts_before = len(sms())
    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    # When
    first_round = drain(resources)
    drain_all(resources)
    # Then: the event's own delivery sent one batch and queued three; everyone had it once
    assert first_round == [(1, 0)]
    assert emailed() == sorted([site.gc_lead.email, site.alerts_only.email])
    assert sorted(to for to, _ in sms()[texts_before:]) == sorted([site.gc_lead.phone, site.member.phone])
    roll = ok(_get(site.gc_lead.who, site.job_id, alert_id))["recipients"]
    assert all(set(r["channels"].values()) <= {"sent"} for r in roll)


def test_a_gc_lead_acknowledges_on_behalf_with_a_note(site):
    # Given
    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    member = site.member.who.user_id
    # When
    done = ok(_ack(site.gc_lead.who, site.job_id, alert_id,
                   {"on_behalf_of_user_id": member, "note": "seen at the muster point"}))
    # Then
    assert done["user_id"] == member and done["acknowledged_by"] == site.gc_lead.who.user_id
    roll = {r["user_id"]: r for r in ok(_get(site.gc_lead.who, site.job_id, alert_id))["recipients"]}
    assert roll[member]["note"] == "seen at the muster point"
    assert roll[member]["acknowledged_by"] == site.gc_lead.who.user_id
    # ... and the member's own acknowledgment later keeps the first
    assert ok(_ack(site.member.who, site.job_id, alert_id))["acknowledged_by"] == site.gc_lead.who.user_id


def test_acknowledging_on_behalf_needs_a_gc_lead_a_note_and_a_recipient(site):
    # Given
    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    member = site.member.who.user_id
    on_behalf = {"on_behalf_of_user_id": member, "note": "seen"}
    # When / Then: an editor (no role) may see the roll-call but not vouch for anyone
    assert _ack(site.editor.who, site.job_id, alert_id, on_behalf).status == 403
    # ... a recipient who is not a GC lead may not see the alerts: for them the alert is not there
    assert _ack(site.alerts_only.who, site.job_id, alert_id, on_behalf).status == 404
    assert _ack(site.gc_lead.who, site.job_id, alert_id, {"on_behalf_of_user_id": member}).status == 422
    stranger = {"on_behalf_of_user_id": site.not_on_jobsite.who.user_id, "note": "seen"}
    assert _ack(site.gc_lead.who, site.job_id, alert_id, stranger).status == 422
    assert _ack(site.gc_lead.who, site.job_id, alert_id, {"note": "x" * 501}).status == 422
    assert ok(_get(site.gc_lead.who, site.job_id, alert_id))["acknowledged"] == 0


def test_closing_an_alert_once_by_who_may_send(site):
    # Given
    alert_id = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    # When / Then
    assert _close(site.member.who, site.job_id, alert_id).status == 403
    closed = ok(_close(site.gc_lead.who, site.job_id, alert_id))
    assert closed["status"] == "closed" and closed["closed_by"] == site.gc_lead.who.user_id
    assert _close(site.editor.who, site.job_id, alert_id).status == 409
    listed = ok(call(N, "get_alerts.json", site.gc_lead.who, path={"job_id": site.job_id}))["items"]
    assert [a["status"] for a in listed if a["alert_id"] == alert_id] == ["closed"]


@pytest.mark.parametrize("body", [{"message": "Evacuate", "severity": "panic"},
                                  {"message": "Evacuate", "escalate_after_minutes": 0},
                                  {"message": "Evacuate", "escalate_after_minutes": 61}])
def test_bad_severity_or_escalation_is_422(site, body):
    assert _send(site.gc_lead.who, site.job_id, body).status == 422


def test_severity_defaults_to_urgent_and_is_kept(site):
    urgent = ok(_send(site.gc_lead.who, site.job_id), 202)["alert_id"]
    info = ok(_send(site.gc_lead.who, site.job_id, {"message": "Crane lift at 2pm", "severity": "info"}), 202)
    assert ok(_get(site.gc_lead.who, site.job_id, urgent))["severity"] == "urgent"
    assert ok(_get(site.gc_lead.who, site.job_id, info["alert_id"]))["severity"] == "info"


def test_three_hundred_racing_acknowledgments_are_all_counted(resources):
    # Given: an alert's roll-call of 300 people, written as an accept writes it
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    from sitegate import audit
    from sitegate.data import alert_store
    from sitegate.models.stored import AlertRecipient

    tenant, alert_id = uuid.uuid4().hex, uuid.uuid4().hex
    roll = [AlertRecipient(tenant_id=tenant, alert_id=alert_id, job_id="j", user_id=f"u{i:04d}", name=f"P{i}",
                           account_id="a") for i in range(300)]
    assert alert_store.write_roll_call(roll) == 3

    def ack(r: AlertRecipient) -> str | None:
        with audit.as_system(tenant):  # each thread its own actor, as each request has
            entry = audit.entry("alert.acknowledge", audit.target("alert", alert_id, "j"), after={"user_id": r.user_id})
            return alert_store.acknowledge(r, "2026-11-23T09:00:00+00:00", r.user_id, None, entry).acknowledged_at

    # When: all at once, and a second round repeating them
    with ThreadPoolExecutor(max_workers=48) as pool:
        answers = list(pool.map(ack, roll + roll[:50]))
    # Then: every acknowledgment answered, and the count is exact
    assert all(answers)
    assert alert_store.acknowledged_count(tenant, alert_id) == 300
    page = alert_store.recipients_page(tenant, alert_id, 300, None)
    assert all(r.acknowledged_at for r in page.items) and len(page.items) == 300
