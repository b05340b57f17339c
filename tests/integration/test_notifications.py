"""Domain events to email and SMS through the real path: SNS topic -> SQS queue -> the
notifications function (drained as the event-source mapping does), against moto's SES and SNS.
Who hears of what for each kind, preferences, exactly once, failures retried, poison parked."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sitegate.data import events
from sitegate.models.events import DeliveryEvent, InvoiceIssued
from tests.integration.conftest import Identity, call, table_items
from tests.integration.notify import (
    FailSends,
    Person,
    account,
    dead_letters,
    drain,
    drain_all,
    emailed,
    emails,
    event_json,
    grant,
    job,
    person,
    publish,
    role,
    send_raw,
    sms,
)


@dataclass
class Site:
    admin: Identity
    job_id: str
    trade_id: str
    gc_lead: Person
    gc_member: Person
    trade_lead: Person
    trade_member: Person
    other_trade_lead: Person
    disabled_gc_lead: Person


@pytest.fixture
def site(super_admin) -> Site:
    """A job with GC and trade leads and members, another trade's lead, and a disabled GC lead."""
    admin = super_admin
    job_id = job(admin)
    trade_id, _ = account(admin, "trade_contractor")
    other_id, _ = account(admin, "trade_contractor")
    grant(admin, job_id, trade_id)
    grant(admin, job_id, other_id)
    people = {
        "gc_lead": person(admin, "operations_user"), "gc_member": person(admin, "basic_user_plus"),
        "trade_lead": person(admin, "administrator", trade_id), "trade_member": person(admin, "administrator", trade_id),
        "other_trade_lead": person(admin, "administrator", other_id),
        "disabled_gc_lead": person(admin, "operations_user"),
    }
    for name, value in people.items():
        role(admin, job_id, value, "member" if name.endswith("member") else "lead")
    call("user_levels", "post_user_disable.json", admin, path={"user_id": people["disabled_gc_lead"].who.user_id})
    drain_all(resources=_resources())  # the access.granted events of the setup
    _forget_sent()
    return Site(admin, job_id, trade_id, **people)


def _resources():
    import os

    from local.template import LocalResources

    return LocalResources(os.environ["TABLE_NAME"], "", "", os.environ["EVENTS_TOPIC_ARN"], _queue_url("notifications"),
                          _queue_url("notifications-dlq"), os.environ["SENDER_EMAIL"], {})


def _queue_url(suffix: str) -> str:
    import os

    import boto3

    prefix = os.environ["TABLE_NAME"].removesuffix("-table")
    return boto3.client("sqs", region_name="us-east-1").get_queue_url(QueueName=f"{prefix}-{suffix}")["QueueUrl"]


def _forget_sent() -> None:
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    ses_backends["123456789012"]["us-east-1"].sent_messages.clear()
    sns_backends["123456789012"]["us-east-1"].sms_messages.clear()


def _delivery(site: Site, kind: str, *, requested_by: Person, awaiting: list[str], by: Person | None = None,
              reason: str | None = None, for_trade: bool = True):
    data = DeliveryEvent(job_id=site.job_id, job_name="North wharf", delivery_id="d-1",
                         requested_by=requested_by.who.user_id,
                         for_account_id=site.trade_id if for_trade else site.admin.account_id,
                         company_name="Steel Co" if for_trade else "GC Ltd", location_name="Gate 2",
                         start="2026-11-23T10:00:00+13:00", end="2026-11-23T12:30:00+13:00", awaiting=awaiting,
                         by=by.who.user_id if by else None, reason=reason)
    return events.new_event(kind, site.admin.tenant_id, data)


# ------------------------------------------------------------ who hears of what
def test_delivery_needing_both_approvals_tells_the_gc_leads_and_the_booked_trades_leads(site, resources):
    # Given: a trade member's request, awaiting the GC and the trade
    event = _delivery(site, "delivery.requested", requested_by=site.trade_member, awaiting=["gc", "trade"])
    # When
    publish(event)
    drain(resources)
    # Then: the active GC lead and this trade's lead; no members, no other trade, not the disabled lead
    assert emailed() == sorted([site.gc_lead.email, site.trade_lead.email])


