"""From invoice to tax invoice through the billing handler: drafts recomputed, finalizing with gapless numbers,
the tax-invoice fields, credit notes and void, who sets what, the schedule's finalizing, PDFs and events."""

from __future__ import annotations

import base64
import io
import json
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from local.gateway import LambdaContext
from sitegate import clock, invoices
from sitegate.models.billing import BillTenant
from tests.events import load_event
from tests.integration.conftest import Identity, call, handler, table_items
from tests.integration.test_billing import add_user, run_billing, seed_staff, sns_messages, who

BILL = "billing"
SUPPLIER = {"legal_name": "SiteGate Limited", "gst_number": "123-456-789", "address": "2 Customs St, Auckland 1010"}
BUYER = {"legal_name": "Acme Traffic Limited", "address": "1 Quay St, Auckland 1010"}
OCTOBER = datetime(2026, 10, 1, 12, tzinfo=UTC)


@pytest.fixture
def tenant(operator) -> Identity:
    clock.freeze(datetime(2026, 8, 20, 9, tzinfo=UTC))
    reply = call("user_levels", "post_tenants.json", operator)
    assert reply.status == 201, reply.body
    return Identity(reply.body["tenant_id"], reply.body["admin_user_id"], reply.body["owner_account_id"])


def _supplier(operator: Identity, **body):
    return call(BILL, "put_platform_supplier.json", operator, body={**SUPPLIER, **body})


def _details(who_: Identity, **body):
    return call(BILL, "put_billing_details.json", who_, body={**BUYER, **body})


def _finalize(who_: Identity, period: str = "2026-09"):
    return call(BILL, "post_invoice_finalize.json", who_, path={"period": period})


def _credit(who_: Identity, body: dict, period: str = "2026-09"):
    return call(BILL, "post_invoice_credit_notes.json", who_, path={"period": period}, body=body,
                headers={"idempotency-key": ""})


def _invoice(who_: Identity, period: str = "2026-09") -> dict:
    reply = call(BILL, "get_invoice.json", who_, path={"period": period})
    assert reply.status == 200, reply.body
    return reply.body


def _ready(tenant: Identity, operator: Identity, field: int = 1, office: int = 1) -> None:
    """September billed as a draft, with the supplier and the buyer's details set."""
    seed_staff(tenant, field=field, office=office)
    clock.freeze(OCTOBER)
    assert run_billing()["failed_tenants"] == []
    assert _supplier(operator).status == 200
    assert _details(tenant).status == 200


def _pdf_text(reply) -> str:
    raw = base64.b64decode(reply["body"]) if reply.get("isBase64Encoded") else reply["body"].encode()
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(raw)).pages)


def _raw(function: str, event_name: str, who_: Identity, path: dict[str, str]) -> dict:
    event = load_event(f"{function}/{event_name}")
    raw = event["routeKey"].split(" ", 1)[1]
    for name, value in path.items():
        raw = raw.replace(f"{{{name}}}", value)
    event["rawPath"] = event["requestContext"]["http"]["path"] = raw
    event["pathParameters"] = path
    event["requestContext"]["authorizer"]["jwt"]["claims"].update({
        "custom:tenant_id": who_.tenant_id, "cognito:username": who_.user_id, "custom:account_id": who_.account_id})
    return handler(function)(event, LambdaContext(function))


# ------------------------------------------------------------------ drafts
def test_the_monthly_run_makes_a_draft_and_recomputes_it_until_final(tenant, operator):
    # Given a draft for September
    seed_staff(tenant, field=1, office=1)
    clock.freeze(OCTOBER)
    run_billing()
    assert (_invoice(tenant)["status"], _invoice(tenant)["total"]) == ("draft", "103.50")
    # When the operator raises the field rate and the run repeats
    assert call(BILL, "put_tenant_billing.json", operator, path={"tenant_id": tenant.tenant_id},
                body={"field_day_rate": "2.00"}).status == 200
    run_billing()
    # Then the draft is recomputed: 30 field days at $2 + 30 office days at $2
    assert _invoice(tenant)["total"] == "138.00"
    # And once final, a rate change and a run change nothing
    _supplier(operator), _details(tenant)
    assert _finalize(tenant).status == 200
    call(BILL, "put_tenant_billing.json", operator, path={"tenant_id": tenant.tenant_id}, body={"field_day_rate": "9.00"})
    assert invoices.bill(BillTenant(tenant_id=tenant.tenant_id, period="2026-09")) == "already_final"
    assert (_invoice(tenant)["status"], _invoice(tenant)["total"]) == ("final", "138.00")


