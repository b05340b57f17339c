"""Billing through the billing handler: the monthly scheduled run, the invoice routes, the CSV
and the preview, on history made through the user_levels routes with the clock moved."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import boto3
import pytest

from local.gateway import LambdaContext
from sitegate import billing, clock, invoices
from sitegate.data import aws, core, invoice_store, tenant_store, user_store
from sitegate.models.billing import BillTenant
from sitegate.models.stored import StaffState, StateChange, Tenant
from tests.billing_data import write_billing_users
from tests.events import load_event
from tests.integration.conftest import Identity, call, handler, table_items

AUCKLAND = ZoneInfo("Pacific/Auckland")


def local(day: int, hour: int = 9, month: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=AUCKLAND)


def schedule_event(period: str | None = None, scheduled: str | None = None) -> dict:
    """The schedule's event as EventBridge Scheduler fills it in: its scheduled time (the test clock's now
    unless given) and, for the local run's kind, a named month."""
    event = load_event("billing/scheduled_period.json" if period else "billing/scheduled_monthly.json")
    event["time"] = scheduled or clock.now_iso()
    if period:
        event["detail"]["period"] = period
    return event


def bill_event(*bodies: str, message_ids: list[str] | None = None) -> dict:
    """A billing-queue batch as the event source delivers it, one record per body."""
    record = load_event("billing/sqs_bill_tenant.json")["Records"][0]
    ids = message_ids or [f"m-{n}" for n in range(len(bodies))]
    return {"Records": [{**record, "messageId": i, "body": b} for i, b in zip(ids, bodies, strict=True)]}


def queued() -> list[dict]:
    """Every message on the billing queue, taken off it (bodies parsed)."""
    sqs, url, found = boto3.client("sqs"), os.environ["BILLING_QUEUE_URL"], []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        found += [json.loads(m["Body"]) for m in got]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for n, m in enumerate(got)])
    return found


def drain_billing_queue() -> list[str]:
    """Deliver every queued billing message to the billing function, one per invocation (BatchSize 1);
    the ones it reports failed go back on the queue. Returns their tenant ids."""
    sqs, url, failed = boto3.client("sqs"), os.environ["BILLING_QUEUE_URL"], []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60).get("Messages", []):
        message = got[0]
        result = handler("billing")(bill_event(message["Body"], message_ids=[message["MessageId"]]),
                                    LambdaContext("billing"))
        if result["batchItemFailures"]:
            failed.append(message)
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    for message in failed:  # back for the next drain (SQS would after the visibility timeout)
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return [json.loads(m["Body"])["tenant_id"] for m in failed]


def run_billing(period: str | None = None) -> dict:
    """The monthly run end to end: the schedule's fan-out, then each tenant's message billed."""
    report = handler("billing")(schedule_event(period), LambdaContext("billing"))
    return {**report, "failed_tenants": drain_billing_queue()}


_emails = Counter[str]()


def add_user(admin: Identity, level: str, name: str | None = None, account_id: str | None = None) -> str:
    _emails["n"] += 1
    body = {"email": f"user{_emails['n']}@acme.example", "name": name or f"User {_emails['n']:03d}", "level": level}
    if account_id:
        body["account_id"] = account_id
    reply = call("user_levels", "post_users.json", admin, body=body, headers={"idempotency-key": ""})
    assert reply.status == 201, reply.body
    return reply.body["user_id"]


def disable(admin: Identity, user_id: str) -> None:
    assert call("user_levels", "post_user_disable.json", admin, path={"user_id": user_id}).status == 200


