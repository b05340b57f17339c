"""Audit entries: who changed what, written beside the change in its own transaction.

The HTTP glue names who is acting (the caller, the request's facts) once per request; a schedule
acts `as_system`. `entry(...)` then makes the entry for one changed object, to be written in the
same `core.write` as the change; `core` refuses a change of an audited object without one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from sitegate import clock, ids
from sitegate.data import core, user_store
from sitegate.models.audit import Actor, ActorKind, AuditEntry, AuditTarget, RequestFacts
from sitegate.models.stored import User

# Every action an entry may name: `<object>.<verb>`.
ACTIONS = frozenset({
    "tenant.create", "tenant.billing_set",
    "account.create", "account.update", "account.archive", "account.unarchive", "account.connect",
    "user.create", "user.update", "user.disable", "user.enable", "user.delete", "user.update_self",
    "user.set_preferences",
    "setting.set",
    "vehicle.create",
    "job.create", "job.update", "job.archive", "job.delete",
    "access.grant", "access.update", "access.revoke",
    "role.set", "role.remove",
    "ticket.create", "ticket.update", "ticket.unload",
    "record.create",
    "alert.send", "alert.acknowledge", "alert.close",
    "location.create", "equipment.create",
    "delivery.request", "delivery.approve", "delivery.reject", "delivery.cancel", "delivery.remove",
    "job_request.create", "job_request.accept", "job_request.complete", "job_request.decline", "job_request.remove",
    "invoice.issue", "invoice.recompute", "invoice.finalize", "invoice.void", "credit_note.issue",
    "billing.details_set", "platform.supplier_set",
    "review.open", "review.decide", "review.close",
    "audit.read", "audit.export", "audit.verify",
})

# Never in an entry: secrets, and bookkeeping that says nothing about the object.
SECRET_FIELDS = frozenset({"version", "ttl", "password", "token", "token_hash", "secret", "secret_hash",
                           "request_hash", "body", "feed_secret"})
# Shown only to readers with financial.view.
FINANCIAL_FIELDS = frozenset({"field_day_rate", "office_day_rate", "gst_rate", "cost_price", "charge_price",
                              "lines", "subtotal", "gst", "total", "unit_price", "amount", "daily_rate"})
RETENTION_SETTING = user_store.RETENTION_SETTING  # the setting key, read with every caller
DEFAULT_RETENTION_DAYS = 2557  # seven years


@dataclass
class Acting:
    """Who is acting in this request (or schedule run), and what the request says about itself."""

    tenant_id: str
    actor: Actor
    request: RequestFacts = field(default_factory=RequestFacts)
    retention_days: int | None = None  # read with the caller; a schedule reads it on its first entry


_acting: ContextVar[Acting | None] = ContextVar("sitegate_acting", default=None)


def act(acting: Acting | None) -> None:
    """Name who acts from here on in this request (None: nobody yet, as at a request's start)."""
    _acting.set(acting)


def acting() -> Acting | None:
    return _acting.get()


def user_actor(user: User) -> Actor:
    return Actor(kind=ActorKind.USER, user_id=user.user_id, name=user.name, account_id=user.account_id,
                 level=user.level)


def operator_actor(user: User) -> Actor:
    return Actor(kind=ActorKind.OPERATOR, user_id=user.user_id, name=user.name, account_id=user.account_id,
                 level=user.level)


@contextmanager
def as_system(tenant_id: str) -> Iterator[Acting]:
    """A schedule's work on one tenant: its entries name `system` as the actor."""
    previous = _acting.set(Acting(tenant_id=tenant_id, actor=Actor(kind=ActorKind.SYSTEM)))
    try:
        yield _acting.get()  # type: ignore[misc]  # set just above
    finally:
        _acting.reset(previous)


@contextmanager
def within(tenant_id: str, retention_days: int) -> Iterator[None]:
    """The same actor and request, writing into another tenant's trail (an operator making a tenant)."""
    now = _acting.get()
    if now is None:
        raise RuntimeError("nobody is acting")
    previous = _acting.set(Acting(tenant_id=tenant_id, actor=now.actor, request=now.request,
                                  retention_days=retention_days))
    try:
        yield
    finally:
        _acting.reset(previous)


def retention_of(value: Any) -> int:
    """A stored audit_retention_days value, or the default when unset or unusable."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else DEFAULT_RETENTION_DAYS


_stamp_lock = threading.Lock()
_last_stamp: list[datetime] = [datetime.min.replace(tzinfo=UTC)]


def _stamp() -> datetime:
    """Now, but never the same instant twice in this process: entries of one transaction (and of a
    frozen test clock) keep the order they were made in."""
    with _stamp_lock:
        at = max(clock.now().astimezone(UTC), _last_stamp[0] + timedelta(microseconds=1))
        _last_stamp[0] = at
        return at


def last_stamp() -> datetime:
    """The latest instant stamped on an entry in this process (the local stack seals up to it)."""
    with _stamp_lock:
        return _last_stamp[0]


def format_at(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def view(model: BaseModel | dict[str, Any] | None) -> dict[str, Any] | None:
    """An object's fields as an entry keeps them: its public fields, never a secret."""
    if model is None:
        return None
    fields = model if isinstance(model, dict) else model.model_dump(mode="json", exclude_none=True)
    return {k: v for k, v in fields.items() if k not in SECRET_FIELDS}


def _retention_days(now: Acting, tenant_id: str) -> int:
    if now.retention_days is None or tenant_id != now.tenant_id:
        from sitegate.data import tenant_store  # a schedule's or an operator's entry: one read per run

        days = retention_of(tenant_store.setting_value(tenant_id, RETENTION_SETTING))
        if tenant_id != now.tenant_id:
            return days
        now.retention_days = days
    return now.retention_days


def entry(action: str, target: AuditTarget, *, before: BaseModel | dict[str, Any] | None = None,
          after: BaseModel | dict[str, Any] | None = None, about_account_id: str | None = None,
          on_behalf_of_account_id: str | None = None, tenant_id: str | None = None) -> core.Create:
    """The entry for one changed object, to write in the change's transaction. `tenant_id` is the
    acting tenant's unless named (an operator creating a tenant writes into the new tenant's trail)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    now = _acting.get()
    if now is None:
        raise RuntimeError(f"{action}: nobody is acting (an HTTP caller or a schedule must be named first)")
    tenant = tenant_id or now.tenant_id
    at = _stamp()
    expires = at + timedelta(days=_retention_days(now, tenant))
    record = AuditEntry(tenant_id=tenant, audit_id=ids.new_id(), at=format_at(at), actor=now.actor,
                        on_behalf_of_account_id=on_behalf_of_account_id, action=action, target=target,
                        about_account_id=about_account_id, before=view(before), after=view(after),
                        request=now.request, ttl=int(expires.timestamp()))
    return core.Create(record, "audit entry already written")


def target(type_: str, id_: str, job_id: str | None = None) -> AuditTarget:
    return AuditTarget(type=type_, id=id_, job_id=job_id)


# What each audited object is, as an entry's target: (type, id, job, the account it is about),
# and the fields its entries leave out (besides secrets): a roll-call is the alert's bookkeeping.
_TARGETS: dict[str, Any] = {
    "Tenant": lambda m: ("tenant", m.tenant_id, None, None),
    "Account": lambda m: ("account", m.account_id, None, m.account_id),
    "User": lambda m: ("user", m.user_id, None, m.account_id),
    "Setting": lambda m: ("setting", m.key, None, None),
    "Vehicle": lambda m: ("vehicle", m.vehicle_id, None, None),
    "Job": lambda m: ("job", m.job_id, m.job_id, None),
    "JobGrant": lambda m: ("access", m.account_id, m.job_id, m.account_id),
    "ProjectRole": lambda m: ("role", m.user_id, m.job_id, None),
    "Ticket": lambda m: ("ticket", m.ticket_id, m.job_id, None),
    "JobRecord": lambda m: ("record", m.record_id, m.job_id, None),
    "Alert": lambda m: ("alert", m.alert_id, m.job_id, None),
    "Location": lambda m: ("location", m.location_id, m.job_id, None),
    "Equipment": lambda m: ("equipment", m.equipment_id, m.job_id, None),
    "Delivery": lambda m: ("delivery", m.delivery_id, m.job_id, m.for_account_id),
    "JobRequest": lambda m: ("job_request", m.request_id, m.job_id, m.account_id),
    "Invoice": lambda m: ("invoice", m.period, None, None),
    "CreditNote": lambda m: ("credit_note", m.number, None, None),
    "BillingDetails": lambda m: ("billing_details", m.tenant_id, None, None),
    "Supplier": lambda m: ("supplier", "platform", None, None),
    "AccessReview": lambda m: ("access_review", m.review_id, m.job_id, None),
    "ReviewItem": lambda m: ("access_review_item", f"{m.review_id}/{m.item_id}", m.job_id, m.account_id),
}
_LEFT_OUT = {"Alert": frozenset({"batch_starts"})}


def change(action: str, before: BaseModel | None, after: BaseModel | None, *,
           about_account_id: str | None = None, on_behalf_of_account_id: str | None = None,
           tenant_id: str | None = None) -> core.Create:
    """The entry for a change of one stored object (`before` None: created; `after` None: removed)."""
    model = after if after is not None else before
    if model is None:
        raise ValueError(f"{action}: a change needs the object before or after it")
    name = type(model).__name__
    type_, id_, job_id, account_id = _TARGETS[name](model)
    left_out = _LEFT_OUT.get(name, frozenset())

    def shown(m: BaseModel | None) -> dict[str, Any] | None:
        return None if m is None else m.model_dump(mode="json", exclude_none=True, exclude=set(left_out))

    return entry(action, target(type_, id_, job_id), before=shown(before), after=shown(after),
                 about_account_id=about_account_id or account_id, on_behalf_of_account_id=on_behalf_of_account_id,
                 tenant_id=tenant_id or getattr(model, "tenant_id", None))
