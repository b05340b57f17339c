"""Invoices (docs/DOMAIN.md "Billing"): the monthly fan-out (one queue message per tenant), billing
one tenant for the month its message names, the invoice reads,
its CSV of billed user-days and the month-to-date preview. The arithmetic is `sitegate.billing`'s.

A month is read with two Queries whatever its length: the owner account's users (their current
state and names) and the tenant's history since the month's start (GSI2, in time order). Each
history entry carries the state it replaced, so a user's state at the month's start is the
`previous_*` of its first entry since then; a user with no entry since then held its current
state all month. Nothing is read per user.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict

from aws_lambda_powertools import Logger

from sitegate import audit, billing, clock, policy
from sitegate.billing import BilledUser, Change, Draft, Period, Rates, State, Timeline
from sitegate.data import core, events, invoice_store, queues, tenant_store, user_store
from sitegate.errors import Conflict, NotFound
from sitegate.models.billing import BillingRun, BillTenant
from sitegate.models.events import InvoiceIssued
from sitegate.models.responses import InvoiceLineOut, InvoiceOut, InvoicePage, InvoiceSummary, InvoiceUserOut
from sitegate.models.stored import Invoice, InvoiceLineStored, InvoiceUser, InvoiceUsers, StateChange, Tenant
from sitegate.policy import Caller
from sitegate.settings import get_settings

logger = Logger(child=True)
# Tenant items per Query page of the fan-out (GSI1 `T#platform#TENANTS`, items of well under 1 KB: a page
# stays far below Query's 1 MB). 1,000 tenants: 11 Queries (a full last page still has a cursor) and
# 100 SendMessageBatch calls.
TENANTS_PAGE = 100


def rates_of(tenant: Tenant) -> Rates:
    return Rates(field=Decimal(tenant.field_day_rate), office=Decimal(tenant.office_day_rate),
                 gst=Decimal(tenant.gst_rate), currency=tenant.currency)


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def _state(status: str | None, level: str | None) -> State | None:
    return None if status is None or level is None else State(status, level)


def timelines(tenant: Tenant, period: Period) -> list[Timeline]:
    """Every staff user's state at the period's start and its changes in the period."""
    since: dict[str, list[tuple[datetime, StateChange]]] = defaultdict(list)
    for entry in user_store.history_since(tenant.tenant_id, period.start.isoformat(timespec="seconds")):
        since[entry.user_id].append((_instant(entry.at), entry))  # parsed once: 30,000 entries at 10,000 staff
    found = []
    for user in user_store.staff_users(tenant):
        entries = sorted(since.get(user.user_id, []), key=lambda found: (found[0], found[1].version))
        if entries:
            first = entries[0][1]
            start = _state(first.previous_status, first.previous_level)
            changes = [Change(at, State(e.status, e.level)) for at, e in entries if at < period.end]
        elif _instant(user.created_at) < period.start:  # unchanged since before the period
            start, changes = State(user.status, user.level), []
        else:  # made after the start without a history entry (not written by SiteGate): from its creation
            start, changes = None, [Change(_instant(user.created_at), State(user.status, user.level))]
        found.append(Timeline(user.user_id, user.name, start, changes))
    return found


def compute(tenant: Tenant, period: Period, until: datetime | None = None) -> Draft:
    users = [BilledUser(t.user_id, t.name, billing.billed_days(t, period, until)) for t in timelines(tenant, period)]
    return billing.draft(period, users, rates_of(tenant))


# ------------------------------------------------------------------ issuing
class _LineFields(TypedDict):
    tier: str
    user_days: int
    quantity: str
    unit_price: str
    amount: str
    daily_rate: str


def _line_fields(ln: billing.Line) -> _LineFields:
    """A line as text: money with two decimals, the quantity as decimal text."""
    return {"tier": ln.tier, "user_days": ln.user_days, "quantity": f"{ln.quantity:f}",
            "unit_price": billing.money(ln.unit_price), "amount": billing.money(ln.amount),
            "daily_rate": billing.money(ln.daily_rate)}


def _drafted(tenant: Tenant, period: Period, draft: Draft) -> tuple[Invoice, list[InvoiceUsers]]:
    invoice = Invoice(
        tenant_id=tenant.tenant_id, period=period.name, timezone=tenant.timezone, currency=draft.rates.currency,
        days_in_period=period.days_in_month,
        lines=[InvoiceLineStored(**_line_fields(ln)) for ln in draft.lines],
        subtotal=billing.money(draft.subtotal), gst_rate=f"{draft.rates.gst:f}", gst=billing.money(draft.gst),
        total=billing.money(draft.total), user_count=len(draft.users), chunks=0, issued_at=clock.now_iso())
    users = [InvoiceUser(user_id=u.user_id, name=u.name, levels=legend, days=codes)
             for u in draft.users for legend, codes in [billing.encode_days(period, u.levels)]]
    chunks = invoice_store.chunk_invoice_users(tenant.tenant_id, period.name, users)
    return invoice.changed(chunks=len(chunks)), chunks


def _same_bill(old: Invoice, new: Invoice, old_chunks: list[InvoiceUsers], new_chunks: list[InvoiceUsers]) -> bool:
    fields = ("currency", "lines", "subtotal", "gst_rate", "gst", "total", "user_count")
    return (all(getattr(old, f) == getattr(new, f) for f in fields)
            and [c.users for c in old_chunks] == [c.users for c in new_chunks])


def issue(tenant: Tenant, period: Period) -> str:
    """Make or recompute the tenant's draft invoice for `period`: `issued` (a new draft), `recomputed`,
    `unchanged`, `already_final` (final or void: never changed again), `not_ended` (the month is not over yet
    in the tenant's time zone) or `not_a_tenant_yet` (made after the month, and nobody of it was active in it:
    as with a test clock set back). A new draft, its billed users and its `invoice.issued` event are one
    conditional transaction, so racing runs make it once; a recompute is conditional on the draft's version."""
    if period.end > clock.now():
        return "not_ended"
    existing = invoice_store.get_invoice_head(tenant.tenant_id, period.name)  # one GetItem; its users only for a draft
    if existing is not None and existing.status != "draft":
        return "already_final"
    draft = compute(tenant, period)
    if existing is None and not draft.users and _instant(tenant.created_at) >= period.end:
        return "not_a_tenant_yet"  # not a tenant yet that month: no $0 invoice
    invoice, chunks = _drafted(tenant, period, draft)
    if existing is not None:
        _, old_chunks = invoice_store.get_invoice(tenant.tenant_id, period.name)
        if _same_bill(existing, invoice, old_chunks, chunks):
            return "unchanged"
        again = invoice.changed(issued_at=existing.issued_at, version=existing.version + 1)
        with audit.as_system(tenant.tenant_id):
            entry = audit.change("invoice.recompute", existing, again)
        try:
            invoice_store.recompute_draft(again, chunks, existing.chunks, entry)
        except core.Stale:
            return "already_final"  # finalized (or recomputed) by someone else meanwhile: theirs stands
        return "recomputed"
    event = events.new_event("invoice.issued", tenant.tenant_id,
                             InvoiceIssued(period=period.name, total=invoice.total, currency=invoice.currency))
    with audit.as_system(tenant.tenant_id):  # the monthly schedule's work, wherever it is called from
        entry = audit.change("invoice.issue", None, invoice)
    try:
        invoice_store.issue_invoice(invoice, chunks, [events.outbox_entry(event), entry])
    except Conflict:
        if invoice_store.invoice_issued(tenant.tenant_id, period.name):  # a concurrent run issued it first
            return "already_issued"
        raise
    events.publish([event])
    return "issued"