def get_csv(caller: Identity, period: str) -> tuple[int, str, dict[str, str]]:
    """GET /invoices/{period}/days.csv: status, body text and headers (the body is not JSON)."""
    event = load_event("billing/get_invoice_days_csv.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/invoices/{period}/days.csv"
    event["pathParameters"] = {"period": period}
    event["requestContext"]["authorizer"]["jwt"]["claims"].update({
        "custom:tenant_id": caller.tenant_id, "cognito:username": caller.user_id, "custom:account_id": caller.account_id})
    result = handler("billing")(event, LambdaContext("billing"))
    return int(result["statusCode"]), result.get("body") or "", result.get("headers") or {}


def who(admin: Identity, user_id: str) -> Identity:
    return Identity(admin.tenant_id, user_id, admin.account_id)


@pytest.fixture
def tenant(operator) -> Identity:
    """A tenant made in August 2026 (Pacific/Auckland), its Super Admin active since."""
    clock.freeze(local(20, month=8))
    reply = call("user_levels", "post_tenants.json", operator)
    assert reply.status == 201, reply.body
    return Identity(reply.body["tenant_id"], reply.body["admin_user_id"], reply.body["owner_account_id"])


def new_tenant(operator: Identity, name: str, timezone: str = "Pacific/Auckland"):
    reply = call("user_levels", "post_tenants.json", operator, headers={"idempotency-key": ""}, body={
        "name": name, "admin_email": f"admin@{name.lower()}.example", "admin_name": f"{name} Admin",
        "timezone": timezone})
    assert reply.status == 201, reply.body
    return reply


def seed_staff(admin: Identity, field: int, office: int) -> list[str]:
    """`field` field users and `office - 1` office users besides the Super Admin, made in August."""
    clock.freeze(local(21, month=8))
    return [add_user(admin, "basic_user") for _ in range(field)] + \
        [add_user(admin, "tmp_designer") for _ in range(office - 1)]


def sns_messages(resources) -> list[dict]:
    sqs = boto3.client("sqs")
    found = []
    while True:
        got = sqs.receive_message(QueueUrl=resources.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return found
        found += [json.loads(m["Body"]) for m in got]


# ------------------------------------------------------------------ the seed's examples
def test_ten_field_and_three_office_users_all_month_cost_480(tenant):
    # Given
    seed_staff(tenant, field=10, office=3)
    # When: the schedule fires on October 1st
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    report = run_billing()
    invoice = call("billing", "get_invoice.json", tenant, path={"period": "2026-09"})
    # Then
    assert report["failed_tenants"] == []
    assert invoice.status == 200, invoice.body
    assert [(ln["tier"], ln["user_days"], ln["quantity"], ln["unit_price"], ln["amount"]) for ln in invoice.body["lines"]] \
        == [("field", 300, "10.00", "30.00", "300.00"), ("office", 90, "3.00", "60.00", "180.00")]
    assert (invoice.body["subtotal"], invoice.body["gst"], invoice.body["total"]) == ("480.00", "72.00", "552.00")
    assert invoice.body["days_in_period"] == 30


def test_the_worked_example_comes_out_exactly(tenant, resources):
    # Given: 10 field and 3 office users all September; 2 more field users 5 days, 1 more office user 20 days
    seed_staff(tenant, field=10, office=3)
    office_20 = add_user(tenant, "operations_user")
    clock.freeze(local(10, 9))
    field_5 = [add_user(tenant, "basic_user_plus"), add_user(tenant, "view_user")]
    clock.freeze(local(14, 17))
    for user_id in field_5:
        disable(tenant, user_id)
    clock.freeze(local(20, 10))
    disable(tenant, office_20)
    # When
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    run_billing()
    invoice = call("billing", "get_invoice.json", tenant, path={"period": "2026-09"}).body
    status, text, headers = get_csv(tenant, "2026-09")
    # Then: 310 / 30 = 10.33 x $30.00 = $309.90; 110 / 30 = 3.66 x $60.00 = $219.60
    assert [(ln["user_days"], ln["quantity"], ln["unit_price"], ln["amount"]) for ln in invoice["lines"]] == [
        (310, "10.33", "30.00", "309.90"), (110, "3.66", "60.00", "219.60")]
    assert (invoice["subtotal"], invoice["gst"], invoice["total"]) == ("529.50", "79.43", "608.93")
    by_user = {u["user_id"]: (u["tier"], u["days"]) for u in invoice["users"]}
    assert by_user[office_20] == ("office", 20)
    assert [by_user[u] for u in field_5] == [("field", 5), ("field", 5)]
    assert len(invoice["users"]) == 16
    # and the CSV's rows add up to the lines
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert Counter(r["tier"] for r in rows) == {"field": 310, "office": 110}
    assert {r["date"] for r in rows if r["user_id"] == office_20} == {f"2026-09-{d:02d}" for d in range(1, 21)}


# ------------------------------------------------------------------ the scheduled run
def test_running_the_schedule_twice_issues_one_invoice_and_one_event(tenant, resources):
    # Given
    seed_staff(tenant, field=1, office=1)
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    sns_messages(resources)  # nothing else published before
    # When
    first, second = run_billing(), run_billing()
    # Then
    assert first["failed_tenants"] == second["failed_tenants"] == []
    invoices = [i for i in table_items() if i["entity"] == "Invoice"]
    assert [i["period"] for i in invoices] == ["2026-09"]
    events = [json.loads(m["Message"]) if "Message" in m else m for m in sns_messages(resources)]
    issued = [e for e in events if e["type"] == "invoice.issued"]
    assert len(issued) == 1
    assert issued[0]["tenant_id"] == tenant.tenant_id
    assert issued[0]["data"] == {"period": "2026-09", "total": "103.50", "currency": "NZD"}
    assert not [i for i in table_items() if i["entity"] == "OutboxEvent"]


def test_the_same_tenant_message_delivered_twice_makes_one_invoice(tenant):
    # Given: one tenant's message for September, as SQS may deliver it more than once
    seed_staff(tenant, field=1, office=1)
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    body = json.dumps({"tenant_id": tenant.tenant_id, "period": "2026-09", "run_id": "r1"})
    # When
    replies = [handler("billing")(bill_event(body), LambdaContext("billing")) for _ in range(2)]
    outcome = invoices.bill(BillTenant.model_validate_json(body))
    # Then
    assert replies == [{"batchItemFailures": []}] * 2
    assert [i["period"] for i in table_items() if i["entity"] == "Invoice"] == ["2026-09"]
    assert outcome == "unchanged"  # the draft, recomputed, came out the same: nothing written


def test_the_fan_out_queues_one_message_per_tenant_and_bills_none_itself(tenant, operator):
    # Given: a second tenant, in New York
    other = new_tenant(operator, "Other", "America/New_York").body["tenant_id"]
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    # When
    report = handler("billing")(schedule_event(), LambdaContext("billing"))
    # Then: a message per tenant naming its month (September in both zones) and the run; no invoice yet
    messages = queued()
    by_tenant = {m["tenant_id"]: m for m in messages}
    assert len(messages) == len(by_tenant) == report["tenants"]
    assert {tenant.tenant_id, other} <= set(by_tenant)
    assert {m["period"] for m in messages} == {"2026-09"}
    assert {m["run_id"] for m in messages} == {load_event("billing/scheduled_monthly.json")["id"]}
    assert not [i for i in table_items() if i["entity"] == "Invoice"]


def test_a_run_redriven_in_a_later_month_bills_the_month_it_was_scheduled_for(tenant):
    # Given: October 1st's run, failed and redriven from the dead-letter queue on December 3rd
    seed_staff(tenant, field=1, office=1)
    clock.freeze(datetime(2026, 12, 3, 9, tzinfo=UTC))
    # When
    report = handler("billing")(schedule_event(scheduled="2026-10-01T12:00:00Z"), LambdaContext("billing"))
    failed = drain_billing_queue()
    # Then: September is billed, not November
    assert (report["period"], failed) == ("2026-09", [])
    assert [i["period"] for i in table_items() if i["entity"] == "Invoice"] == ["2026-09"]


def test_the_month_is_the_one_before_the_scheduled_time_in_each_tenants_zone(operator):
    # Given: a tenant in Auckland, where 2026-10-31T12:00Z is already November 1st, and one in New York
    clock.freeze(datetime(2026, 8, 20, tzinfo=UTC))
    auckland = new_tenant(operator, "Kiwi").body["tenant_id"]
    new_york = new_tenant(operator, "Yank", "America/New_York").body["tenant_id"]
    # When
    handler("billing")(schedule_event(scheduled="2026-10-31T12:00:00Z"), LambdaContext("billing"))
    # Then
    periods = {m["tenant_id"]: m["period"] for m in queued()}
    assert (periods[auckland], periods[new_york]) == ("2026-10", "2026-09")


@pytest.mark.parametrize(("detail", "scheduled"), [
    ({"period": "9999-12"}, "2026-10-01T12:00:00Z"),  # ends in year 10000
    ({"period": "0001-01"}, "2026-10-01T12:00:00Z"),
    ({"period": "2026-13"}, "2026-10-01T12:00:00Z"),
    ({"period": 202609}, "2026-10-01T12:00:00Z"),
    ({}, "2000-01-01T05:00:00Z"),  # the month before is 1999-12
    ({}, "<aws.scheduler.scheduled-time>"),  # not filled in: invoked by hand with the template's Input
    ({}, "2026-10-01T12:00:00"),  # no offset
])
def test_a_scheduled_event_naming_no_billable_month_is_dropped_not_retried(tenant, detail, scheduled):
    # Given
    event = schedule_event(scheduled=scheduled)
    event["detail"] = detail
    # When: the handler returns (raising would have Lambda retry it twice, then park it in the DLQ)
    result = handler("billing")(event, LambdaContext("billing"))
    # Then: refused, saying why; nothing queued, nothing billed
    assert result["refused"], result
    assert queued() == []
    assert not [i for i in table_items() if i["entity"] == "Invoice"]


@pytest.mark.parametrize("body", [
    '{"tenant_id": "TENANT", "period": "9999-12"}', '{"tenant_id": "TENANT", "period": "2026-13"}',
    '{"tenant_id": "TENANT"}', '{"tenant_id": "", "period": "2026-09"}', "not json", "[]"])
def test_a_billing_message_naming_no_billable_month_is_dropped_not_retried(tenant, body):
    # Given
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    # When
    result = handler("billing")(bill_event(body.replace("TENANT", tenant.tenant_id)), LambdaContext("billing"))
    # Then: not a batch item failure (no retries into the dead-letter queue), and no invoice
    assert result == {"batchItemFailures": []}
    assert not [i for i in table_items() if i["entity"] == "Invoice"]


def test_a_message_for_a_tenant_that_no_longer_exists_bills_nothing(tenant):
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    body = json.dumps({"tenant_id": "t-gone", "period": "2026-09"})
    assert handler("billing")(bill_event(body), LambdaContext("billing")) == {"batchItemFailures": []}
    assert invoices.bill(BillTenant.model_validate_json(body)) == "no_such_tenant"


def test_a_named_period_is_billed_and_an_unfinished_month_is_not(tenant):
    # Given
    seed_staff(tenant, field=1, office=1)
    clock.freeze(local(15, month=10))
    # When
    september, october = run_billing("2026-09"), run_billing("2026-10")
    # Then
    assert september["failed_tenants"] == october["failed_tenants"] == []
    assert call("billing", "get_invoice.json", tenant, path={"period": "2026-09"}).status == 200
    assert call("billing", "get_invoice.json", tenant, path={"period": "2026-10"}).status == 404
    body = json.dumps({"tenant_id": tenant.tenant_id, "period": "2026-10"})
    assert invoices.bill(BillTenant.model_validate_json(body)) == "not_ended"


def test_one_tenant_failing_does_not_stop_the_others(tenant, operator, monkeypatch):
    # Given: a second tenant, and billing that breaks for the first one
    other = new_tenant(operator, "Other", "America/New_York").body
    real = invoices.compute

    def broken(t, period, until=None):
        if t.tenant_id == tenant.tenant_id:
            raise RuntimeError("boom")
        return real(t, period, until)

    monkeypatch.setattr(invoices, "compute", broken)
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    # When
    report = run_billing()
    # Then: the other tenant is billed; its message is reported failed (the queue retries it), and the
    # retry, once billing works again, bills it
    assert report["failed_tenants"] == [tenant.tenant_id]
    other_admin = Identity(other["tenant_id"], other["admin_user_id"], other["owner_account_id"])
    assert call("billing", "get_invoice.json", other_admin, path={"period": "2026-09"}).status == 200
    monkeypatch.setattr(invoices, "compute", real)
    assert drain_billing_queue() == []
    assert call("billing", "get_invoice.json", tenant, path={"period": "2026-09"}).status == 200


def test_the_fan_out_reads_a_page_per_page_of_tenants_and_sends_ten_per_call(operator, monkeypatch):
    # Given: 7 tenants besides the platform's, pages of 3 tenants
    monkeypatch.setattr(invoices, "TENANTS_PAGE", 3)
    for n in range(7):
        new_tenant(operator, f"T{n}")
    calls: Counter[str] = Counter()

    def count(model, **_kwargs):
        calls[model.name] += 1

    for client in (aws.dynamodb_client(), aws.sqs()):
        client.meta.events.register("before-call", count)
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    # When
    report = handler("billing")(schedule_event(), LambdaContext("billing"))
    # Then: one Query per page (and one past a full last page at most), one send per page of <= 10,
    # nothing read per tenant
    tenants = report["tenants"]
    assert tenants == len(queued()) >= 7
    assert calls["Query"] == report["pages"] <= tenants // 3 + 1
    assert calls["SendMessageBatch"] == report["send_calls"] == -(-tenants // 3)
    assert set(calls) == {"Query", "SendMessageBatch"}


def _tenant_with_bulk_staff(operator: Identity, name: str, count: int) -> Tenant:
    reply = new_tenant(operator, name)
    write_billing_users(reply.body["tenant_id"], reply.body["owner_account_id"], count)
    tenant = tenant_store.get_tenant(reply.body["tenant_id"])
    assert tenant is not None
    return tenant


def test_billing_reads_grow_with_pages_not_users(operator, dynamodb_calls, monkeypatch):
    # Given: pages of 50 items, and tenants of N and 2N staff users with a month of history each
    monkeypatch.setattr(user_store, "BILLING_PAGE", 50)
    clock.freeze(local(20, month=8))
    n = 100
    small, large = _tenant_with_bulk_staff(operator, "Small", n), _tenant_with_bulk_staff(operator, "Large", 2 * n)
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    september = billing.parse_period("2026-09", "Pacific/Auckland")
    # When
    dynamodb_calls.clear()
    assert invoices.issue(small, september) == "issued"
    calls_n = dict(dynamodb_calls)
    dynamodb_calls.clear()
    assert invoices.issue(large, september) == "issued"
    calls_2n = dict(dynamodb_calls)
    # Then: Queries follow the pages (users: N/50 + 1, history since the 1st: 3N/50 + 1), never the users
    assert "Scan" not in calls_n and "Scan" not in calls_2n
    assert calls_n["Query"] <= (n + 3 * n) / 50 + 2
    assert calls_2n["Query"] <= (2 * n + 6 * n) / 50 + 2
    assert calls_2n["Query"] - calls_n["Query"] <= (n + 3 * n) / 50 + 1
    others = {k: v for k, v in calls_2n.items() if k != "Query"}
    assert others == {k: v for k, v in calls_n.items() if k != "Query"}  # the same few, whatever the size
    assert sum(others.values()) <= 4  # is it issued? and the audit retention (GetItems), the transaction, the outbox removal
    assert call_total(calls_n) < n / 5


def test_billing_reads_only_the_attributes_it_counts_days_by(operator):
    # Given: a tenant of a few staff with a month of history
    clock.freeze(local(20, month=8))
    tenant = _tenant_with_bulk_staff(operator, "Narrow", 3)
    asked: list[dict] = []

    def record(model, params, **_kwargs):
        if model.name == "Query":
            asked.append(json.loads(params["body"]))

    events = aws.dynamodb_client().meta.events
    events.register("before-call.dynamodb", record)
    # When
    draft = invoices.compute(tenant, billing.parse_period("2026-09", tenant.timezone))
    events.unregister("before-call.dynamodb", record)
    # Then: the history and the staff, each Query naming only what the day counting reads (parsing
    # whole items was most of a 10,000-staff preview's time)
    named = [sorted(q["ExpressionAttributeNames"][n.strip()] for n in q["ProjectionExpression"].split(","))
             for q in asked]
    assert named == [sorted(StateChange.model_fields), sorted(StaffState.model_fields)]
    assert len(draft.users) == 4  # the three and the tenant's administrator


def call_total(calls: dict[str, int]) -> int:
    return sum(calls.values())


def test_a_bulk_month_is_billed_day_by_day(operator):
    # Given
    clock.freeze(local(20, month=8))
    tenant = _tenant_with_bulk_staff(operator, "Bulk", 3)
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    # When
    invoices.issue(tenant, billing.parse_period("2026-09", tenant.timezone))
    invoice, chunks = invoice_store.get_invoice(tenant.tenant_id, "2026-09")
    # Then: 9 field days, then office on the 10th-20th and 25th-30th, per bulk user; the Super Admin all month
    assert invoice is not None
    assert [(ln.tier, ln.user_days) for ln in invoice.lines] == [("field", 27), ("office", 3 * 17 + 30)]
    bulk = next(u for c in chunks for u in c.users if u.user_id == "bulk000000")
    assert bulk.days == "0" * 9 + "1" * 11 + "-" * 4 + "1" * 6
    assert bulk.levels == ["basic_user", "tmp_designer"]


# ------------------------------------------------------------------ routes
def issued_september(tenant: Identity) -> None:
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    assert run_billing()["failed_tenants"] == []


@pytest.mark.parametrize("level", ["view_user", "basic_user", "basic_user_plus", "tmp_designer", "tmp_designer_plus",
                                   "operations_user"])
def test_staff_without_financial_view_are_refused_every_invoice_route(tenant, level):
    # Given
    clock.freeze(local(21, month=8))
    caller = who(tenant, add_user(tenant, level))
    issued_september(tenant)
    # When
    replies = [call("billing", "get_invoices.json", caller).status,
               call("billing", "get_invoice.json", caller, path={"period": "2026-09"}).status,
               call("billing", "get_invoice.json", caller, path={"period": "2031-01"}).status,
               call("billing", "get_invoice_preview.json", caller).status,
               get_csv(caller, "2026-09")[0]]
    # Then: refused alike, whether the period has an invoice or not
    assert replies == [403] * 5


def test_invoicing_users_see_invoices(tenant):
    # Given
    clock.freeze(local(21, month=8))
    clerk = who(tenant, add_user(tenant, "invoicing"))
    issued_september(tenant)
    # When
    listing = call("billing", "get_invoices.json", clerk)
    # Then
    assert listing.status == 200
    assert listing.body["items"] == [{"period": "2026-09", "total": "138.00", "status": "draft", "currency": "NZD",
                                      "issued_at": "2026-10-01T12:00:00+00:00", "number": None}]


def test_connected_account_users_are_refused(tenant):
    # Given: a customer account's administrator
    clock.freeze(local(21, month=8))
    customer = call("user_levels", "post_accounts.json", tenant, headers={"idempotency-key": ""},
                    body={"kind": "customer", "name": "Client Co", "admin": {"email": "c@client.example", "name": "Cy"}})
    assert customer.status == 201, customer.body
    admin_id = next(i["user_id"] for i in table_items() if i["entity"] == "User" and i["email"] == "c@client.example")
    caller = Identity(tenant.tenant_id, admin_id, customer.body["account_id"])
    issued_september(tenant)
    # When / Then
    assert call("billing", "get_invoices.json", caller).status == 403
    assert call("billing", "get_invoice.json", caller, path={"period": "2026-09"}).status == 403


def test_connected_account_users_are_never_billed(tenant):
    # Given: a customer with an administrator all September
    clock.freeze(local(21, month=8))
    call("user_levels", "post_accounts.json", tenant, headers={"idempotency-key": ""},
         body={"kind": "customer", "name": "Client Co", "admin": {"email": "c@client.example", "name": "Cy"}})
    issued_september(tenant)
    # When
    invoice = call("billing", "get_invoice.json", tenant, path={"period": "2026-09"}).body
    # Then: only the Super Admin
    assert [u["name"] for u in invoice["users"]] == ["Ada Admin"]


def test_another_tenants_invoice_is_not_found(tenant, operator):
    # Given: September billed for both tenants; the other tenant's admin asks for ours
    other = new_tenant(operator, "Rival").body
    rival = Identity(other["tenant_id"], other["admin_user_id"], other["owner_account_id"])
    seed_staff(tenant, field=3, office=1)
    issued_september(tenant)
    # When
    mine = call("billing", "get_invoice.json", tenant, path={"period": "2026-09"}).body
    theirs = call("billing", "get_invoice.json", rival, path={"period": "2026-09"}).body
    listing = call("billing", "get_invoices.json", rival).body
    # Then: each sees its own only
    assert mine["total"] != theirs["total"]
    assert {u["name"] for u in theirs["users"]} == {"Rival Admin"}
    assert [i["total"] for i in listing["items"]] == [theirs["total"]]


@pytest.mark.parametrize("period", [
    "2026-13", "2026-00", "abc", "2026-9", "26-09", "2026-09-01", "1999-12", "\uff12\uff10\uff12\uff16-09",
    "9999-12", "0000-01", "0001-01"])  # 9999-12 would end in year 10000; 0001-01 starts before year 1 east of UTC
def test_a_bad_period_is_422(tenant, period):
    # When
    reply = call("billing", "get_invoice.json", tenant, path={"period": period})
    status, _, _ = get_csv(tenant, period)
    # Then
    assert reply.status == 422, reply.body
    assert reply.body["errors"][0]["field"] == "period"
    assert status == 422


@pytest.mark.parametrize("now", ["9999-12-15T00:00:00+00:00", "9999-12-31T23:00:00+00:00"])
def test_the_preview_in_a_month_outside_the_calendar_is_422_not_a_crash(tenant, now):
    # Given: the test clock in the last month `datetime` has (Auckland is already in year 10000 at 23:00 UTC)
    clock.freeze(datetime.fromisoformat(now))
    # When
    reply = call("billing", "get_invoice_preview.json", tenant)
    # Then
    assert reply.status == 422, reply.body
    assert reply.body["errors"][0]["field"] == "period"


def test_a_period_without_an_invoice_is_404(tenant):
    clock.freeze(local(15, month=10))
    assert call("billing", "get_invoice.json", tenant, path={"period": "2026-09"}).status == 404
    assert get_csv(tenant, "2026-09")[0] == 404


def test_invoices_are_listed_newest_first_in_pages(tenant):
    # Given: August, September and October billed (the tenant exists since August 20th)
    clock.freeze(datetime(2026, 11, 1, 12, tzinfo=UTC))
    for period in ("2026-08", "2026-09", "2026-10"):
        assert run_billing(period)["failed_tenants"] == []
    # When
    first = call("billing", "get_invoices.json", tenant, query={"limit": "2"}).body
    second = call("billing", "get_invoices.json", tenant, query={"limit": "2", "cursor": first["next_cursor"]}).body
    # Then
    assert [i["period"] for i in first["items"]] == ["2026-10", "2026-09"]
    assert [i["period"] for i in second["items"]] == ["2026-08"]
    assert second["next_cursor"] is None


def test_a_month_before_the_tenant_existed_is_not_billed(tenant):
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    assert run_billing("2026-07")["failed_tenants"] == []
    july = BillTenant(tenant_id=tenant.tenant_id, period="2026-07")
    assert invoices.bill(july) == "not_a_tenant_yet"
    assert call("billing", "get_invoices.json", tenant).body["items"] == []


def test_a_cursor_of_another_tenant_or_list_is_422(tenant, operator):
    other = new_tenant(operator, "Rival").body
    foreign = core.encode_cursor({"PK": f"T#{other['tenant_id']}#INVOICE#2026-09", "SK": "INVOICE",
                                   "GSI1PK": f"T#{other['tenant_id']}#INVOICES", "GSI1SK": "2026-09"})
    assert call("billing", "get_invoices.json", tenant, query={"cursor": foreign}).status == 422
    assert call("billing", "get_invoices.json", tenant, query={"cursor": "not-a-cursor"}).status == 422
    assert call("billing", "get_invoices.json", tenant, query={"limit": "0"}).status == 422
    assert call("billing", "get_invoices.json", tenant, query={"limit": "201"}).status == 422


def test_the_preview_is_this_month_to_date_today_included_and_not_stored(tenant):
    # Given: on October 10th (Auckland) a field user made on the 3rd, an office user disabled on the 5th
    clock.freeze(local(3, month=10))
    add_user(tenant, "basic_user")
    office = add_user(tenant, "operations_user")
    clock.freeze(local(5, month=10))
    disable(tenant, office)
    clock.freeze(local(10, 8, month=10))
    # When
    reply = call("billing", "get_invoice_preview.json", tenant)
    # Then: field 3rd-10th = 8; office: Super Admin 1st-10th = 10, the disabled user 3rd-5th = 3
    assert reply.status == 200, reply.body
    body = reply.body
    assert (body["period"], body["status"], body["through"], body["days_in_period"]) == (
        "2026-10", "preview", "2026-10-10", 31)
    assert [(ln["tier"], ln["user_days"]) for ln in body["lines"]] == [("field", 8), ("office", 13)]
    assert not [i for i in table_items() if i["entity"] == "Invoice"]
    assert call("billing", "get_invoice.json", tenant, path={"period": "2026-10"}).status == 404


def test_preview_is_not_mistaken_for_a_period(tenant):
    # The resolver must route the literal path, not /invoices/{period} with period "preview"
    clock.freeze(local(10, month=10))
    event = load_event("billing/get_invoice_preview.json")
    assert event["rawPath"] == "/invoices/preview"
    assert call("billing", "get_invoice_preview.json", tenant).body["status"] == "preview"


def test_csv_keeps_awkward_names_whole_and_never_as_formulas(tenant):
    # Given: staff whose names hold commas, quotes, and a spreadsheet formula
    clock.freeze(local(21, month=8))
    add_user(tenant, "basic_user", name='Smith, "Jo"')
    add_user(tenant, "basic_user", name="=HYPERLINK(\"http://evil.example\",\"pay\")")
    issued_september(tenant)
    # When
    status, text, _ = get_csv(tenant, "2026-09")
    # Then
    rows = list(csv.DictReader(io.StringIO(text)))
    assert status == 200
    assert {r["name"] for r in rows} == {"Ada Admin", 'Smith, "Jo"', "'=HYPERLINK(\"http://evil.example\",\"pay\")"}
    assert len(rows) == 3 * 30


def test_a_disabled_invoicing_user_is_refused(tenant):
    # Given
    clock.freeze(local(21, month=8))
    clerk_id = add_user(tenant, "invoicing")
    issued_september(tenant)
    disable(tenant, clerk_id)
    # When / Then
    assert call("billing", "get_invoices.json", who(tenant, clerk_id)).status == 403
    assert call("billing", "get_invoice.json", who(tenant, clerk_id), path={"period": "2026-09"}).status == 403


def test_a_user_promoted_after_the_month_is_billed_as_it_was_then(tenant):
    # Given: a field user all September, promoted to office and then disabled in October before the run
    clock.freeze(local(21, month=8))
    user_id = add_user(tenant, "basic_user")
    clock.freeze(local(1, 0, month=10, minute=30))
    assert call("user_levels", "patch_user.json", tenant, path={"user_id": user_id},
                body={"level": "operations_user"}).status == 200
    disable(tenant, user_id)
    # When
    issued_september(tenant)
    invoice = call("billing", "get_invoice.json", tenant, path={"period": "2026-09"}).body
    # Then: September as it was
    assert {u["user_id"]: (u["tier"], u["days"]) for u in invoice["users"]}[user_id] == ("field", 30)
    assert [(ln["tier"], ln["user_days"]) for ln in invoice["lines"]] == [("field", 30), ("office", 30)]


# ------------------------------------------------------------------ least privilege
TRANSACT_ACTION = {"Put": "PutItem", "Delete": "DeleteItem", "Update": "UpdateItem", "ConditionCheck": "ConditionCheckItem"}


def test_the_billing_function_may_do_exactly_what_it_does(tenant, resources, monkeypatch):
    # Given: every DynamoDB action the function takes, as IAM names it
    used: set[str] = set()

    def record(model, params, **_kwargs) -> None:
        if model.name == "TransactWriteItems":
            used.update(f"dynamodb:{TRANSACT_ACTION[kind]}" for item in params["TransactItems"] for kind in item)
        else:
            used.add(f"dynamodb:{model.name}")

    def record_sqs(model, **_kwargs) -> None:  # SendMessageBatch is authorized as sqs:SendMessage
        used.add(f"sqs:{model.name.removesuffix('Batch')}")

    events = aws.dynamodb_client().meta.events
    seed_staff(tenant, field=1, office=1)
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    events.register("before-parameter-build.dynamodb", record)
    aws.sqs().meta.events.register("before-parameter-build.sqs", record_sqs)
    try:
        # When: the schedule and every route
        run_billing()
        for event, path in [("get_invoices.json", None), ("get_invoice.json", {"period": "2026-09"}),
                            ("get_invoice_preview.json", None)]:
            assert call("billing", event, tenant, path=path).status == 200
        assert get_csv(tenant, "2026-09")[0] == 200
    finally:
        events.unregister("before-parameter-build.dynamodb", record)
        aws.sqs().meta.events.unregister("before-parameter-build.sqs", record_sqs)
    # Then: the template grants exactly those, SNS publication, and sending to the billing queue only
    from local.template import load_template

    statements = load_template()["Resources"]["BillingFunction"]["Properties"]["Policies"][0]["Statement"]
    granted = {action for s in statements for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {a for a in granted if a.startswith("dynamodb:")} == {a for a in used if a.startswith("dynamodb:")}
    poller = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}  # BillingQueueSource's, not the code's
    assert {a for a in granted if a.startswith("sqs:")} - poller == {a for a in used if a.startswith("sqs:")} == {
        "sqs:SendMessage"}
    polls = [s for s in statements if isinstance(s["Action"], list) and set(s["Action"]) == poller]
    assert [s["Resource"] for s in polls] == [{"Fn::GetAtt": ["BillingQueue", "Arn"]}]
    assert {a for a in granted if a.startswith("sns:")} == {"sns:Publish"}
    sends = [s for s in statements if s["Action"] == "sqs:SendMessage"]
    assert [s["Resource"] for s in sends] == [{"Fn::GetAtt": ["BillingQueue", "Arn"]}]


def test_a_scheduled_event_with_a_bad_period_bills_nobody(tenant):
    # Given
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    # When / Then: refused before any tenant, and not raised (a retry could not fix it)
    assert "refused" in run_billing("2026-13")
    assert not [i for i in table_items() if i["entity"] == "Invoice"]


def test_a_scheduled_event_without_detail_bills_the_month_before(tenant):
    # Given: Scheduler's own event shape, without detail
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    event = load_event("billing/scheduled_monthly.json")
    event.pop("detail")
    # When
    report = handler("billing")(event, LambdaContext("billing"))
    # Then
    assert (report["period"], drain_billing_queue()) == ("2026-09", [])
    assert [i["period"] for i in table_items() if i["entity"] == "Invoice"] == ["2026-09"]


def test_history_made_with_the_clock_set_back_is_billed_even_for_a_tenant_made_later(operator):
    # Given: a tenant made "now" (November), then users made with the test clock set back to September
    clock.freeze(local(20, month=11))
    made = new_tenant(operator, "Later").body
    admin = Identity(made["tenant_id"], made["admin_user_id"], made["owner_account_id"])
    clock.freeze(local(1, 8))
    add_user(admin, "basic_user")
    # When
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    report = run_billing("2026-09")
    invoice = call("billing", "get_invoice.json", admin, path={"period": "2026-09"})
    # Then: the field user's 30 days; the admin (made in November) is not billed for September
    assert report["failed_tenants"] == []
    assert [(ln["tier"], ln["user_days"]) for ln in invoice.body["lines"]] == [("field", 30), ("office", 0)]


def test_csv_has_one_header_line_and_plain_newlines(tenant):
    issued_september(tenant)
    _, text, _ = get_csv(tenant, "2026-09")
    lines = text.split("\n")
    assert lines[0] == "date,user_id,name,level,tier"
    assert lines[-1] == "" and len(lines) == 1 + 30 + 1


def test_history_entries_carry_the_state_they_replace(tenant):
    # Given
    clock.freeze(local(21, month=8))
    user_id = add_user(tenant, "basic_user")
    clock.freeze(local(2))
    call("user_levels", "patch_user.json", tenant, path={"user_id": user_id}, body={"level": "tmp_designer"})
    clock.freeze(local(3))
    disable(tenant, user_id)
    # When
    entries = sorted((i for i in table_items() if i["entity"] == "UserHistory" and i["user_id"] == user_id),
                     key=lambda i: i["at"])
    # Then
    assert [(e.get("previous_status"), e.get("previous_level"), e["status"], e["level"], int(e["version"]))
            for e in entries] == [(None, None, "active", "basic_user", 0),
                                  ("active", "basic_user", "active", "tmp_designer", 1),
                                  ("active", "tmp_designer", "disabled", "tmp_designer", 2)]


def test_an_invoice_split_over_many_items_reads_back_whole(operator, monkeypatch):
    # Given: chunk items of about 2 KB, and 40 staff users
    monkeypatch.setattr(invoice_store, "INVOICE_CHUNK_BYTES", 2_000)
    clock.freeze(local(20, month=8))
    tenant = _tenant_with_bulk_staff(operator, "Chunky", 40)
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    # When
    invoices.issue(tenant, billing.parse_period("2026-09", tenant.timezone))
    invoice, chunks = invoice_store.get_invoice(tenant.tenant_id, "2026-09")
    # Then
    assert invoice is not None and invoice.chunks == len(chunks) > 3
    assert sorted(u.user_id for c in chunks for u in c.users) == sorted(
        [f"bulk{n:06d}" for n in range(40)] + [_admin_id(tenant)])
    assert invoice.user_count == 41


def _admin_id(tenant: Tenant) -> str:
    return next(u.user_id for u in user_store.staff_users(tenant) if u.level == "super_admin")