def test_delivery_awaiting_only_the_gc_tells_only_the_gc_leads(site, resources):
    # When
    publish(_delivery(site, "delivery.requested", requested_by=site.trade_lead, awaiting=["gc"]))
    drain(resources)
    # Then
    assert emailed() == [site.gc_lead.email]


def test_delivery_email_names_the_job_the_company_and_the_window(site, resources):
    # When
    publish(_delivery(site, "delivery.requested", requested_by=site.trade_member, awaiting=["gc"]))
    drain(resources)
    # Then
    (_, subject, body), = emails()
    for text in (subject, body):
        assert "North wharf" in text and "Steel Co" in text and "10:00-12:30" in text


def test_fully_approved_delivery_tells_the_requester(site, resources):
    # When
    publish(_delivery(site, "delivery.approved", requested_by=site.trade_member, awaiting=[], by=site.gc_lead))
    drain(resources)
    # Then
    assert emailed() == [site.trade_member.email]


def test_partly_approved_delivery_asks_nobody_again(site, resources):
    # Given: the trade lead approved; the GC's approval is still pending (its leads were asked with the request)
    event = _delivery(site, "delivery.approved", requested_by=site.trade_member, awaiting=["gc"], by=site.trade_lead)
    # When
    publish(event)
    drain(resources)
    # Then: no second "to approve" for the GC leads, and nothing yet for the requester
    assert emailed() == []


def test_rejected_delivery_tells_the_requester_with_the_reason(site, resources):
    # When
    publish(_delivery(site, "delivery.rejected", requested_by=site.trade_member, awaiting=[], by=site.gc_lead,
                      reason="crane booked"))
    drain(resources)
    # Then
    (to, _, body), = emails()
    assert to == site.trade_member.email and "crane booked" in body


def test_cancelled_delivery_tells_the_leads_but_not_who_cancelled(site, resources):
    # When: the requester cancels
    publish(_delivery(site, "delivery.cancelled", requested_by=site.trade_member, awaiting=["gc"],
                      by=site.trade_member))
    drain(resources)
    # Then
    assert emailed() == sorted([site.gc_lead.email, site.trade_lead.email])


def test_cancelled_by_a_gc_lead_tells_the_requester(site, resources):
    # When
    publish(_delivery(site, "delivery.cancelled", requested_by=site.trade_member, awaiting=[], by=site.gc_lead))
    drain(resources)
    # Then
    assert emailed() == sorted([site.trade_member.email, site.trade_lead.email])


def test_access_granted_tells_the_accounts_administrators(super_admin, resources):
    # Given: a vendor with its master administrator and a second administrator
    vendor_id, master = account(super_admin, "vendor")
    second = person(super_admin, "administrator", vendor_id)
    job_id = job(super_admin, "South pier")
    # When: the grant itself publishes the event
    grant(super_admin, job_id, vendor_id)
    drain(resources)
    # Then
    assert emailed() == sorted([master.email, second.email])
    assert all("South pier" in subject for _, subject, _ in emails())
    assert not [i for i in table_items() if i.get("entity") == "OutboxEvent"]  # published: the outbox is empty


def test_an_account_archived_before_its_access_notice_goes_out_is_not_told(super_admin, resources):
    # Given: a vendor put on a job, then archived before the notice is delivered
    vendor_id, master = account(super_admin, "vendor")
    job_id = job(super_admin, "South pier")
    grant(super_admin, job_id, vendor_id)
    call("user_levels", "post_account_archive.json", super_admin, path={"account_id": vendor_id})
    # When
    drain(resources)
    # Then: an archived account's users get nothing (the policy's standing), the notice included
    assert master.email not in emailed()


def test_invoice_issued_tells_invoicing_and_super_admin_users_only(super_admin, resources):
    # Given
    invoicing = person(super_admin, "invoicing")
    person(super_admin, "operations_user")
    me = call("user_levels", "get_me.json", super_admin).body["user"]
    # When
    publish(events.new_event("invoice.issued", super_admin.tenant_id,
                             InvoiceIssued(period="2026-10", total="552.00", currency="NZD")))
    drain(resources)
    # Then
    assert emailed() == sorted([invoicing.email, me["email"]])
    assert "552.00 NZD" in emails()[0][1]


