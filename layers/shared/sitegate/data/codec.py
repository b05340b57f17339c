"""Models to items and back: each stored model's keys (from `keys`), its index keys, and `entity`.

The one place that knows which keys an entity's item carries; `core` calls `item_of` for every
write and `key_of` for every removal of a model."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from sitegate import keys
from sitegate.models.access_reviews import AccessReview, ReviewItem, ReviewSnapshot
from sitegate.models.audit import AuditEntry, AuditSeal
from sitegate.models.stored import (
    AccessEnded,
    Account,
    Alert,
    AlertAckCount,
    AlertRecipient,
    BillingDetails,
    BookingDay,
    CreditNote,
    CustomerCodeMarker,
    Delivery,
    DeliveryStatus,
    EmailMarker,
    Equipment,
    Invoice,
    InvoiceUsers,
    Job,
    JobGrant,
    JobNumberMarker,
    JobRecord,
    JobRequest,
    JobRequestStatus,
    Location,
    Marker,
    NumberSequence,
    PlaceNameMarker,
    PortalMarker,
    ProjectRole,
    RegistrationMarker,
    Setting,
    Supplier,
    Tenant,
    Ticket,
    TicketNumberMarker,
    TicketStatus,
    User,
    UserHistory,
    Vehicle,
)

IDEMPOTENCY = "Idempotency"  # the `entity` of Idempotency-Key markers (core tells a lost replay by it)
AUDIT_ENTRY = "AuditEntry"  # core counts these against the audited changes of a transaction
Keys = dict[str, str]


def _account(a: Account) -> list[Keys]:
    sponsor = a.sponsor_account_id
    return [keys.account(a.tenant_id, a.account_id), keys.account_gsi1(a.tenant_id, a.kind, a.name, a.account_id),
            keys.account_gsi2(a.tenant_id, sponsor, a.name, a.account_id) if sponsor else {}]


def _delivery(d: Delivery) -> list[Keys]:
    pending = d.status == DeliveryStatus.PENDING.value  # on the tenant's pending list only while pending
    return [keys.delivery(d.tenant_id, d.job_id, d.delivery_id),
            keys.delivery_gsi1(d.tenant_id, d.job_id, d.start, d.delivery_id),
            keys.delivery_pending_gsi2(d.tenant_id, d.job_id, d.delivery_id) if pending else {}]


def _job_request(r: JobRequest) -> list[Keys]:
    open_ = r.status == JobRequestStatus.OPEN.value  # on the tenant's open list only while open
    return [keys.job_request(r.tenant_id, r.job_id, r.request_id),
            keys.job_request_gsi1(r.tenant_id, r.job_id, r.account_id, r.created_at, r.request_id),
            keys.job_request_open_gsi2(r.tenant_id, r.job_id, r.request_id) if open_ else {}]


def _audit_entry(e: AuditEntry) -> list[Keys]:
    actor_id = e.actor.user_id or str(e.actor.kind)
    return [keys.audit_entry(e.tenant_id, e.at, e.audit_id, actor_id, e.target.id, e.target.job_id, e.action,
                             e.about_account_id)]


def _ticket(t: Ticket) -> list[Keys]:
    # On the job's en-route list (sparse GSI2) only while en route, by arrival instant in UTC.
    en_route = t.status == TicketStatus.EN_ROUTE.value and t.eta is not None
    eta_utc = datetime.fromisoformat(str(t.eta)).astimezone(UTC).isoformat() if en_route else ""
    return [keys.ticket(t.tenant_id, t.job_id, t.ticket_id),
            keys.ticket_en_route_gsi2(t.tenant_id, t.job_id, eta_utc, t.ticket_id) if en_route else {}]


# Each stored type: its table key first, then its index keys ({} where it has none at this state).
_KEYS: dict[type[BaseModel], Callable[[Any], list[Keys]]] = {
    Tenant: lambda t: [keys.tenant(t.tenant_id), keys.tenant_gsi1(t.tenant_id)],
    Account: _account,
    User: lambda u: [keys.user(u.tenant_id, u.user_id),
                     keys.user_indexes(u.tenant_id, u.account_id, u.status, u.name, u.user_id)],
    # The user's version orders entries of the same second; writes are conditional on it, so it is unique.
    UserHistory: lambda h: [keys.user_history(h.tenant_id, h.user_id, h.at, f"{h.version:08d}")],
    Setting: lambda s: [keys.setting(s.tenant_id, s.key)],
    Vehicle: lambda v: [keys.vehicle(v.tenant_id, v.vehicle_id)],
    Job: lambda j: [keys.job(j.tenant_id, j.job_id), keys.job_indexes(j.tenant_id, j.job_number, j.customer_code)],
    JobGrant: lambda g: [keys.job_grant(g.tenant_id, g.job_id, g.account_id),
                         keys.job_grant_gsi1(g.tenant_id, g.account_id, g.job_number)],
    AccessEnded: lambda e: [keys.access_ended(e.tenant_id, e.job_id, e.account_id)],
    Ticket: _ticket,
    JobRecord: lambda r: [keys.record(r.tenant_id, r.job_id, r.date, r.record_id)],
    ProjectRole: lambda r: [keys.project_role(r.tenant_id, r.job_id, r.user_id)],
    Alert: lambda a: [keys.alert(a.tenant_id, a.job_id, a.alert_id)],
    AlertRecipient: lambda r: [keys.alert_recipient(r.tenant_id, r.alert_id, r.user_id)],
    AlertAckCount: lambda c: [keys.alert_count(c.tenant_id, c.alert_id, c.shard)],
    Invoice: lambda i: [keys.invoice(i.tenant_id, i.period), keys.invoice_gsi1(i.tenant_id, i.period)],
    InvoiceUsers: lambda c: [keys.invoice_users(c.tenant_id, c.period, c.chunk)],
    Location: lambda p: [keys.location(p.tenant_id, p.job_id, p.location_id)],
    Equipment: lambda p: [keys.equipment(p.tenant_id, p.job_id, p.equipment_id)],
    Delivery: _delivery,
    BookingDay: lambda d: [keys.booking_day(d.tenant_id, d.job_id, d.resource, d.resource_id, d.day)],
    JobRequest: _job_request,
    EmailMarker: lambda m: [keys.user_email(m.tenant_id, m.email)],
    CustomerCodeMarker: lambda m: [keys.customer_code(m.tenant_id, m.code)],
    JobNumberMarker: lambda m: [keys.job_number(m.tenant_id, m.job_number)],
    PortalMarker: lambda m: [keys.portal(m.job_id)],
    TicketNumberMarker: lambda m: [keys.ticket_number(m.tenant_id, m.job_id, m.ticket_number)],
    RegistrationMarker: lambda m: [keys.vehicle_registration(m.tenant_id, m.registration)],
    PlaceNameMarker: lambda m: [keys.place_name(m.tenant_id, m.job_id, m.kind, m.name)],
    AuditEntry: _audit_entry,
    AuditSeal: lambda s: [keys.audit_seal(s.tenant_id, s.sealed_through)],
    CreditNote: lambda c: [keys.credit_note(c.tenant_id, c.period, c.number)],
    NumberSequence: lambda q: [keys.sequence(q.tenant_id, q.name)],
    BillingDetails: lambda d: [keys.billing_details(d.tenant_id)],
    Supplier: lambda _: [keys.supplier()],
    AccessReview: lambda r: [keys.review(r.tenant_id, r.review_id)],
    ReviewItem: lambda i: [keys.review_item(i.tenant_id, i.review_id, i.item_id)],
    ReviewSnapshot: lambda c: [keys.review_snapshot(c.tenant_id, c.review_id, c.chunk)],
}


def register(cls: type[BaseModel], key_parts: Callable[[Any], list[Keys]]) -> None:
    """A data module's own item type (the outbox, Idempotency-Key markers): its keys, as above."""
    _KEYS[cls] = key_parts


def entity_of(model: BaseModel) -> str:
    entity = getattr(type(model), "entity", None)
    return entity if isinstance(entity, str) else type(model).__name__


def key_of(model: BaseModel) -> Keys:
    """The table key alone (some key builders add an index key beside it)."""
    key = _KEYS[type(model)](model)[0]
    return {"PK": key["PK"], "SK": key["SK"]}


def item_of(model: BaseModel) -> dict[str, Any]:
    item: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    if isinstance(model, Setting):
        item["value"] = json.dumps(model.value)  # JSON text: any JSON value round-trips with its types
    if isinstance(model, AuditEntry):
        for side in ("before", "after"):
            if side in item:
                item[side] = json.dumps(item[side], sort_keys=True)  # JSON text, as for settings
    item["entity"] = entity_of(model)
    for part in _KEYS[type(model)](model):
        item.update(part)
    return item


__all__ = ["AUDIT_ENTRY", "IDEMPOTENCY", "Marker", "entity_of", "item_of", "key_of", "register"]
