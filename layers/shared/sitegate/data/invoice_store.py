"""Invoices and the chunks of their billed users."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sitegate import keys
from sitegate.data import core
from sitegate.models.stored import Invoice, InvoiceUsers

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


def get_invoice(tenant_id: str, period: str) -> tuple[Invoice | None, list[InvoiceUsers]]:
    """An invoice with its billed users: table partition `T#t#INVOICE#{period}` (one Query)."""
    items = core.query_all_items(keys.invoice_partition(tenant_id, period), consistent=True, page_size=_PAGE)
    header = next((i for i in items if i["SK"] == keys.invoice(tenant_id, period)["SK"]), None)
    chunks = sorted((InvoiceUsers.model_validate(i) for i in items if i["SK"].startswith(keys.INVOICE_USERS_PREFIX)),
                    key=lambda c: c.chunk)
    return core.model_of(Invoice, header), chunks


def invoices_page(tenant_id: str, limit: int, cursor: str | None) -> core.Page[Invoice]:
    """A tenant's invoices, newest period first: GSI1 `T#t#INVOICES`, sorted by period."""
    return core.query_page(Invoice, keys.tenant_invoices(tenant_id), index="GSI1", limit=limit, cursor=cursor,
                           forward=False)