# ------------------------------------------------------------ preferences
@pytest.mark.parametrize(("email", "sms_on", "phone", "channels"), [
    (True, False, "+64210000009", {"email"}),
    (False, True, "+64210000009", {"sms"}),
    (True, True, "+64210000009", {"email", "sms"}),
    (False, False, "+64210000009", set()),
    (True, True, None, {"email"}),  # SMS needs a phone
])
def test_each_person_is_told_by_the_channels_they_chose(super_admin, resources, email, sms_on, phone, channels):
    # Given
    invoicing = person(super_admin, "invoicing", email=email, sms=sms_on and phone is not None, phone=phone)
    call("user_levels", "put_notification_preferences.json", super_admin, body={"email": False, "sms": False})
    # When
    publish(events.new_event("invoice.issued", super_admin.tenant_id,
                             InvoiceIssued(period="2026-10", total="9.00", currency="NZD")))
    drain(resources)
    # Then
    got = {"email" for to in emailed() if to == invoicing.email} | {"sms" for to, _ in sms() if to == phone}
    assert got == channels
    assert all(len(text) <= 320 for _, text in sms())


def test_sms_names_the_job_and_stays_within_320_characters(site, resources):
    # Given: the GC lead wants SMS only, and the job has a long name
    call("user_levels", "put_notification_preferences.json", site.gc_lead.who, body={"email": False, "sms": True})
    event = _delivery(site, "delivery.requested", requested_by=site.trade_lead, awaiting=["gc"])
    event.data["job_name"] = "North wharf " + "x" * 400
    # When
    publish(event)
    drain(resources)
    # Then
    (to, text), = sms()
    assert to == site.gc_lead.phone and text.startswith("SiteGate North wharf") and len(text) <= 320


# ------------------------------------------------------------ exactly once, retries, poison
def test_the_same_event_delivered_twice_sends_once(site, resources):
    # Given
    event = _delivery(site, "delivery.requested", requested_by=site.trade_member, awaiting=["gc", "trade"])
    # When: SNS delivers it twice (at-least-once), in two batches
    publish(event)
    drain(resources)
    publish(event)
    results = drain(resources)
    # Then: the repeat succeeds and sends nothing
    assert results == [(1, 0)]
    assert emailed() == sorted([site.gc_lead.email, site.trade_lead.email])


def test_an_ses_failure_fails_only_its_record_and_its_retry_sends_only_what_failed(site, resources):
    # Given: two events in one batch; SES refuses the trade lead's email
    first = _delivery(site, "delivery.requested", requested_by=site.trade_member, awaiting=["gc", "trade"])
    second = _delivery(site, "delivery.approved", requested_by=site.trade_member, awaiting=[], by=site.gc_lead)
    publish(first)
    publish(second)
    # When
    with FailSends(site.trade_lead.email):
        failing = drain(resources)
    # Then: one record failed, the other went through; the GC lead was told once already
    assert failing == [(1, 1)]
    assert emailed() == sorted([site.gc_lead.email, site.trade_member.email])
    # When: the queue brings the failed record back
    retried = drain(resources)
    # Then: only the trade lead's email is sent now
    assert retried == [(1, 0)]
    assert emailed() == sorted([site.gc_lead.email, site.trade_lead.email, site.trade_member.email])


@pytest.mark.parametrize("body", [
    "not json {",
    event_json("delivery.exploded", "t", {}),
    event_json("invoice.issued", "t", {"period": "2026-10"}),  # data not fitting its kind
    event_json("invoice.issued", "t", {"period": "2026-10", "total": "1.00", "currency": "NZD", "extra": 1}),
    event_json("delivery.requested", "t", {  # fits its kind, but names a job no key can hold
        "job_id": "a#b", "job_name": "J", "delivery_id": "d", "requested_by": "u", "for_account_id": "a",
        "company_name": "C", "location_name": "L", "start": "2026-11-23T10:00:00+13:00",
        "end": "2026-11-23T11:00:00+13:00", "awaiting": ["gc"]}),
])
def test_a_poison_message_ends_in_the_dead_letter_queue_without_blocking_the_others(super_admin, resources, body):
    # Given: a poison message and a good event in the queue
    send_raw(resources, body)
    publish(events.new_event("invoice.issued", super_admin.tenant_id,
                             InvoiceIssued(period="2026-10", total="1.00", currency="NZD")))
    # When: the queue is drained past maxReceiveCount (5)
    first = drain(resources)
    drain(resources, rounds=6)
    # Then: the good event went through at once; the poison rests in the dead-letter queue
    assert first == [(1, 1)]
    assert len(emailed()) == 1
    assert dead_letters(resources) == [body]