# ------------------------------------------------------------------ finalizing
def test_finalizing_without_the_tax_invoice_fields_names_each_missing_one(tenant):
    seed_staff(tenant, field=1, office=1)
    clock.freeze(OCTOBER)
    run_billing()
    reply = _finalize(tenant)
    assert reply.status == 422, reply.body
    assert [e["field"] for e in reply.body["errors"]] == [
        "supplier.legal_name", "supplier.gst_number", "supplier.address", "buyer.legal_name"]
    assert _invoice(tenant)["status"] == "draft" and _invoice(tenant)["number"] is None


def test_over_1000_the_buyer_needs_an_address_nzbn_or_email(tenant, operator):
    # Given a total over $1,000 and a buyer with a legal name only
    seed_staff(tenant, field=1, office=1)
    call(BILL, "put_tenant_billing.json", operator, path={"tenant_id": tenant.tenant_id},
         body={"field_day_rate": "30.00"})
    clock.freeze(OCTOBER)
    run_billing()
    _supplier(operator)
    assert call(BILL, "put_billing_details.json", tenant, body={"legal_name": "Acme Traffic Limited"}).status == 200
    # Then
    reply = _finalize(tenant)
    assert reply.status == 422 and [e["field"] for e in reply.body["errors"]] == ["buyer.address"]
    # And with an NZBN it is final
    assert call(BILL, "put_billing_details.json", tenant,
                body={"legal_name": "Acme Traffic Limited", "nzbn": "9429041234567"}).status == 200
    final = _finalize(tenant)
    assert final.status == 200, final.body
    assert Decimal(final.body["total"]) > 1000 and final.body["buyer"]["nzbn"] == "9429041234567"


def test_finalizing_numbers_the_invoice_and_fixes_both_parties(tenant, operator):
    _ready(tenant, operator)
    reply = _finalize(tenant)
    assert reply.status == 200, reply.body
    body = reply.body
    assert (body["status"], body["number"], body["issue_date"]) == ("final", "INV-000001", "2026-10-02")
    assert body["supplier"]["gst_number"] == "123-456-789" and body["buyer"]["legal_name"] == BUYER["legal_name"]
    assert body["description"] == "SiteGate site access control: active user-days in September 2026"
    # A second finalize is 409, and later details do not change the final invoice
    assert _finalize(tenant).status == 409
    _details(tenant, legal_name="Acme Renamed Limited")
    assert _invoice(tenant)["buyer"]["legal_name"] == BUYER["legal_name"]