# ------------------------------------------------------------------ the monthly fan-out
@dataclass
class FanOut:
    """What a scheduled run queued: one message per tenant, each naming the month to bill."""

    run_id: str
    period: str | None  # the month named by the event; None: the month before the scheduled time's
    tenants: int = 0
    pages: int = 0  # tenant Query pages read
    send_calls: int = 0  # SendMessageBatch calls
    periods: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, object]:
        return {"run_id": self.run_id, "period": self.period or ",".join(sorted(self.periods)) or None,
                "tenants": self.tenants, "pages": self.pages, "send_calls": self.send_calls}


def fan_out(run: BillingRun) -> FanOut:
    """Queue one billing message per tenant: the month `run` names, or the month before the one its
    scheduled time falls in, in each tenant's time zone. Its only loop over tenants is this paging of
    their ids: one Query per TENANTS_PAGE tenants and one SendMessageBatch per 10; the billing itself
    happens per tenant, in its own invocation (`bill`). A bad month (outside the calendar) is refused
    before any message is sent (InvalidInput: the handler drops the event). Repeating a run (a retry of
    a fan-out that failed part-way) sends the same messages again: billing them is idempotent."""
    named = billing.parse_period(run.detail.period) if run.detail.period else None
    if named is None:  # every time zone's month is in the calendar, or no message goes out
        for zone in billing.EXTREME_ZONES:
            billing.month_of(run.scheduled_at, zone).previous()
    report = FanOut(run.run_id, named.name if named else None)
    queue_url = get_settings().billing_queue_url
    cursor = None
    while True:
        page = tenant_store.tenants_page(TENANTS_PAGE, cursor)
        report.pages += 1
        messages = [BillTenant(tenant_id=t.tenant_id, run_id=run.run_id,
                               period=named.name if named else billing.month_of(run.scheduled_at, t.timezone).previous().name)
                    for t in page.items]
        report.send_calls += queues.send_all(queue_url, [m.model_dump_json() for m in messages])
        report.tenants += len(messages)
        report.periods.update(m.period for m in messages)
        cursor = page.next_cursor
        if cursor is None:
            return report


