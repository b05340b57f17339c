"""Billing through the billing handler: the monthly scheduled run, the invoice routes, the CSV
and the preview, on history made through the user_levels routes with the clock moved."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import boto3
import pytest

from local.gateway import LambdaContext
from sitegate import billing, clock, invoices
from sitegate.data import aws, store
from sitegate.models.stored import Tenant
from tests.billing_data import write_billing_users
from tests.events import load_event
from tests.integration.conftest import Identity, call, handler, table_items

AUCKLAND = ZoneInfo("Pacific/Auckland")


def local(day: int, hour: int = 9, month: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=AUCKLAND)


def run_billing(period: str | None = None) -> dict:
    event = load_event("billing/scheduled_period.json" if period else "billing/scheduled_monthly.json")
    if period:
        event["detail"]["period"] = period
    return handler("billing")(event, LambdaContext("billing"))


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
    assert report["issued"] == 1
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
    assert (first["issued"], first["already_issued"]) == (1, 0)
    assert (second["issued"], second["already_issued"]) == (0, 1)
    invoices = [i for i in table_items() if i["entity"] == "Invoice"]
    assert [i["period"] for i in invoices] == ["2026-09"]
    events = [json.loads(m["Message"]) if "Message" in m else m for m in sns_messages(resources)]
    issued = [e for e in events if e["type"] == "invoice.issued"]
    assert len(issued) == 1
    assert issued[0]["tenant_id"] == tenant.tenant_id
    assert issued[0]["data"] == {"period": "2026-09", "total": "103.50", "currency": "NZD"}
    assert not [i for i in table_items() if i["entity"] == "OutboxEvent"]


def test_a_named_period_is_billed_and_an_unfinished_month_is_not(tenant):
    # Given
    seed_staff(tenant, field=1, office=1)
    clock.freeze(local(15, month=10))
    # When
    september, october = run_billing("2026-09"), run_billing("2026-10")
    # Then
    assert september["issued"] == 1
    assert (october["issued"], october["not_ended"]) == (0, 1)
    assert call("billing", "get_invoice.json", tenant, path={"period": "2026-10"}).status == 404


def test_one_tenant_failing_does_not_stop_the_others(tenant, operator, monkeypatch):
    # Given: a second tenant, and billing that breaks for the first one
    new_tenant(operator, "Other", "America/New_York")
    real = invoices.compute

    def broken(t, period, until=None):
        if t.tenant_id == tenant.tenant_id:
            raise RuntimeError("boom")
        return real(t, period, until)

    monkeypatch.setattr(invoices, "compute", broken)
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    # When
    with pytest.raises(Exception, match="billing failed for 1 tenant") as failure:
        run_billing()
    # Then: the other tenant is billed; a retry bills only the one left
    assert failure.value.report["issued"] == 1
    assert failure.value.report["failed_tenants"] == [tenant.tenant_id]
    monkeypatch.setattr(invoices, "compute", real)
    retry = run_billing()
    assert (retry["issued"], retry["already_issued"]) == (1, 1)


def _tenant_with_bulk_staff(operator: Identity, name: str, count: int) -> Tenant:
    reply = new_tenant(operator, name)
    write_billing_users(reply.body["tenant_id"], reply.body["owner_account_id"], count)
    tenant = store.get_tenant(reply.body["tenant_id"])
    assert tenant is not None
    return tenant


def test_billing_reads_grow_with_pages_not_users(operator, dynamodb_calls, monkeypatch):
    # Given: pages of 50 items, and tenants of N and 2N staff users with a month of history each
    monkeypatch.setattr(store, "BILLING_PAGE", 50)
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
    assert sum(others.values()) <= 3  # is it issued? (GetItem), the transaction, the outbox removal
    assert call_total(calls_n) < n / 5


def call_total(calls: dict[str, int]) -> int:
    return sum(calls.values())


def test_a_bulk_month_is_billed_day_by_day(operator):
    # Given
    clock.freeze(local(20, month=8))
    tenant = _tenant_with_bulk_staff(operator, "Bulk", 3)
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    # When
    invoices.issue(tenant, billing.parse_period("2026-09", tenant.timezone))
    invoice, chunks = store.get_invoice(tenant.tenant_id, "2026-09")
    # Then: 9 field days, then office on the 10th-20th and 25th-30th, per bulk user; the Super Admin all month
    assert invoice is not None
    assert [(ln.tier, ln.user_days) for ln in invoice.lines] == [("field", 27), ("office", 3 * 17 + 30)]
    bulk = next(u for c in chunks for u in c.users if u.user_id == "bulk000000")
    assert bulk.days == "0" * 9 + "1" * 11 + "-" * 4 + "1" * 6
    assert bulk.levels == ["basic_user", "tmp_designer"]


# ------------------------------------------------------------------ routes
def issued_september(tenant: Identity) -> None:
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    assert run_billing()["issued"] >= 1


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
    assert listing.body["items"] == [{"period": "2026-09", "total": "138.00", "status": "issued", "currency": "NZD",
                                      "issued_at": "2026-10-01T12:00:00+00:00"}]


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
        assert run_billing(period)["issued"] == 1
    # When
    first = call("billing", "get_invoices.json", tenant, query={"limit": "2"}).body
    second = call("billing", "get_invoices.json", tenant, query={"limit": "2", "cursor": first["next_cursor"]}).body
    # Then
    assert [i["period"] for i in first["items"]] == ["2026-10", "2026-09"]
    assert [i["period"] for i in second["items"]] == ["2026-08"]
    assert second["next_cursor"] is None


def test_a_month_before_the_tenant_existed_is_not_billed(tenant):
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    assert run_billing("2026-07")["not_a_tenant_yet"] == 1
    assert call("billing", "get_invoices.json", tenant).body["items"] == []


def test_a_cursor_of_another_tenant_or_list_is_422(tenant, operator):
    other = new_tenant(operator, "Rival").body
    foreign = store.encode_cursor({"PK": f"T#{other['tenant_id']}#INVOICE#2026-09", "SK": "INVOICE",
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

    events = aws.dynamodb_client().meta.events
    seed_staff(tenant, field=1, office=1)
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    events.register("before-parameter-build.dynamodb", record)
    try:
        # When: the schedule and every route
        run_billing()
        for event, path in [("get_invoices.json", None), ("get_invoice.json", {"period": "2026-09"}),
                            ("get_invoice_preview.json", None)]:
            assert call("billing", event, tenant, path=path).status == 200
        assert get_csv(tenant, "2026-09")[0] == 200
    finally:
        events.unregister("before-parameter-build.dynamodb", record)
    # Then: the template grants exactly those, and SNS publication
    from local.template import load_template

    statements = load_template()["Resources"]["BillingFunction"]["Properties"]["Policies"][0]["Statement"]
    granted = {action for s in statements for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {a for a in granted if a.startswith("dynamodb:")} == used
    assert {a for a in granted if not a.startswith("dynamodb:")} == {"sns:Publish"}


def test_a_scheduled_event_with_a_bad_period_bills_nobody(tenant):
    # Given
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    # When / Then: the run fails before any tenant (the scheduler retries it, then parks it in the DLQ)
    with pytest.raises(Exception, match="period"):
        run_billing("2026-13")
    assert not [i for i in table_items() if i["entity"] == "Invoice"]


def test_a_scheduled_event_without_detail_bills_the_month_before(tenant):
    # Given: Scheduler's own event shape, without detail
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    event = load_event("billing/scheduled_monthly.json")
    event.pop("detail")
    # When
    report = handler("billing")(event, LambdaContext("billing"))
    # Then
    assert (report["period"], report["issued"]) == ("2026-09", 1)


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
    assert report["issued"] == 1
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
    monkeypatch.setattr(store, "INVOICE_CHUNK_BYTES", 2_000)
    clock.freeze(local(20, month=8))
    tenant = _tenant_with_bulk_staff(operator, "Chunky", 40)
    clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
    # When
    invoices.issue(tenant, billing.parse_period("2026-09", tenant.timezone))
    invoice, chunks = store.get_invoice(tenant.tenant_id, "2026-09")
    # Then
    assert invoice is not None and invoice.chunks == len(chunks) > 3
    assert sorted(u.user_id for c in chunks for u in c.users) == sorted(
        [f"bulk{n:06d}" for n in range(40)] + [_admin_id(tenant)])
    assert invoice.user_count == 41


def _admin_id(tenant: Tenant) -> str:
    return next(u.user_id for u in store.staff_users(tenant) if u.level == "super_admin")
