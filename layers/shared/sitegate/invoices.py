"""Invoices (docs/DOMAIN.md "Billing"): the monthly run over every tenant, the invoice reads,
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

from aws_lambda_powertools import Logger

from sitegate import billing, clock, policy
from sitegate.billing import BilledUser, Change, Draft, Period, Rates, State, Timeline
from sitegate.data import events, store
from sitegate.errors import Conflict, NotFound
from sitegate.models.events import InvoiceIssued
from sitegate.models.responses import InvoiceLineOut, InvoiceOut, InvoicePage, InvoiceSummary, InvoiceUserOut
from sitegate.models.stored import Invoice, InvoiceLineStored, InvoiceUser, Tenant, UserHistory
from sitegate.policy import Caller

logger = Logger(child=True)
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
    since: dict[str, list[UserHistory]] = defaultdict(list)
    for entry in store.history_since(tenant.tenant_id, period.start.isoformat(timespec="seconds")):
        since[entry.user_id].append(entry)
    found = []
    for user in store.staff_users(tenant):
        entries = sorted(since.get(user.user_id, []), key=lambda e: (_instant(e.at), e.version))
        if entries:
            first = entries[0]
            start = _state(first.previous_status, first.previous_level)
            changes = [Change(_instant(e.at), State(e.status, e.level)) for e in entries if _instant(e.at) < period.end]
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
def _line_fields(ln: billing.Line) -> dict[str, object]:
    """A line as text: money with two decimals, the quantity as decimal text."""
    return {"tier": ln.tier, "user_days": ln.user_days, "quantity": f"{ln.quantity:f}",
            "unit_price": billing.money(ln.unit_price), "amount": billing.money(ln.amount),
            "daily_rate": billing.money(ln.daily_rate)}


def issue(tenant: Tenant, period: Period) -> str:
    """Issue the tenant's invoice for `period` once: `issued`, `already_issued`, `not_ended` (the
    month is not over yet in the tenant's time zone) or `not_a_tenant_yet` (made after the month,
    and nobody of it was active in it: as with a test clock set back).
    The invoice, its billed users and its `invoice.issued` event are one conditional transaction,
    so racing runs issue it once."""
    if period.end > clock.now():
        return "not_ended"
    if store.invoice_issued(tenant.tenant_id, period.name):
        return "already_issued"
    draft = compute(tenant, period)
    if not draft.users and _instant(tenant.created_at) >= period.end:  # not a tenant yet that month: no $0 invoice
        return "not_a_tenant_yet"
    invoice = Invoice(
        tenant_id=tenant.tenant_id, period=period.name, timezone=tenant.timezone, currency=draft.rates.currency,
        days_in_period=period.days_in_month,
        lines=[InvoiceLineStored(**_line_fields(ln)) for ln in draft.lines],
        subtotal=billing.money(draft.subtotal), gst_rate=f"{draft.rates.gst:f}", gst=billing.money(draft.gst),
        total=billing.money(draft.total), user_count=len(draft.users), chunks=0, issued_at=clock.now_iso())
    users = [InvoiceUser(user_id=u.user_id, name=u.name, levels=legend, days=codes)
             for u in draft.users for legend, codes in [billing.encode_days(period, u.levels)]]
    chunks = store.chunk_invoice_users(tenant.tenant_id, period.name, users)
    invoice = invoice.changed(chunks=len(chunks))
    event = events.new_event("invoice.issued", tenant.tenant_id,
                             InvoiceIssued(period=period.name, total=invoice.total, currency=invoice.currency))
    try:
        store.issue_invoice(invoice, chunks, [events.outbox_entry(event)])
    except Conflict:
        if store.invoice_issued(tenant.tenant_id, period.name):  # a concurrent run issued it first
            return "already_issued"
        raise
    events.publish([event])
    return "issued"


@dataclass
class RunReport:
    """What a billing run did, tenant by tenant (failed tenants by id)."""

    period: str | None
    issued: int = 0
    already_issued: int = 0
    not_ended: int = 0
    not_a_tenant_yet: int = 0
    failed: list[str] = field(default_factory=list)
    periods: set[str] = field(default_factory=set)  # the months billed (without a named period: per time zone)

    def as_dict(self) -> dict[str, object]:
        return {"period": self.period or ",".join(sorted(self.periods)) or None, "issued": self.issued,
                "already_issued": self.already_issued, "not_ended": self.not_ended,
                "not_a_tenant_yet": self.not_a_tenant_yet, "failed": len(self.failed), "failed_tenants": self.failed}


def run(period_text: str | None) -> RunReport:
    """Bill every tenant, page by page: `period_text` (YYYY-MM) or, without it, the month before
    the current one in each tenant's time zone. A tenant that fails is logged and reported; the
    others are billed all the same."""
    if period_text is not None:
        billing.parse_period(period_text)  # a bad period stops the run before any tenant
    report = RunReport(period=period_text)
    cursor = None
    while True:
        page = store.tenants_page(TENANTS_PAGE, cursor)
        for tenant in page.items:
            try:
                period = (billing.parse_period(period_text, tenant.timezone) if period_text
                          else billing.month_of(clock.now(), tenant.timezone).previous())
                report.periods.add(period.name)
                outcome = issue(tenant, period)
            except Exception:
                logger.exception("billing a tenant failed", extra={"tenant_id": tenant.tenant_id})
                report.failed.append(tenant.tenant_id)
                continue
            setattr(report, outcome, getattr(report, outcome) + 1)
            logger.info("tenant billed", extra={"tenant_id": tenant.tenant_id, "period": period.name,
                                                "outcome": outcome})
        cursor = page.next_cursor
        if cursor is None:
            return report


# ------------------------------------------------------------------ reads
def _authorized(caller: Caller) -> None:
    policy.require(policy.decide_on_invoices(caller))


def _tenant(caller: Caller) -> Tenant:
    tenant = store.get_tenant(caller.user.tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    return tenant


def _user_out(user: BilledUser) -> InvoiceUserOut:
    return InvoiceUserOut(user_id=user.user_id, name=user.name, tier=user.tier, days=user.days,
                          field_days=user.tier_days("field"), office_days=user.tier_days("office"))


def _issued(caller: Caller, period_text: str) -> tuple[Invoice, Period, list[BilledUser]]:
    _authorized(caller)
    wanted = billing.parse_period(period_text)
    invoice, chunks = store.get_invoice(caller.user.tenant_id, wanted.name)
    if invoice is None:
        raise NotFound(f"no invoice for {wanted.name}")
    period = billing.parse_period(invoice.period, invoice.timezone)
    users = [BilledUser(u.user_id, u.name, billing.decode_days(period, u.levels, u.days))
             for chunk in chunks for u in chunk.users]
    return invoice, period, users


def get_invoice(caller: Caller, period_text: str) -> InvoiceOut:
    invoice, _, users = _issued(caller, period_text)
    return InvoiceOut(period=invoice.period, status=invoice.status, currency=invoice.currency,
                      timezone=invoice.timezone, days_in_period=invoice.days_in_period,
                      lines=[InvoiceLineOut.model_validate(ln.model_dump()) for ln in invoice.lines],
                      subtotal=invoice.subtotal, gst_rate=invoice.gst_rate, gst=invoice.gst, total=invoice.total,
                      users=[_user_out(u) for u in users], issued_at=invoice.issued_at)


def invoice_csv(caller: Caller, period_text: str) -> str:
    """The invoice's billed user-days as CSV: `date,user_id,name,level,tier`, one row per user-day."""
    _, _, users = _issued(caller, period_text)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(billing.CSV_HEADER)
    writer.writerows(billing.csv_rows(users))
    return out.getvalue()


def list_invoices(caller: Caller, limit: int, cursor: str | None) -> InvoicePage:
    _authorized(caller)
    page = store.invoices_page(caller.user.tenant_id, limit, cursor)
    return InvoicePage(items=[InvoiceSummary(period=i.period, total=i.total, status=i.status, currency=i.currency,
                                             issued_at=i.issued_at) for i in page.items],
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