def test_a_send_in_doubt_is_not_sent_again_and_the_event_is_parked(site, resources):
    # Given: a crash left a claim 'pending' (sent or not, nobody knows)
    from sitegate.data import send_store

    event = _delivery(site, "delivery.approved", requested_by=site.trade_member, awaiting=[], by=site.gc_lead)
    send_store.claim_sends(event.tenant_id, event.event_id, [(site.trade_member.who.user_id, "email")])
    # When
    publish(event)
    drain(resources, rounds=7)
    # Then: no duplicate risked; the event waits in the dead-letter queue for an operator
    assert emailed() == []
    assert len(dead_letters(resources)) == 1


def test_an_event_sns_did_not_take_reaches_people_through_the_stream(super_admin, resources):
    # Given: SNS refuses the access.granted publication of a grant
    from botocore.exceptions import ClientError

    from sitegate.data import aws
    from tests.integration.notify import outbox_stream

    stream = outbox_stream(resources)
    vendor_id, master = account(super_admin, "vendor")
    job_id = job(super_admin, "East dock")

    def refuse(**_):
        raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "Publish")

    aws.sns().meta.events.register("before-call.sns.Publish", refuse)
    try:
        grant(super_admin, job_id, vendor_id)
    finally:
        aws.sns().meta.events.unregister("before-call.sns.Publish", refuse)
    drain(resources)
    assert emailed() == []
    # When: the table's stream reaches the outbox publisher
    stream.drain()
    drain(resources)
    # Then
    assert emailed() == [master.email]
    assert not [i for i in table_items() if i.get("entity") == "OutboxEvent"]


def test_an_event_published_by_both_paths_reaches_each_person_once(super_admin, resources):
    # Given: an access grant published right after its commit, and the same event again from the
    # stream (the fast path's removal had not landed when the publisher looked)
    from sitegate.data import aws
    from tests.integration.notify import outbox_handler, outbox_stream

    records: list[dict] = []
    stream = outbox_stream(resources, invoke=lambda e: records.extend(e["Records"]))
    vendor_id, master = account(super_admin, "vendor")
    grant(super_admin, job(super_admin, "West dock"), vendor_id)
    stream.drain()
    [granted] = [r for r in records if '"access.granted"' in r["dynamodb"]["NewImage"]["event"]["S"]]
    aws.table().put_item(Item=_item_of(granted))  # back in the outbox
    assert outbox_handler()({"Records": [granted]})["published"] == 1
    # When
    drain_all(resources)
    # Then
    assert emailed() == [master.email]


def _item_of(record: dict) -> dict:
    from boto3.dynamodb.types import TypeDeserializer

    return {k: TypeDeserializer().deserialize(v) for k, v in record["dynamodb"]["NewImage"].items()}


def test_the_same_event_delivered_concurrently_sends_once(site, resources):
    # Given: SQS hands the same event to four instances at once
    import threading

    from sitegate import notifications

    event = _delivery(site, "delivery.requested", requested_by=site.trade_member, awaiting=["gc", "trade"])
    outcomes: list[str] = []

    def deliver() -> None:
        try:
            notifications.deliver(event)
            outcomes.append("done")
        except notifications.DeliveryIncomplete:
            outcomes.append("retry")  # saw another instance's claim in flight: its record is retried

    # When
    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    retried = notifications.deliver(event)  # the queue's retry of any that saw a claim in flight
    # Then: each lead had one email, whoever won each claim
    assert emailed() == sorted([site.gc_lead.email, site.trade_lead.email])
    assert "done" in outcomes or retried.duplicates == 2
    assert retried.sent == 0 and retried.duplicates == 2