def bill(message: BillTenant) -> str:
    """Bill one tenant for the month its message names (`issue`'s outcome), or `no_such_tenant`.
    Delivered twice (SQS is at-least-once, a fan-out may repeat), it issues one invoice: `issue`
    checks first and writes with a condition."""
    tenant = tenant_store.get_tenant(message.tenant_id)
    if tenant is None:
        return "no_such_tenant"
    return issue(tenant, billing.parse_period(message.period, tenant.timezone))


# ------------------------------------------------------------------ reads
def _authorized(caller: Caller) -> None:
    policy.require(policy.decide_on_invoices(caller))


def _tenant(caller: Caller) -> Tenant:
    tenant = tenant_store.get_tenant(caller.user.tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


def _user_out(user: BilledUser) -> InvoiceUserOut:
    return InvoiceUserOut(user_id=user.user_id, name=user.name, tier=user.tier, days=user.days,
                          field_days=user.tier_days("field"), office_days=user.tier_days("office"))


def read_invoice(caller: Caller, period_text: str) -> tuple[Invoice, Period, list[BilledUser]]:
    _authorized(caller)
    wanted = billing.parse_period(period_text)
    invoice, chunks = invoice_store.get_invoice(caller.user.tenant_id, wanted.name)
    if invoice is None:
        raise NotFound(f"no invoice for {wanted.name}")
    period = billing.parse_period(invoice.period, invoice.timezone)
    users = [BilledUser(u.user_id, u.name, billing.decode_days(period, u.levels, u.days))
             for chunk in chunks for u in chunk.users]
    return invoice, period, users


def invoice_out(invoice: Invoice, users: list[BilledUser]) -> InvoiceOut:
    def party(p: Any) -> dict[str, str | None] | None:
        return None if p is None else p.model_dump()

    return InvoiceOut(period=invoice.period, status=invoice.status, currency=invoice.currency,
                      timezone=invoice.timezone, days_in_period=invoice.days_in_period,
                      lines=[InvoiceLineOut.model_validate(ln.model_dump()) for ln in invoice.lines],
                      subtotal=invoice.subtotal, gst_rate=invoice.gst_rate, gst=invoice.gst, total=invoice.total,
                      users=[_user_out(u) for u in users], issued_at=invoice.issued_at, number=invoice.number,
                      issue_date=invoice.issue_date, finalized_at=invoice.finalized_at,
                      description=billing.supply_of(invoice.period), supplier=party(invoice.supplier),
                      buyer=party(invoice.buyer), credited_subtotal=invoice.credited_subtotal,
                      credited_gst=invoice.credited_gst, credited_total=invoice.credited_total,
                      credit_notes=invoice.credit_notes)


def get_invoice(caller: Caller, period_text: str) -> InvoiceOut:
    invoice, _, users = read_invoice(caller, period_text)
    return invoice_out(invoice, users)


def billed_users(invoice: Invoice, chunks: list[InvoiceUsers]) -> list[BilledUser]:
    period = billing.parse_period(invoice.period, invoice.timezone)
    return [BilledUser(u.user_id, u.name, billing.decode_days(period, u.levels, u.days))
            for chunk in chunks for u in chunk.users]


def invoice_csv(caller: Caller, period_text: str) -> str:
    """The invoice's billed user-days as CSV: `date,user_id,name,level,tier`, one row per user-day."""
    _, _, users = read_invoice(caller, period_text)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(billing.CSV_HEADER)
    writer.writerows(billing.csv_rows(users))
    return out.getvalue()


def list_invoices(caller: Caller, limit: int, cursor: str | None) -> InvoicePage:
    _authorized(caller)
    page = invoice_store.invoices_page(caller.user.tenant_id, limit, cursor)
    return InvoicePage(items=[InvoiceSummary(period=i.period, total=i.total, status=i.status, currency=i.currency,
                                             issued_at=i.issued_at, number=i.number) for i in page.items],
                       next_cursor=page.next_cursor)


def preview(caller: Caller) -> InvoiceOut:
    """The current month to date (today included, in the tenant's time zone), computed now, not stored."""
    _authorized(caller)
    tenant = _tenant(caller)
    now = clock.now()
    period = billing.month_of(now, tenant.timezone)
    draft = compute(tenant, period, until=now + timedelta(seconds=1))  # active now: today counts
    return InvoiceOut(
        period=period.name, status="preview", currency=draft.rates.currency, timezone=tenant.timezone,
        days_in_period=period.days_in_month,
        lines=[InvoiceLineOut(**_line_fields(ln)) for ln in draft.lines],
        subtotal=billing.money(draft.subtotal), gst_rate=f"{draft.rates.gst:f}", gst=billing.money(draft.gst),
        total=billing.money(draft.total), users=[_user_out(u) for u in draft.users], issued_at=None,
        through=period.local_date(now).isoformat())

