"""What the data layer stores and returns: one model per entity.

Only `sitegate.data` turns these into DynamoDB items (adding the keys) and back,
so a raw item never leaves the data layer.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field


class AccountKind(str, Enum):
    OWNER = "owner"
    CUSTOMER = "customer"
    INSPECTION_FIRM = "inspection_firm"
    PROJECT_OWNER = "project_owner"
    TRADE_CONTRACTOR = "trade_contractor"
    VENDOR = "vendor"
    GUEST_CONTRACTOR = "guest_contractor"
    PLATFORM = "platform"  # the platform operators' company; not a tenant account


class AccountStatus(str, Enum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class UserStatus(str, Enum):
    ACTIVE = "active"
    DISABLED = "disabled"
    DELETED = "deleted"


class Stored(BaseModel):
    model_config = ConfigDict(extra="ignore", use_enum_values=True, validate_default=True, defer_build=True)
    # A change of an audited object is written only with its audit entry (data.core checks);
    # markers, dated history and other bookkeeping that repeats an audited change are not.
    audited: ClassVar[bool] = True

    def changed(self, **changes: Any) -> Self:
        """A copy with `changes`, validated: an invalid state is refused before it can be stored."""
        return type(self).model_validate({**self.model_dump(), **changes})


class Tenant(Stored):
    tenant_id: str
    name: str
    timezone: str = "Pacific/Auckland"
    currency: str = "NZD"
    owner_account_id: str
    created_at: str
    # Billing (docs/DOMAIN.md "Billing"): prices per user-day by tier and the GST rate, decimal text.
    field_day_rate: str = "1.00"
    office_day_rate: str = "2.00"
    gst_rate: str = "0.15"
    grace_days: int = 3  # days after the month's end its draft invoice waits before the schedule finalizes it
    version: int = 0


class Account(Stored):
    tenant_id: str
    account_id: str
    kind: AccountKind
    name: str
    customer_codes: list[str] = Field(default_factory=list)
    status: AccountStatus = AccountStatus.ACTIVE
    sponsor_account_id: str | None = None  # guest contractors: the account that created them
    master_user_id: str | None = None  # its first administrator
    created_at: str
    version: int = 0  # bumped by every change; writes are conditional on it


class NotificationPreferences(Stored):
    email: bool = True
    sms: bool = False


class User(Stored):
    tenant_id: str
    user_id: str
    account_id: str
    email: str
    name: str
    phone: str | None = None
    level: str
    status: UserStatus = UserStatus.ACTIVE
    job_ids: list[str] = Field(default_factory=list)
    can_create_guests: bool = False
    is_master: bool = False
    notifications: NotificationPreferences = Field(default_factory=NotificationPreferences)
    created_at: str
    updated_at: str
    version: int = 0  # bumped by every change; writes are conditional on it


class UserHistory(Stored):
    """A dated change of a user's status or level; billing counts days from these."""

    audited: ClassVar[bool] = False  # written with the user's own change and its entry

    tenant_id: str
    user_id: str
    at: str
    status: UserStatus
    level: str
    changed_by: str
    # The state this entry replaces (none for a user's creation): billing reads a user's state at a
    # month's start off the first entry after it, without reading the history before it.
    previous_status: UserStatus | None = None
    previous_level: str | None = None
    version: int = 0  # the user's version after the change: orders entries of the same second


class Projection(BaseModel):
    """Some attributes of a stored item, read for one purpose (a ProjectionExpression of its fields).
    Never written: the codec knows no keys for it."""

    model_config = ConfigDict(extra="ignore", use_enum_values=True, defer_build=True)


class StaffState(Projection):
    """What billing reads of a staff user's item: a month of 10,000 staff reads these five attributes,
    not the twenty-odd of the user's item (botocore's parsing of them was most of the preview's time)."""

    user_id: str
    name: str
    status: UserStatus
    level: str
    created_at: str


class StateChange(Projection):
    """What billing reads of a UserHistory item."""

    user_id: str
    at: str
    status: UserStatus
    level: str
    previous_status: UserStatus | None = None
    previous_level: str | None = None
    version: int = 0


class Setting(Stored):
    tenant_id: str
    key: str
    value: Any
    updated_by: str
    updated_at: str


class Vehicle(Stored):
    tenant_id: str
    vehicle_id: str
    name: str
    registration: str
    created_at: str