def test_racing_finalizations_take_gapless_numbers(tenant, operator):
    # Given drafts for July, August and September (the tenant billed back to July), details set
    clock.freeze(datetime(2026, 6, 20, tzinfo=UTC))
    add_user(tenant, "basic_user")
    clock.freeze(OCTOBER)
    for period in ("2026-07", "2026-08", "2026-09"):
        run_billing(period)
    _supplier(operator), _details(tenant)
    # When three finalizations race, and a second one of September with them
    replies: dict[str, int] = {}

    def finalize(period: str, tag: str) -> None:
        replies[tag] = _finalize(tenant, period).status

    threads = [threading.Thread(target=finalize, args=(p, t)) for p, t in
               (("2026-07", "jul"), ("2026-08", "aug"), ("2026-09", "sep"), ("2026-09", "sep-again"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then each month has one number, none skipped, none twice
    assert sorted(replies.values()) == [200, 200, 200, 409], replies
    numbers = sorted(_invoice(tenant, p)["number"] for p in ("2026-07", "2026-08", "2026-09"))
    assert numbers == ["INV-000001", "INV-000002", "INV-000003"]


# ------------------------------------------------------------------ credit notes and void
def test_credit_notes_take_their_own_numbers_and_never_exceed_the_invoice(tenant, operator):
    _ready(tenant, operator)  # $90.00 + $13.50 GST = $103.50: 30 field days ($30.00) and 30 office days ($60.00)
    assert _credit(tenant, {"amount": "10.00", "reason": "x"}).status == 409  # a draft is not credited
    _finalize(tenant)
    first = _credit(tenant, {"amount": "10.01", "reason": "a day billed twice"})
    assert first.status == 201, first.body
    assert {k: first.body[k] for k in ("number", "invoice_number", "amount", "gst", "total")} == {
        "number": "CN-000001", "invoice_number": "INV-000001", "amount": "10.01", "gst": "1.50", "total": "11.51"}
    by_line = _credit(tenant, {"lines": [{"tier": "office", "quantity": "0.5"}], "reason": "half an office user"})
    assert (by_line.status, by_line.body["amount"], by_line.body["number"]) == (201, "30.00", "CN-000002")
    assert _credit(tenant, {"lines": [{"tier": "office", "quantity": "0.51"}], "reason": "too much"}).status == 422
    too_much = _credit(tenant, {"amount": "50.00", "reason": "more than is left"})
    assert too_much.status == 422 and "49.99" in json.dumps(too_much.body)
    assert _credit(tenant, {"amount": "1", "lines": [{"tier": "field", "quantity": "1"}], "reason": "both"}).status == 422
    # When the rest is voided
    void = call(BILL, "post_invoice_void.json", tenant, path={"period": "2026-09"}, body={"reason": "client left"},
                headers={"idempotency-key": ""})
    # Then the credits add up to the invoice to the cent, and nothing is left
    assert void.status == 201, void.body
    notes = call(BILL, "get_invoice_credit_notes.json", tenant, path={"period": "2026-09"}).body["items"]
    assert [n["number"] for n in notes] == ["CN-000001", "CN-000002", "CN-000003"]
    assert sum(Decimal(n["total"]) for n in notes) == Decimal("103.50")
    assert sum(Decimal(n["gst"]) for n in notes) == Decimal("13.50")
    invoice = _invoice(tenant)
    assert (invoice["status"], invoice["credited_total"]) == ("void", "103.50")
    assert _credit(tenant, {"amount": "0.01", "reason": "x"}).status == 409
    assert call(BILL, "post_invoice_void.json", tenant, path={"period": "2026-09"}, body={"reason": "again"},
                headers={"idempotency-key": ""}).status == 409


@pytest.mark.parametrize("body", [{"amount": "-1", "reason": "x"}, {"amount": "0", "reason": "x"},
                                  {"amount": "1.001", "reason": "x"}, {"amount": "1"},
                                  {"lines": [{"tier": "gold", "quantity": "1"}], "reason": "x"}, {"reason": "x"},
                                  {"amount": "1", "reason": "x", "extra": 1}])
def test_a_bad_credit_note_is_422_and_credits_nothing(tenant, operator, body):
    _ready(tenant, operator)
    _finalize(tenant)
    reply = _credit(tenant, body)
    assert reply.status == 422, reply.body
    assert _invoice(tenant)["credited_total"] == "0.00"


# ------------------------------------------------------------------ who sets what
@pytest.mark.parametrize("level", ["operations_user", "basic_user_plus", "view_user"])
def test_only_super_admins_and_invoicing_finalize_credit_and_set_details(tenant, operator, level):
    _ready(tenant, operator)
    other = who(tenant, add_user(tenant, level))
    clerk = who(tenant, add_user(tenant, "invoicing"))
    assert _finalize(other).status == 403
    assert _details(other).status == 403
    assert call(BILL, "get_billing_details.json", other).status == 403
    assert _finalize(clerk).status == 200
    assert _credit(other, {"amount": "1", "reason": "x"}).status == 403
    assert _credit(clerk, {"amount": "1", "reason": "x"}).status == 201


def test_rates_and_the_supplier_are_the_operators_alone(tenant, operator):
    assert call(BILL, "put_tenant_billing.json", tenant, path={"tenant_id": tenant.tenant_id},
                body={"field_day_rate": "0.01"}).status == 403
    assert _supplier(tenant).status == 403
    assert call(BILL, "get_platform_supplier.json", tenant).status == 403
    assert call(BILL, "put_tenant_billing.json", operator, path={"tenant_id": "nobody"}, body={}).status == 404
    reply = call(BILL, "put_tenant_billing.json", operator, path={"tenant_id": tenant.tenant_id},
                 body={"office_day_rate": "2.5", "gst_rate": "0.125", "grace_days": 5})
    assert reply.body == {"tenant_id": tenant.tenant_id, "field_day_rate": "1.00", "office_day_rate": "2.50",
                          "gst_rate": "0.125", "currency": "NZD", "grace_days": 5}
    for bad in ({"gst_rate": "1.5"}, {"grace_days": -1}, {"grace_days": "3"}, {"currency": "nzd"},
                {"field_day_rate": "abc"}):
        assert call(BILL, "put_tenant_billing.json", operator, path={"tenant_id": tenant.tenant_id},
                    body=bad).status == 422, bad
    for bad in ({"gst_number": "12"}, {"legal_name": ""}, {"address": "a\nb"}):
        assert _supplier(operator, **bad).status == 422, bad


def test_each_change_of_who_sets_what_is_audited(tenant, operator):
    _ready(tenant, operator)
    _finalize(tenant)
    _credit(tenant, {"amount": "1", "reason": "x"})
    call(BILL, "put_tenant_billing.json", operator, path={"tenant_id": tenant.tenant_id}, body={"grace_days": 4})
    actions = {i["action"] for i in table_items() if i.get("entity") == "AuditEntry"}
    assert {"billing.details_set", "platform.supplier_set", "invoice.finalize", "credit_note.issue",
            "tenant.billing_set"} <= actions


def test_another_tenants_invoice_cannot_be_finalized_or_credited(tenant, operator):
    _ready(tenant, operator)
    other = call("user_levels", "post_tenants.json", operator, headers={"idempotency-key": ""}, body={
        "name": "Other", "admin_email": "admin@other-tax.example", "admin_name": "O"}).body
    stranger = Identity(other["tenant_id"], other["admin_user_id"], other["owner_account_id"])
    assert _finalize(stranger).status == 404
    assert _credit(stranger, {"amount": "1", "reason": "x"}).status == 404
    assert _invoice(tenant)["status"] == "draft"


# ------------------------------------------------------------------ the schedule
def test_the_schedule_finalizes_drafts_past_their_grace_period(tenant, operator):
    _ready(tenant, operator)  # grace_days 3: September's draft is due once October 3rd is over (Auckland)
    finalize = load_event("billing/sqs_finalize_tenant.json")["Records"][0]

    def run(at: str) -> None:
        body = json.dumps({"kind": "invoice.finalize", "tenant_id": tenant.tenant_id, "at": at})
        assert handler(BILL)({"Records": [{**finalize, "body": body}]}, LambdaContext(BILL)) == {"batchItemFailures": []}

    run("2026-10-03T10:00:00+00:00")  # 23:00 on the 3rd in Auckland: not yet
    assert _invoice(tenant)["status"] == "draft"
    run("2026-10-03T11:00:00+00:00")  # midnight: three days after September ended
    assert (_invoice(tenant)["status"], _invoice(tenant)["number"]) == ("final", "INV-000001")
    entry = next(i for i in table_items() if i.get("entity") == "AuditEntry" and i["action"] == "invoice.finalize")
    assert entry["actor"]["kind"] == "system"


def test_the_daily_schedule_queues_one_message_per_tenant(tenant, operator):
    event = load_event("billing/scheduled_daily_finalize.json")
    event["time"] = "2026-10-05T13:00:00Z"
    assert handler(BILL)(event, LambdaContext(BILL)) == {"task": "invoice.finalize", "tenants": 1}


# ------------------------------------------------------------------ PDFs and events
def test_the_pdf_is_a_tax_invoice_once_final_and_a_draft_says_so(tenant, operator):
    _ready(tenant, operator)
    draft = _raw(BILL, "get_invoice_pdf.json", tenant, {"period": "2026-09"})
    assert draft["statusCode"] == 200 and draft["headers"]["Content-Type"] == "application/pdf"
    assert "DRAFT" in _pdf_text(draft).upper()
    _finalize(tenant)
    text = _pdf_text(_raw(BILL, "get_invoice_pdf.json", tenant, {"period": "2026-09"}))
    for shown in ("Tax invoice", "INV-000001", "SiteGate Limited", "123-456-789", "Acme Traffic Limited",
                  "90.00", "13.50", "103.50"):
        assert shown in text, shown
    _credit(tenant, {"amount": "10.00", "reason": "a day billed twice"})
    note = _pdf_text(_raw(BILL, "get_credit_note_pdf.json", tenant, {"period": "2026-09", "number": "CN-000001"}))
    assert "CN-000001" in note and "INV-000001" in note and "a day billed twice" in note
    missing = _raw(BILL, "get_credit_note_pdf.json", tenant, {"period": "2026-09", "number": "CN-000009"})
    assert missing["statusCode"] == 404


def test_finalizing_and_crediting_tell_invoicing_and_super_admins(tenant, operator, resources):
    _ready(tenant, operator)
    sns_messages(resources)
    _finalize(tenant)
    _credit(tenant, {"amount": "1", "reason": "x"})
    kinds = [json.loads(m["Message"])["type"] if "Message" in m else m["type"] for m in sns_messages(resources)]
    assert kinds == ["invoice.finalized", "credit_note.issued"]
    from sitegate import notifications
    from sitegate.models.events import DomainEvent
    clerk = add_user(tenant, "invoicing")
    add_user(tenant, "operations_user")
    event = DomainEvent(event_id="e", type="invoice.finalized", tenant_id=tenant.tenant_id, occurred_at="x",
                        data={"period": "2026-09", "number": "INV-000001", "total": "1.00", "currency": "NZD"})
    assert {u.user_id for u in notifications.recipients(event)} == {tenant.user_id, clerk}


# ------------------------------------------------------------------ found by attacking the stack
def test_a_credit_note_repeated_with_its_idempotency_key_is_issued_once(tenant, operator):
    _ready(tenant, operator)
    _finalize(tenant)
    key = {"idempotency-key": "cn-once"}
    body = {"amount": "0.50", "reason": "billed twice"}
    first = call(BILL, "post_invoice_credit_notes.json", tenant, path={"period": "2026-09"}, body=body, headers=key)
    again = call(BILL, "post_invoice_credit_notes.json", tenant, path={"period": "2026-09"}, body=body, headers=key)
    other = call(BILL, "post_invoice_credit_notes.json", tenant, path={"period": "2026-09"},
                 body={**body, "amount": "0.60"}, headers=key)
    assert (first.status, again.status, other.status) == (201, 201, 409)
    assert again.body == first.body
    notes = call(BILL, "get_invoice_credit_notes.json", tenant, path={"period": "2026-09"}).body["items"]
    assert [n["number"] for n in notes] == ["CN-000001"]
    void_key = {"idempotency-key": "void-once"}
    voided = [call(BILL, "post_invoice_void.json", tenant, path={"period": "2026-09"}, body={"reason": "x"},
                   headers=void_key) for _ in range(2)]
    assert [v.status for v in voided] == [201, 201] and voided[0].body == voided[1].body


@pytest.mark.parametrize("body", ['{"number": "INV-999999"}', "garbage"])
def test_finalize_takes_no_body(tenant, operator, body):
    _ready(tenant, operator)
    reply = call(BILL, "post_invoice_finalize.json", tenant, path={"period": "2026-09"}, body=body)
    assert reply.status == 422 and reply.body["errors"][0]["field"] == "body"
    assert _invoice(tenant)["status"] == "draft"


def test_the_schedule_numbers_a_backlog_oldest_month_first(tenant, operator):
    clock.freeze(datetime(2026, 6, 20, tzinfo=UTC))
    add_user(tenant, "basic_user")
    clock.freeze(OCTOBER)
    for period in ("2026-07", "2026-08", "2026-09"):
        run_billing(period)
    _supplier(operator), _details(tenant)
    finalize = load_event("billing/sqs_finalize_tenant.json")["Records"][0]
    body = json.dumps({"kind": "invoice.finalize", "tenant_id": tenant.tenant_id, "at": "2026-10-10T00:00:00+00:00"})
    handler(BILL)({"Records": [{**finalize, "body": body}]}, LambdaContext(BILL))
    assert [_invoice(tenant, p)["number"] for p in ("2026-07", "2026-08", "2026-09")] == [
        "INV-000001", "INV-000002", "INV-000003"]


def test_an_invoice_credited_in_full_by_amounts_is_void(tenant, operator):
    _ready(tenant, operator)
    _finalize(tenant)
    assert _credit(tenant, {"amount": "40.00", "reason": "a"}).status == 201
    assert _credit(tenant, {"amount": "50.00", "reason": "the rest"}).status == 201
    invoice = _invoice(tenant)
    assert (invoice["status"], invoice["credited_total"], invoice["credited_gst"]) == ("void", "103.50", "13.50")


def test_a_gst_rate_is_answered_as_it_was_meant(tenant, operator):
    for sent, answered in (("0.1500", "0.15"), ("0.125", "0.125"), ("0.1", "0.10")):
        reply = call(BILL, "put_tenant_billing.json", operator, path={"tenant_id": tenant.tenant_id},
                     body={"gst_rate": sent})
        assert reply.body["gst_rate"] == answered
