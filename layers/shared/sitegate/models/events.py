"""Domain events: what the functions publish on the SNS topic and the notifications function
consumes. One data model per kind; an event whose data does not fit its kind is refused."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Approval = Literal["gc", "trade"]
APPROVALS: tuple[Approval, ...] = ("gc", "trade")


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class DeliveryEvent(EventData):
    """delivery.requested / approved / rejected / cancelled. Names what a message needs (the job,
    the company, the window) so the consumer reads only its recipients."""

    job_id: str
    job_name: str
    delivery_id: str
    requested_by: str  # user id of the requester
    for_account_id: str  # the company booked for: the GC (owner account) or a trade
    company_name: str
    location_name: str
    start: str  # ISO-8601 in the tenant's time zone
    end: str
    awaiting: list[Approval] = Field(default_factory=list)  # approvals still pending after this change
    by: str | None = None  # user id who approved, rejected or cancelled
    reason: str | None = None  # rejections


class AccessGranted(EventData):
    """access.granted: an account was put on a job's access list."""

    job_id: str
    job_name: str
    account_id: str
    account_name: str
    granted_by: str


class AccessRevoked(EventData):
    """access.revoked: an access review took an account off a job's access list (`user_id` unset), or took
    a person's project role on it (`user_id`, `role`)."""

    job_id: str
    job_name: str
    account_id: str
    account_name: str
    user_id: str | None = None
    role: str | None = None
    revoked_by: str
    review_id: str


class InvoiceIssued(EventData):
    """invoice.issued: the monthly invoice of a tenant was made."""

    period: str  # YYYY-MM
    total: str  # money, two decimals
    currency: str


class InvoiceFinalized(EventData):
    """invoice.finalized: a draft became a numbered tax invoice."""

    period: str
    number: str
    total: str
    currency: str


class CreditNoteIssued(EventData):
    """credit_note.issued: a final invoice was credited (or voided: `kind`)."""

    period: str
    number: str
    invoice_number: str
    kind: str
    total: str
    currency: str


EVENT_DATA: dict[str, type[EventData]] = {
    "delivery.requested": DeliveryEvent,
    "delivery.approved": DeliveryEvent,
    "delivery.rejected": DeliveryEvent,
    "delivery.cancelled": DeliveryEvent,
    "access.granted": AccessGranted,
    "access.revoked": AccessRevoked,
    "invoice.issued": InvoiceIssued,
    "invoice.finalized": InvoiceFinalized,
    "credit_note.issued": CreditNoteIssued,
}
EventKind = Literal["delivery.requested", "delivery.approved", "delivery.rejected", "delivery.cancelled",
                    "access.granted", "access.revoked", "invoice.issued", "invoice.finalized",
                    "credit_note.issued", "alert.sent"]


class DomainEvent(BaseModel):
    model_config = ConfigDict(defer_build=True)

    event_id: str  # the same event redelivered keeps its id (exactly-once to a person)
    type: EventKind
    tenant_id: str
    occurred_at: str
    data: dict[str, Any]

    @model_validator(mode="after")
    def _data_fits_kind(self) -> DomainEvent:
        EVENT_DATA[self.type].model_validate(self.data)
        return self

    def payload(self) -> Any:
        """The data as its kind's model (DeliveryEvent, AccessGranted or InvoiceIssued)."""
        return EVENT_DATA[self.type].model_validate(self.data)


# ------------------------------------------------------------ notifications: jobsite alerts
class AlertSent(EventData):
    """alert.sent: a jobsite alert to deliver; its recipients are on the stored alert (the roll-call)."""

    job_id: str
    job_name: str
    alert_id: str
    message: str
    sent_by: str  # user id
    sender_name: str


EVENT_DATA["alert.sent"] = AlertSent


class AlertBatch(BaseModel):
    """A queue message of the notifications function to itself: send batch `batch` (1 and up; the
    alert.sent event's own delivery sends batch 0) of the alert `event` announced."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    alert_batch: int = Field(ge=1, le=1000)
    event: DomainEvent