class JobGrant(Stored):
    """An account's entry on a job's access list."""

    tenant_id: str
    job_id: str
    job_number: str  # job numbers never change, so this copy stays true
    account_id: str
    account_kind: AccountKind
    access_type: str | None = None
    source: str = "manual"
    granted_by: str
    granted_at: str
    expires_at: str | None = None
    # Guest contractors: the account that sponsors them; their entry grants nothing once the
    # sponsor's own entry on the job is gone or expired, or the sponsor is archived.
    sponsor_account_id: str | None = None


class AccessEnded(Stored):
    """An account's entry on a job was removed: who removed it and when. It stands until one of the
    people who put accounts on the job grants it again (a booking naming a vendor does not)."""

    audited: ClassVar[bool] = False  # written with the entry's removal, which has its audit entry

    tenant_id: str
    job_id: str
    account_id: str
    ended_by: str
    ended_at: str


def job_number_key(number: str) -> str:
    """A job number as it is compared and indexed: case and spaces do not count (`abc 520` is `ABC520`)."""
    return "".join(number.split()).upper()


class JobStatus(str, Enum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class Job(Stored):
    tenant_id: str
    job_id: str
    job_number: str
    name: str
    customer_code: str | None = None
    address: str | None = None
    cost_price: str | None = None  # money as strings with two decimals
    charge_price: str | None = None
    status: JobStatus = JobStatus.ACTIVE
    created_by: str
    created_at: str
    version: int = 0


class TicketStatus(str, Enum):
    LOADED = "loaded"
    EN_ROUTE = "en_route"
    UNLOADED = "unloaded"
    REJECTED = "rejected"


class Ticket(Stored):
    tenant_id: str
    job_id: str
    ticket_id: str
    ticket_number: str
    material: str
    quantity: str
    unit: str
    truck: str
    status: TicketStatus = TicketStatus.LOADED
    eta: str | None = None
    unloaded_by: str | None = None
    unloaded_at: str | None = None
    notes: str | None = None
    created_at: str
    version: int = 0


class JobRecord(Stored):
    """A time or equipment entry on a job."""

    tenant_id: str
    job_id: str
    record_id: str
    user_id: str
    type: str
    date: str
    hours: str
    equipment: str | None = None
    note: str | None = None
    created_at: str


class ProjectRole(Stored):
    tenant_id: str
    job_id: str
    user_id: str
    role: str
    set_by: str
    set_at: str


# ------------------------------------------------------------ notifications: jobsite alerts
class AlertSeverity(str, Enum):
    INFO = "info"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class AlertStatus(str, Enum):
    OPEN = "open"
    CLOSED = "closed"


class Alert(Stored):
    """A jobsite alert: its head, in the job's partition. The roll-call is in the alert's own
    partition (AlertRecipient items and AlertAckCount shards), written before this head, so an
    alert that can be read has its whole roll-call. `batch_starts` are the first user id of each
    sending batch (the roll-call in user-id order, BATCH_SIZE recipients each)."""

    tenant_id: str
    job_id: str
    alert_id: str  # time-ordered: a job's alerts list newest first
    message: str
    severity: AlertSeverity = AlertSeverity.URGENT
    escalate_after_minutes: int = 5
    sent_by: str
    sender_name: str
    sent_at: str
    status: AlertStatus = AlertStatus.OPEN
    closed_at: str | None = None
    closed_by: str | None = None
    recipient_count: int = 0
    batch_starts: list[str] = Field(default_factory=list)


class AlertRecipient(Stored):
    """One person on an alert's roll-call: the channels it goes out on with each one's delivery state
    (queued, sent, failed, suppressed; `reasons` says why a send failed), and the first acknowledgment."""

    tenant_id: str
    alert_id: str
    job_id: str
    user_id: str
    name: str
    account_id: str
    channels: dict[str, str] = Field(default_factory=dict)
    reasons: dict[str, str] = Field(default_factory=dict)
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None
    note: str | None = None
    escalated_at: str | None = None
    audited: ClassVar[bool] = False  # the roll-call is the alert's bookkeeping: an acknowledgment writes its own entry


class AlertAckCount(Stored):
    """One shard of an alert's acknowledgment count, added to in each acknowledgment's transaction."""

    tenant_id: str
    alert_id: str
    shard: int
    acknowledged: int = 0
    audited: ClassVar[bool] = False


# ------------------------------------------------------------------ billing
class InvoiceLineStored(Stored):
    tier: str
    user_days: int
    quantity: str  # decimal text
    unit_price: str  # money, two decimals
    amount: str
    daily_rate: str


class TaxParty(Stored):
    """A party as printed on a tax invoice: the supplier (the platform operator) or the buyer (a tenant)."""

    legal_name: str | None = None
    gst_number: str | None = None
    address: str | None = None
    nzbn: str | None = None
    billing_email: str | None = None


class Invoice(Stored):
    """A tenant's invoice for one month; its billed users are in InvoiceUsers chunks, its credit notes
    beside them. A draft is recomputed by each run; finalizing numbers it and fixes both parties as they
    then were; a final invoice changes only by what is credited against it (and `void` once all is)."""

    tenant_id: str
    period: str  # YYYY-MM
    timezone: str
    currency: str
    days_in_period: int
    lines: list[InvoiceLineStored]
    subtotal: str
    gst_rate: str
    gst: str
    total: str
    user_count: int
    chunks: int
    status: str = "draft"  # draft | final | void
    issued_at: str  # when the draft was first made
    number: str | None = None  # INV-000001, given when finalized
    finalized_at: str | None = None
    issue_date: str | None = None  # the tax invoice's date, in the tenant's calendar
    supplier: TaxParty | None = None
    buyer: TaxParty | None = None
    credited_subtotal: str = "0.00"  # what its credit notes took off, GST-exclusive, GST and total
    credited_gst: str = "0.00"
    credited_total: str = "0.00"
    credited_quantities: dict[str, str] = Field(default_factory=dict)  # per tier, of the credits by lines
    credit_notes: int = 0
    version: int = 0


class CreditLine(Stored):
    tier: str
    quantity: str
    unit_price: str
    amount: str


class CreditNote(Stored):
    """A correction of a final invoice (CN-000001): a GST-exclusive amount, or quantities of its lines at their
    unit price, with the GST on it; a void is the credit note for all that is left."""

    tenant_id: str
    period: str
    number: str
    invoice_number: str
    kind: str = "credit"  # credit | void
    amount: str
    gst: str
    total: str
    lines: list[CreditLine] = Field(default_factory=list)
    reason: str
    issued_at: str
    issue_date: str
    issued_by: str
    currency: str
    gst_rate: str
    supplier: TaxParty | None = None
    buyer: TaxParty | None = None


class NumberSequence(Stored):
    """A gapless per-tenant number sequence (INV, CN): `last` is the last number given, moved only by the
    transaction that gives the next one."""

    audited: ClassVar[bool] = False  # moved with the finalized invoice or the credit note, which are audited
    tenant_id: str
    name: str
    last: int = 0
    version: int = 0


class BillingDetails(Stored):
    """A tenant's details as the buyer on its tax invoices, set by its Super Admins and Invoicing users."""

    tenant_id: str
    legal_name: str
    address: str | None = None
    nzbn: str | None = None
    billing_email: str | None = None
    updated_by: str
    updated_at: str
    version: int = 0


class Supplier(Stored):
    """The platform operator as the supplier on every tax invoice."""

    legal_name: str
    gst_number: str
    address: str
    updated_by: str
    updated_at: str
    version: int = 0


class InvoiceUser(Stored):
    """One billed user: its distinct levels and one character per day of the month (the level's
    index, or `-` for a day not billed)."""

    user_id: str
    name: str
    levels: list[str]
    days: str


class InvoiceUsers(Stored):
    audited: ClassVar[bool] = False  # part of the invoice, whose issue is the audited change
    tenant_id: str
    period: str
    chunk: int
    users: list[InvoiceUser]


# --- deliveries and job requests (delivery_approvals)
class LocationKind(str, Enum):
    GATE = "gate"
    DROP_ZONE = "drop_zone"
    HOIST = "hoist"
    LAYDOWN = "laydown"


class Location(Stored):
    """A place on a job a delivery books: gate, drop zone, hoist or laydown area."""

    tenant_id: str
    job_id: str
    location_id: str
    name: str
    kind: LocationKind
    created_by: str
    created_at: str


class Equipment(Stored):
    """Shared equipment on a job a delivery may book with its location (cranes, forklifts)."""

    tenant_id: str
    job_id: str
    equipment_id: str
    name: str
    created_by: str
    created_at: str


class DeliveryStatus(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


HOLDING = (DeliveryStatus.PENDING.value, DeliveryStatus.APPROVED.value)  # statuses that hold their slot


class Delivery(Stored):
    """A delivery request: one location and any shared equipment for a window, booked for the GC or a
    trade. `start` and `end` are UTC; `approvals` maps gc / trade to pending | approved | rejected."""

    tenant_id: str
    job_id: str
    delivery_id: str
    for_account_id: str
    company_name: str  # the company booked for, as named when booked
    location_id: str
    location_name: str
    equipment_ids: list[str] = Field(default_factory=list)
    start: str
    end: str
    vendor_account_id: str | None = None
    description: str | None = None
    status: DeliveryStatus = DeliveryStatus.PENDING
    approvals: dict[str, str]
    requested_by: str
    requested_at: str
    decided_by: str | None = None  # who approved last, rejected or cancelled
    decided_at: str | None = None
    reason: str | None = None
    version: int = 0


class BookingDay(Stored):
    """One resource's bookings on one UTC day: `[start, end, delivery_id]` per holding delivery, in
    epoch minutes; every booking and release writes it under its `version`."""

    audited: ClassVar[bool] = False  # the delivery's own change carries the entry

    tenant_id: str
    job_id: str
    resource: str  # "LOCATION" or "EQUIPMENT"
    resource_id: str
    day: str  # YYYY-MM-DD, UTC
    intervals: list[tuple[int, int, str]] = Field(default_factory=list)
    version: int = 0


class JobRequestStatus(str, Enum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DONE = "done"
    DECLINED = "declined"


class JobRequest(Stored):
    """A service request on a job by a connected account's user."""

    tenant_id: str
    job_id: str
    request_id: str
    account_id: str
    requested_by: str
    title: str
    description: str
    status: JobRequestStatus = JobRequestStatus.OPEN
    created_at: str
    updated_at: str
    updated_by: str | None = None
    version: int = 0


# ---------------------------------------------------------------- markers
# Items that exist only to make a value unique (a conditional Create of the marker fails when the
# value is taken) or to find a tenant from a public id. `entity` is what the item's `entity` says.


class Marker(Stored):
    entity: ClassVar[str]
    audited: ClassVar[bool] = False  # a marker only holds a value taken; its owner's change is audited


class EmailMarker(Marker):
    entity: ClassVar[str] = "EmailMarker"
    tenant_id: str
    email: str
    user_id: str

    @classmethod
    def of(cls, user: User) -> EmailMarker:
        return cls(tenant_id=user.tenant_id, email=user.email, user_id=user.user_id)


class CustomerCodeMarker(Marker):
    entity: ClassVar[str] = "CustomerCode"
    tenant_id: str
    code: str
    account_id: str


class JobNumberMarker(Marker):
    entity: ClassVar[str] = "JobNumber"
    tenant_id: str
    job_number: str
    job_id: str

    @classmethod
    def of(cls, job: Job) -> JobNumberMarker:
        return cls(tenant_id=job.tenant_id, job_number=job.job_number, job_id=job.job_id)


class PortalMarker(Marker):
    """The public portal's way from a job id to its tenant."""

    entity: ClassVar[str] = "PortalMarker"
    job_id: str
    tenant_id: str

    @classmethod
    def of(cls, job: Job) -> PortalMarker:
        return cls(job_id=job.job_id, tenant_id=job.tenant_id)


class TicketNumberMarker(Marker):
    entity: ClassVar[str] = "TicketNumber"
    tenant_id: str
    job_id: str
    ticket_number: str
    ticket_id: str

    @classmethod
    def of(cls, ticket: Ticket) -> TicketNumberMarker:
        return cls(tenant_id=ticket.tenant_id, job_id=ticket.job_id, ticket_number=ticket.ticket_number,
                   ticket_id=ticket.ticket_id)


class RegistrationMarker(Marker):
    entity: ClassVar[str] = "RegistrationMarker"
    tenant_id: str
    registration: str
    vehicle_id: str

    @classmethod
    def of(cls, vehicle: Vehicle) -> RegistrationMarker:
        return cls(tenant_id=vehicle.tenant_id, registration=vehicle.registration, vehicle_id=vehicle.vehicle_id)


class PlaceNameMarker(Marker):
    """Keeps a location's or equipment's name unique on its job (`kind`: "LOCATION" or "EQUIPMENT")."""

    entity: ClassVar[str] = "PlaceName"
    tenant_id: str
    job_id: str
    kind: str
    name: str
    place_id: str