# ------------------------------------------------------------ the template grants what the code calls
def _allowed(function: str) -> set[str]:
    from local.template import load_template

    statements = load_template()["Resources"][function]["Properties"]["Policies"][0]["Statement"]
    actions: set[str] = set()
    for statement in statements:
        found = statement["Action"]
        actions |= {found} if isinstance(found, str) else set(found)
    return actions


def test_the_notifications_function_may_make_the_calls_it_makes():
    assert {"ses:SendEmail", "sns:Publish", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:GetItem",
            "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} <= _allowed(
        "NotificationsFunction")
    assert not {a for a in _allowed("NotificationsFunction") if a.endswith("*")}


def test_job_access_may_publish_its_events():
    assert {"sns:Publish", "dynamodb:DeleteItem", "dynamodb:PutItem"} <= _allowed("JobAccessFunction")


def test_names_with_line_breaks_make_a_one_line_subject(site, resources):
    # Given: a job named across two lines
    event = _delivery(site, "delivery.requested", requested_by=site.trade_lead, awaiting=["gc"])
    event.data["job_name"] = "North\r\nwharf\x00"
    # When
    publish(event)
    drain(resources)
    # Then
    (_, subject, body), = emails()
    assert "North wharf" in subject and "\n" not in subject and "\r" not in subject and "\x00" not in body


def test_a_company_stored_with_a_line_break_writes_no_line_into_the_delivery_email(site, resources):
    # Given: a trade named before the text rule so as to forge a location and a window
    event = _delivery(site, "delivery.requested", requested_by=site.trade_lead, awaiting=["gc"])
    event.data["company_name"] = "Steel Co\nLocation: Gate 9\r\nWindow: Sun 01 Nov 2026 03:00-04:00 (+13:00)"
    # When
    publish(event)
    drain(resources)
    # Then: one Location and one Window line, the real ones; the name is on its own line, flattened
    (_, subject, body), = emails()
    lines = body.splitlines()
    assert [line for line in lines if line.startswith(("Location:", "Window:"))] == [
        "Location: Gate 2", "Window: Mon 23 Nov 2026 10:00-12:30 (+13:00)"]
    assert "Company: Steel Co Location: Gate 9 Window: Sun 01 Nov 2026 03:00-04:00 (+13:00)" in lines
    assert len(subject.splitlines()) == 1


# ---------------------------------------------------------------- customers connected by their code
def _customer(admin: Identity, codes: list[str]) -> tuple[str, str]:
    """A customer account with these codes and its master administrator's email."""
    address = f"customer-admin-{codes[0].lower()}@customer.example" if codes else "customer-admin@customer.example"
    made = call("user_levels", "post_accounts.json", admin, headers={"idempotency-key": ""},
                body={"kind": "customer", "name": f"Customer {codes}", "customer_codes": codes,
                      "admin": {"email": address, "name": "Cy Customer"}})
    assert made.status == 201, made.body
    return made.body["account_id"], address


def _job_with_code(admin: Identity, code: str | None, name: str) -> str:
    made = call("job_access", "post_jobs.json", admin, headers={"idempotency-key": ""},
                body={"job_number": f"J{code}" if code else "J0", "name": name, "customer_code": code})
    assert made.status == 201, made.body
    return made.body["job_id"]


def test_a_new_job_carrying_a_customers_code_tells_the_customers_administrators(super_admin, resources):
    # Given
    _, admin_email = _customer(super_admin, ["C501"])
    # When
    _job_with_code(super_admin, "C501", "East quay")
    drain_all(resources)
    # Then
    assert emailed() == [admin_email]
    assert "East quay" in emails()[0][1]


