"""From invoice to New Zealand tax invoice (docs/DOMAIN.md "Billing: tax invoices").

A monthly run makes a draft (`invoices.issue`); finalizing it gives it the tenant's next `INV-` number and
fixes both parties as they then are, in one transaction with the number's sequence, so racing
finalizations never skip nor repeat a number. A final invoice changes only by what credit notes take off
it (`CN-` numbers, their own sequence); void is the credit note for all that is left. The platform operator
sets the supplier and each tenant's rates; the tenant's Super Admins and Invoicing users its billing details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from sitegate import audit, billing, clock, policy
from sitegate.data import core, events, invoice_store, queues, tenant_store
from sitegate.data.idempotency import Idempotency
from sitegate.data.invoice_store import TaxReads
from sitegate.errors import Conflict, InvalidInput, NotFound, invalid
from sitegate.models.billing import FinalizeTenant
from sitegate.models.events import CreditNoteIssued, InvoiceFinalized
from sitegate.models.stored import BillingDetails, CreditLine, CreditNote, Invoice, Supplier, TaxParty, Tenant
from sitegate.models.tax_invoices import (
    BillingDetailsOut,
    BillingDetailsSet,
    CreditCreate,
    CreditNoteOut,
    CreditNotePage,
    SupplierOut,
    SupplierSet,
    TenantBillingOut,
    TenantBillingSet,
    VoidCreate,
)
from sitegate.policy import Caller
from sitegate.settings import get_settings

logger = Logger(child=True)
BUYER_DETAILS_ABOVE = Decimal("1000.00")  # a total above this needs the buyer's address, NZBN or email
ATTEMPTS = 5  # a finalization or credit losing the race for a number reads again and takes the next one
# ------------------------------------------------------------------ what a tax invoice needs
def missing_fields(supplier: Supplier | None, buyer: BillingDetails | None, total: str) -> list[tuple[str, str]]:
    """Each field the taxable supply information of an invoice of `total` lacks, named as the route sets it."""
    missing = []
    for name in ("legal_name", "gst_number", "address"):
        if supplier is None or not getattr(supplier, name):
            missing.append((f"supplier.{name}", "the supplier's " + name.replace("_", " ") +
                            " (the platform operator sets it: PUT /platform/supplier)"))
    if buyer is None or not buyer.legal_name:
        missing.append(("buyer.legal_name", "the buyer's legal name (PUT /billing/details)"))
    if Decimal(total) > BUYER_DETAILS_ABOVE and not (buyer and (buyer.address or buyer.nzbn or buyer.billing_email)):
        missing.append(("buyer.address", "a total over $1,000.00 needs the buyer's address, NZBN or billing email "
                                         "(PUT /billing/details)"))
    return missing


def _supplier_party(supplier: Supplier) -> TaxParty:
    return TaxParty(legal_name=supplier.legal_name, gst_number=supplier.gst_number, address=supplier.address)


def _buyer_party(buyer: BillingDetails) -> TaxParty:
    return TaxParty(legal_name=buyer.legal_name, address=buyer.address, nzbn=buyer.nzbn,
                    billing_email=buyer.billing_email)


def _today(invoice: Invoice) -> str:
    return billing.month_of(clock.now(), invoice.timezone).local_date(clock.now()).isoformat()


# ------------------------------------------------------------------ finalizing
def _head(tenant_id: str, period_text: str) -> Invoice:
    """The invoice alone (one GetItem: finalizing, crediting and its PDF read none of its billed users), or 404."""
    period = billing.parse_period(period_text)
    invoice = invoice_store.get_invoice_head(tenant_id, period.name)
    if invoice is None:
        raise NotFound(f"no invoice for {period.name}")
    return invoice


def _finalize_once(invoice: Invoice, reads: TaxReads) -> Invoice:
    if invoice.status != "draft":
        raise Conflict(f"the invoice for {invoice.period} is {invoice.status} already ({invoice.number})")
    missing = missing_fields(reads.supplier, reads.buyer, invoice.total)
    if missing:
        raise invalid(*missing[0], *missing[1:])
    assert reads.supplier is not None and reads.buyer is not None
    n, take = invoice_store.next_number(invoice.tenant_id, "INV", reads.invoices)
    final = invoice.changed(status="final", number=f"INV-{n:06d}", finalized_at=clock.now_iso(),
                            issue_date=_today(invoice), supplier=_supplier_party(reads.supplier),
                            buyer=_buyer_party(reads.buyer), version=invoice.version + 1)
    event = events.new_event("invoice.finalized", invoice.tenant_id, InvoiceFinalized(
        period=final.period, number=final.number or "", total=final.total, currency=final.currency))
    invoice_store.write_numbered(final, take, [audit.change("invoice.finalize", invoice, final),
                                               events.outbox_entry(event)])
    events.publish([event])
    return final


def finalize(tenant_id: str, period_text: str) -> Invoice:
    """Finalize a draft: 404 without one, 409 when it is final already, 422 naming each missing tax-invoice field."""
    for _ in range(ATTEMPTS):
        invoice = _head(tenant_id, period_text)
        try:
            return _finalize_once(invoice, invoice_store.tax_reads(tenant_id))
        except core.Stale:
            continue  # the number (or the draft) moved meanwhile: read again
    raise Conflict("the invoice sequence is busy; try again")


def finalize_by(caller: Caller, period_text: str) -> Invoice:
    policy.require(policy.decide_invoice_change(caller))
    return finalize(caller.user.tenant_id, period_text)


@dataclass
class DueReport:
    finalized: int = 0
    blocked: int = 0  # drafts past their grace period that lack tax-invoice fields: they wait, and are counted


def finalize_due(tenant: Tenant, at: datetime) -> DueReport:
    """The schedule's part: finalize every draft of the tenant whose month ended `grace_days` or more before
    `at`. A draft lacking tax-invoice fields stays a draft (logged and counted); the next run tries again."""
    report = DueReport()
    due, cursor = [], None
    while True:
        page = invoice_store.invoices_page(tenant.tenant_id, 100, cursor)
        for invoice in page.items:
            period = billing.parse_period(invoice.period, invoice.timezone)
            if invoice.status == "draft" and period.end.timestamp() + tenant.grace_days * 86400 <= at.timestamp():
                due.append(invoice.period)
        cursor = page.next_cursor
        if cursor is None:
            break
    for period_name in sorted(due):  # oldest month first: its number is the lower one
        try:
            with audit.as_system(tenant.tenant_id):
                finalize(tenant.tenant_id, period_name)
            report.finalized += 1
        except InvalidInput as exc:
            report.blocked += 1
            logger.warning("draft past its grace period not finalized: tax-invoice fields missing",
                           extra={"tenant_id": tenant.tenant_id, "period": period_name,
                                  "missing": [e["field"] for e in exc.details.get("errors", [])]})
        except Conflict:
            continue  # finalized by someone else meanwhile
    return report


def fan_out_finalize(scheduled_at: datetime, run_id: str) -> int:
    """The daily schedule: one message per tenant, finalizing its drafts past their grace period at the
    scheduled time. Its only loop over tenants pages their ids; each tenant is finalized in its own invocation."""
    return queues.send_per_tenant(get_settings().billing_queue_url, lambda tenant_id: FinalizeTenant(
        tenant_id=tenant_id, at=scheduled_at, run_id=run_id).model_dump_json())


def finalize_tenant(message: FinalizeTenant) -> DueReport | None:
    tenant = tenant_store.get_tenant(message.tenant_id)
    return None if tenant is None else finalize_due(tenant, message.at)


# ------------------------------------------------------------------ PDFs
def _party(party: TaxParty | None) -> Any:
    from sitegate import tax_pdf

    p = party or TaxParty()
    return tax_pdf.Party(legal_name=p.legal_name, gst_number=p.gst_number, address=p.address, nzbn=p.nzbn,
                         email=p.billing_email)


TIER_NAMES = {"field": "Field users", "office": "Office users"}


def invoice_pdf(caller: Caller, period_text: str) -> bytes:
    """The invoice as a PDF: a tax invoice once final (a void one too: its credit notes cancel it); a draft says
    so on every page."""
    from sitegate import tax_pdf

    policy.require(policy.decide_on_invoices(caller))
    invoice = _head(caller.user.tenant_id, period_text)
    draft = invoice.status == "draft"
    supplier, buyer = invoice.supplier, invoice.buyer
    if draft:  # as it would be printed if finalized now
        reads = invoice_store.tax_reads(caller.user.tenant_id)
        supplier = _supplier_party(reads.supplier) if reads.supplier else None
        buyer = _buyer_party(reads.buyer) if reads.buyer else None
    return tax_pdf.render(tax_pdf.TaxDocument(
        kind="invoice", number=invoice.number, draft=draft, issue_date=invoice.issue_date, period=invoice.period,
        supplier=_party(supplier), buyer=_party(buyer), description=billing.supply_of(invoice.period),
        currency=invoice.currency,
        lines=[tax_pdf.DocLine(description=TIER_NAMES.get(ln.tier, ln.tier), user_days=ln.user_days,
                               quantity=ln.quantity, unit_price=ln.unit_price, amount=ln.amount) for ln in invoice.lines],
        subtotal=invoice.subtotal, gst_rate=invoice.gst_rate, gst=invoice.gst, total=invoice.total))


def credit_note_pdf(caller: Caller, period_text: str, number: str) -> bytes:
    from sitegate import tax_pdf

    invoice, note = credit_note(caller, period_text, number)
    lines = [tax_pdf.DocLine(description=f"Credit: {TIER_NAMES.get(ln.tier, ln.tier)}", user_days=None,
                             quantity=ln.quantity, unit_price=ln.unit_price, amount=ln.amount) for ln in note.lines]
    if not lines:
        lines = [tax_pdf.DocLine(description="Void: all that was left" if note.kind == "void" else
                                 f"Credit: {note.reason}", user_days=None, quantity=None, unit_price=None,
                                 amount=note.amount)]
    return tax_pdf.render(tax_pdf.TaxDocument(
        kind="credit_note", number=note.number, draft=False, issue_date=note.issue_date, period=note.period,
        supplier=_party(note.supplier), buyer=_party(note.buyer), description=billing.supply_of(note.period),
        currency=note.currency, lines=lines, subtotal=note.amount, gst_rate=note.gst_rate, gst=note.gst,
        total=note.total, invoice_number=invoice.number, reason=note.reason))


# ------------------------------------------------------------------ credit notes and void
def _credit_once(caller: Caller, invoice: Invoice, reads: TaxReads, request: CreditCreate | VoidCreate,
                 kind: str, idempotency: Idempotency | None) -> CreditNote:
    if invoice.status == "draft":
        raise Conflict(f"the invoice for {invoice.period} is a draft: correct it by recomputing, not crediting")
    left = billing.left_of(invoice.subtotal, invoice.gst, invoice.total, invoice.credited_subtotal,
                           invoice.credited_gst, invoice.credited_total)
    if invoice.status == "void" or left.total <= 0:
        raise Conflict(f"nothing is left to credit on {invoice.number}")
    rate, lines = Decimal(invoice.gst_rate), []
    quantities = dict(invoice.credited_quantities)
    if kind == "void":
        amount = left.subtotal
    elif isinstance(request, CreditCreate) and request.amount is not None:
        amount = Decimal(request.amount)
    else:
        assert isinstance(request, CreditCreate) and request.lines is not None
        on_invoice = {ln.tier: ln for ln in invoice.lines}
        for n, wanted in enumerate(request.lines):
            line = on_invoice.get(wanted.tier)
            had = Decimal(quantities.get(wanted.tier, "0"))
            if line is None or Decimal(wanted.quantity) + had > Decimal(line.quantity):
                most = Decimal(line.quantity) - had if line else Decimal(0)
                raise invalid(f"lines.{n}.quantity", f"at most {most:f} of the {wanted.tier} line is left to credit")
            credit = billing.line_credit(Decimal(wanted.quantity), Decimal(line.unit_price))
            lines.append(CreditLine(tier=wanted.tier, quantity=wanted.quantity, unit_price=line.unit_price,
                                    amount=billing.money(credit)))
            quantities[wanted.tier] = f"{had + Decimal(wanted.quantity):f}"
        amount = sum((Decimal(ln.amount) for ln in lines), Decimal("0.00"))
    if amount <= 0:
        raise invalid("amount" if not lines else "lines", "a credit note credits more than $0.00")
    if amount > left.subtotal:
        raise invalid("amount" if not lines else "lines",
                      f"at most {billing.money(left.subtotal)} (GST-exclusive) is left to credit on {invoice.number}")
    gst = billing.credit_gst(amount, left, rate)
    n, take = invoice_store.next_number(invoice.tenant_id, "CN", reads.credit_notes)
    note = CreditNote(tenant_id=invoice.tenant_id, period=invoice.period, number=f"CN-{n:06d}",
                      invoice_number=invoice.number or "", kind=kind, amount=billing.money(amount),
                      gst=billing.money(gst), total=billing.money(amount + gst), lines=lines, reason=request.reason,
                      issued_at=clock.now_iso(), issue_date=_today(invoice), issued_by=caller.user.user_id,
                      currency=invoice.currency, gst_rate=invoice.gst_rate, supplier=invoice.supplier,
                      buyer=invoice.buyer)
    after = invoice.changed(
        credited_subtotal=billing.money(Decimal(invoice.credited_subtotal) + amount),
        credited_gst=billing.money(Decimal(invoice.credited_gst) + gst),
        credited_total=billing.money(Decimal(invoice.credited_total) + amount + gst),
        credited_quantities=quantities, credit_notes=invoice.credit_notes + 1,
        # credited in full, by a void or by credits that add up to it, the invoice is void
        status="void" if kind == "void" or amount + gst == left.total else invoice.status,
        version=invoice.version + 1)
    event = events.new_event("credit_note.issued", invoice.tenant_id, CreditNoteIssued(
        period=note.period, number=note.number, invoice_number=note.invoice_number, kind=kind, total=note.total,
        currency=note.currency))
    invoice_entry = audit.change("invoice.void" if kind == "void" else "credit_note.issue", invoice, after)
    marker = [idempotency.create(CreditNoteOut.of(note))] if idempotency is not None else []
    invoice_store.write_numbered(after, take, [
        core.Create(note, "credit note already exists"), audit.change("credit_note.issue", None, note),
        invoice_entry, events.outbox_entry(event), *marker])
    events.publish([event])
    return note


def credit(caller: Caller, period_text: str, request: CreditCreate | VoidCreate, kind: str = "credit",
           idempotency: Idempotency | None = None) -> CreditNoteOut:
    """A credit note (or, `kind` void, the one for all that is left). 409 for a draft or a void invoice; 422
    past what is left to credit."""
    policy.require(policy.decide_invoice_change(caller))
    if isinstance(request, CreditCreate) and (request.amount is None) == (request.lines is None):
        raise invalid("amount", "give either amount (GST-exclusive) or lines, not both nor neither")
    for _ in range(ATTEMPTS):
        invoice = _head(caller.user.tenant_id, period_text)
        try:
            return CreditNoteOut.of(_credit_once(caller, invoice, invoice_store.tax_reads(caller.user.tenant_id),
                                                 request, kind, idempotency))
        except core.Stale:
            continue
    raise Conflict("the credit-note sequence is busy; try again")


def credit_notes(caller: Caller, period_text: str) -> CreditNotePage:
    policy.require(policy.decide_on_invoices(caller))
    invoice = _head(caller.user.tenant_id, period_text)
    notes = invoice_store.credit_notes_of(invoice.tenant_id, invoice.period)
    return CreditNotePage(items=[CreditNoteOut.of(c) for c in notes], next_cursor=None)


def credit_note(caller: Caller, period_text: str, number: str) -> tuple[Invoice, CreditNote]:
    policy.require(policy.decide_on_invoices(caller))
    invoice = _head(caller.user.tenant_id, period_text)
    found = next((c for c in invoice_store.credit_notes_of(invoice.tenant_id, invoice.period) if c.number == number),
                 None)
    if found is None:
        raise NotFound(f"no credit note {number} on the invoice for {invoice.period}")
    return invoice, found


# ------------------------------------------------------------------ who sets what
def get_billing_details(caller: Caller) -> BillingDetailsOut:
    policy.require(policy.decide_on_invoices(caller))
    return BillingDetailsOut.of(invoice_store.get_billing_details(caller.user.tenant_id))


def set_billing_details(caller: Caller, request: BillingDetailsSet) -> BillingDetailsOut:
    policy.require(policy.decide_invoice_change(caller))
    tenant_id = caller.user.tenant_id
    before = invoice_store.get_billing_details(tenant_id)
    after = BillingDetails(tenant_id=tenant_id, **request.model_dump(), updated_by=caller.user.user_id,
                           updated_at=clock.now_iso(), version=(before.version if before else 0) + 1)
    put = core.Replace(after, "the billing details changed meanwhile") if before else core.Create(
        after, "the billing details were set meanwhile")
    core.write_all([put, audit.change("billing.details_set", before, after)])
    return BillingDetailsOut.of(after)


def get_supplier(caller: Caller) -> SupplierOut:
    policy.require(policy.decide(caller, "supplier.edit"))
    return SupplierOut.of(invoice_store.get_supplier())


def set_supplier(caller: Caller, request: SupplierSet) -> SupplierOut:
    policy.require(policy.decide(caller, "supplier.edit"))
    before = invoice_store.get_supplier()
    after = Supplier(**request.model_dump(), updated_by=caller.user.user_id, updated_at=clock.now_iso(),
                     version=(before.version if before else 0) + 1)
    put = core.Replace(after, "the supplier changed meanwhile") if before else core.Create(
        after, "the supplier was set meanwhile")
    core.write_all([put, audit.change("platform.supplier_set", before, after)])
    return SupplierOut.of(after)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) else 0


def set_tenant_billing(caller: Caller, tenant_id: str, request: TenantBillingSet) -> TenantBillingOut:
    """The operator sets a tenant's rates, GST rate, currency and grace days (absent fields stay). Drafts
    recomputed afterwards use them; final invoices keep theirs."""
    policy.require(policy.decide(caller, "tenant.billing"))
    tenant = tenant_store.get_tenant(tenant_id)
    if tenant is None:
        raise NotFound(f"tenant {tenant_id} not found")
    changes = request.model_dump(exclude_none=True)
    if "gst_rate" in changes:
        if not Decimal(changes["gst_rate"]) < 1:
            raise invalid("gst_rate", "a fraction below 1, like 0.15")
        rate = Decimal(changes["gst_rate"])
        changes["gst_rate"] = f"{max(rate.normalize(), rate.quantize(Decimal('0.01')), key=_places):f}"
    after = tenant.changed(**changes, version=tenant.version + 1)
    core.write_all([core.Replace(after, "the tenant changed meanwhile"),
                    audit.change("tenant.billing_set", tenant, after, tenant_id=tenant_id)])
    return TenantBillingOut.of(after)
