"""Invoices and the chunks of their billed users."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sitegate import keys
from sitegate.data import core
from sitegate.models.stored import BillingDetails, CreditNote, Invoice, InvoiceUsers, NumberSequence, Supplier

INVOICE_CHUNK_BYTES = 300_000  # billed users per chunk item, well under DynamoDB's 400 KB item limit
_PAGE = 1000  # items per Query page when reading an invoice's chunks (within DynamoDB's 1 MB)


def chunk_invoice_users(tenant_id: str, period: str, users: Sequence[Any]) -> list[InvoiceUsers]:
    """Billed users split into items of at most INVOICE_CHUNK_BYTES each."""
    chunks: list[InvoiceUsers] = []
    current: list[Any] = []
    size = 0
    for user in users:
        user_size = len(user.model_dump_json()) + 64  # attribute names and map overhead
        if current and size + user_size > INVOICE_CHUNK_BYTES:
            chunks.append(InvoiceUsers(tenant_id=tenant_id, period=period, chunk=len(chunks), users=current))
            current, size = [], 0
        current.append(user)
        size += user_size
    if current:
        chunks.append(InvoiceUsers(tenant_id=tenant_id, period=period, chunk=len(chunks), users=current))
    return chunks


def issue_invoice(invoice: Invoice, chunks: Sequence[InvoiceUsers], also: Sequence[core.Create] = ()) -> None:
    """Write an invoice, its billed users and `also` (its event's outbox entry) in one transaction,
    only if the tenant has no invoice for the period yet (Conflict otherwise): table keys
    `T#t#INVOICE#{period}` / `INVOICE` and `USERS#{chunk}`."""
    conflict = f"the invoice for {invoice.period} is already issued"
    core.write(creates=[core.Create(invoice, conflict), *(core.Create(c, conflict) for c in chunks), *also])


def invoice_issued(tenant_id: str, period: str) -> bool:
    """Has the tenant's invoice for the period been issued? Table key `T#t#INVOICE#{period}` / `INVOICE`."""
    return core.get_raw(keys.invoice(tenant_id, period), ConsistentRead=True, ProjectionExpression="PK") is not None


@dataclass(frozen=True)
class InvoiceRead:
    invoice: Invoice | None
    chunks: list[InvoiceUsers]
    credit_notes: list[CreditNote]


def read_invoice(tenant_id: str, period: str) -> InvoiceRead:
    """An invoice with its billed users and its credit notes: table partition `T#t#INVOICE#{period}` (one Query)."""
    items = core.query_all_items(keys.invoice_partition(tenant_id, period), consistent=True, page_size=_PAGE)
    header = next((i for i in items if i["SK"] == keys.invoice(tenant_id, period)["SK"]), None)
    chunks = sorted((InvoiceUsers.model_validate(i) for i in items if i["SK"].startswith(keys.INVOICE_USERS_PREFIX)),
                    key=lambda c: c.chunk)
    credits = sorted(core.models_of(CreditNote, (i for i in items if i["SK"].startswith(keys.CREDIT_NOTE_PREFIX))),
                     key=lambda c: c.number)
    return InvoiceRead(core.model_of(Invoice, header), chunks, credits)


def get_invoice(tenant_id: str, period: str) -> tuple[Invoice | None, list[InvoiceUsers]]:
    """An invoice with its billed users: table partition `T#t#INVOICE#{period}` (one Query)."""
    read = read_invoice(tenant_id, period)
    return read.invoice, read.chunks


def get_invoice_head(tenant_id: str, period: str) -> Invoice | None:
    """The invoice alone: table key `T#t#INVOICE#{period}` / `INVOICE`."""
    return core.get_item(Invoice, keys.invoice(tenant_id, period))


def credit_notes_of(tenant_id: str, period: str) -> list[CreditNote]:
    """An invoice's credit notes, by number: table partition `T#t#INVOICE#{period}`, sort prefix `CREDIT#`."""
    return sorted(core.query_all(CreditNote, keys.invoice_partition(tenant_id, period), keys.CREDIT_NOTE_PREFIX),
                  key=lambda c: c.number)


def recompute_draft(draft: Invoice, chunks: Sequence[InvoiceUsers], stale_chunks: int, entry: core.Create) -> None:
    """Rewrite a draft (unchanged since read: its `version`) with its billed users, dropping chunks it no
    longer has, in one transaction with its audit entry."""
    core.write_versioned(creates=[*(core.Upsert(c) for c in chunks), entry],
                         replaces=[core.Replace(draft, "the draft was recomputed or finalized meanwhile")],
                         removes=[core.Remove(keys.invoice_users(draft.tenant_id, draft.period, n))
                                  for n in range(len(chunks), stale_chunks)])


@dataclass(frozen=True)
class TaxReads:
    supplier: Supplier | None
    buyer: BillingDetails | None
    invoices: NumberSequence | None
    credit_notes: NumberSequence | None


def tax_reads(tenant_id: str) -> TaxReads:
    """What finalizing or crediting needs beside the invoice, in one BatchGetItem: the supplier
    (`T#platform#SUPPLIER`), the tenant's billing details and its two number sequences (`T#t#SEQUENCE`)."""
    wanted = [keys.supplier(), keys.billing_details(tenant_id), keys.sequence(tenant_id, "INV"),
              keys.sequence(tenant_id, "CN")]
    found = core.batch_get(wanted)
    return TaxReads(core.pick(Supplier, found, wanted[0]), core.pick(BillingDetails, found, wanted[1]),
                    core.pick(NumberSequence, found, wanted[2]), core.pick(NumberSequence, found, wanted[3]))


def next_number(tenant_id: str, name: str, current: NumberSequence | None) -> tuple[int, core.Create | core.Replace]:
    """The next number of a sequence, and the write that takes it: the transaction holding it commits only if
    nobody took a number since `current` was read (versioned), so numbers are never skipped nor given twice."""
    if current is None:
        first = NumberSequence(tenant_id=tenant_id, name=name, last=1, version=1)
        return 1, core.Create(first, "the number was taken meanwhile")
    taken = current.changed(last=current.last + 1, version=current.version + 1)
    return taken.last, core.Replace(taken, "the number was taken meanwhile")


def write_numbered(invoice: Invoice, number: core.Create | core.Replace,
                   also: Sequence[core.Create | core.ReplaceExpired]) -> None:
    """The invoice changed (finalized, credited, voided) with the number it takes and `also` (a credit note, audit
    entries, the event's outbox entry), all or nothing. Stale when the invoice or the sequence moved meanwhile."""
    creates = [*also, *([number] if isinstance(number, core.Create) else [])]
    replaces = [core.Replace(invoice, "the invoice changed meanwhile"),
                *([number] if isinstance(number, core.Replace) else [])]
    core.write_versioned(creates=creates, replaces=replaces)


def get_billing_details(tenant_id: str) -> BillingDetails | None:
    return core.get_item(BillingDetails, keys.billing_details(tenant_id))


def get_supplier() -> Supplier | None:
    return core.get_item(Supplier, keys.supplier())


def invoices_page(tenant_id: str, limit: int, cursor: str | None) -> core.Page[Invoice]:
    """A tenant's invoices, newest period first: GSI1 `T#t#INVOICES`, sorted by period."""
    return core.query_page(Invoice, keys.tenant_invoices(tenant_id), index="GSI1", limit=limit, cursor=cursor,
                           forward=False)