def test_a_code_added_to_a_customer_tells_its_administrators_of_each_job_once(super_admin, resources):
    # Given: two jobs with a code nobody carries yet, and a customer without it
    _job_with_code(super_admin, "C502", "West quay")
    _job_with_code(super_admin, "C503", "Dry dock")
    customer_id, admin_email = _customer(super_admin, ["C900"])
    # When: the codes are added, then the same change is made again
    for _ in range(2):
        reply = call("user_levels", "patch_account.json", super_admin, path={"account_id": customer_id},
                     body={"customer_codes": ["C900", "C502", "C503"]})
        assert reply.status == 200, reply.body
    drain_all(resources)
    # Then: one email per connected job, none for the repeat
    assert sorted(subject for to, subject, _ in emails() if to == admin_email) == [
        "Job access granted: Dry dock", "Job access granted: West quay"]


def test_a_job_given_a_customers_code_later_tells_the_customer(super_admin, resources):
    # Given
    _, admin_email = _customer(super_admin, ["C504"])
    job_id = _job_with_code(super_admin, None, "Pier 4")
    # When
    reply = call("job_access", "patch_job.json", super_admin, path={"job_id": job_id}, body={"customer_code": "C504"})
    assert reply.status == 200, reply.body
    drain_all(resources)
    # Then
    assert emailed() == [admin_email]


# ---------------------------------------------------------------- a send that raises what we do not expect
def test_a_send_that_raises_unexpectedly_keeps_the_other_sends_recorded_and_is_never_doubled(site, resources,
                                                                                             monkeypatch):
    # Given: the email to the GC lead raises something that is not a refusal (found in review: the
    # sends already made were then never marked sent)
    from sitegate.data import messaging

    real = messaging.send_email

    def flaky(to: str, subject: str, body: str) -> str:
        if to == site.gc_lead.email:
            raise RuntimeError("connection reset while reading the answer")
        return real(to, subject, body)

    monkeypatch.setattr(messaging, "send_email", flaky)
    event = _delivery(site, "delivery.requested", requested_by=site.trade_member, awaiting=["gc", "trade"])
    # When: delivered, then redelivered by the queue
    publish(event)
    first = drain(resources)
    second = drain(resources)
    # Then: the record fails both times; the trade lead was emailed once and recorded as sent;
    # the GC lead's send stays in doubt (pending) and is not tried again
    assert first == [(0, 1)] and second == [(0, 1)]
    assert emailed() == [site.trade_lead.email]
    states = {i["SK"].split("#")[0]: i["state"] for i in table_items()
              if i.get("entity") == "SentMarker" and event.event_id in i["PK"]}
    assert states == {site.trade_lead.who.user_id: "sent", site.gc_lead.who.user_id: "pending"}


def test_a_requester_whose_company_left_the_job_is_not_told(site, resources):
    # Given: the trade member's company is taken off the job after it requested
    call("job_access", "delete_job_access.json", site.admin, path={"job_id": site.job_id, "account_id": site.trade_id})
    # When its delivery is cancelled by a GC lead
    publish(_delivery(site, "delivery.cancelled", requested_by=site.trade_member, awaiting=[], by=site.gc_lead))
    drain(resources)
    # Then: it has lost all access to the job, so it hears nothing of it (the trade's leads neither)
    assert site.trade_member.email not in emailed()
    assert site.trade_lead.email not in emailed()


def test_a_review_that_revokes_an_entry_tells_the_accounts_administrators(super_admin, resources):
    # Given: a vendor on a job, reviewed by an operations user who revokes it
    vendor_id, master = account(super_admin, "vendor")
    job_id = job(super_admin, "East quay")
    grant(super_admin, job_id, vendor_id)
    drain_all(resources)
    reviewer = person(super_admin, "operations_user")
    review = call("job_access", "post_access_reviews.json", super_admin, headers={"idempotency-key": ""},
                  body={"job_id": job_id, "reviewer_user_id": reviewer.who.user_id, "due": "2027-12-31"}).body
    who = reviewer.who
    assert call("job_access", "post_access_review_decisions.json", who, path={"review_id": review["review_id"]},
                body={"item_id": f"entry-{vendor_id}", "decision": "revoke"}).status == 200
    # When
    assert call("job_access", "post_access_review_close.json", who, path={"review_id": review["review_id"]}).status == 200
    drain(resources)
    # Then
    assert [(to, subject) for to, subject, _ in emails() if "removed" in subject] == [
        (master.email, "Job access removed: East quay")]
