"""Response models: allow-lists of what a client may see, built from stored models."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, WithJsonSchema

from sitegate.models.stored import (
    AccountKind,
    AccountStatus,
    DeliveryStatus,
    Job,
    JobRequestStatus,
    JobStatus,
    LocationKind,
    TicketStatus,
    UserStatus,
)

# Times and dates are answered as stored: ISO-8601 text (times with an offset). Typed as str so
# the wire keeps those exact strings (a datetime would serialize +00:00 as Z); the schema says
# what they are, so generated clients parse them.
Time = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Date = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]


class Out(BaseModel):
    """Every response model. Schemas are built on first use (`defer_build`): a cold start
    pays only for the models its request touches, not for all of them at import. Enum fields
    hold their plain values, as the stored models do (the schema still names the enum)."""

    model_config = ConfigDict(defer_build=True, use_enum_values=True)


T = TypeVar("T", bound=Out)


class Page(Out, Generic[T]):
    """A page of a list: `next_cursor` is the `?cursor=` of the next page, null on the last.
    Each list names its own subclass (`class JobPage(Page[JobOut])`): OpenAPI names a bare
    `Page[JobOut]` `Page_JobOut_`, whatever `model_parametrized_name` says, and that is the
    name a generated client would give its class."""

    items: list[T]
    next_cursor: str | None


class AllowList(Out):
    """A response built from a stored model, keeping only the fields declared here."""

    @classmethod
    def of(cls, stored: BaseModel) -> Self:
        return cls.model_validate(stored.model_dump(include=set(cls.model_fields)))


class NotificationPreferencesOut(Out):
    email: bool
    sms: bool


class UserOut(AllowList):
    user_id: str
    email: str
    name: str
    phone: str | None
    account_id: str
    level: str
    status: UserStatus
    job_ids: list[str]
    is_master: bool
    can_create_guests: bool
    notifications: NotificationPreferencesOut


class AccountOut(AllowList):
    account_id: str
    kind: AccountKind
    name: str
    customer_codes: list[str]
    status: AccountStatus


class TenantCreated(Out):
    tenant_id: str
    owner_account_id: str
    admin_user_id: str


class Me(Out):
    tenant_id: str
    user: UserOut
    account: AccountOut
    level: str
    billing_tier: str | None
    capabilities: list[str]
    capability_scopes: dict[str, str]


class LevelOut(Out):
    level: str
    family: str  # staff | account
    billing_tier: str | None  # staff only; connected-account users are free
    capabilities: dict[str, str]  # capability -> scope


class LevelCatalog(Out):
    staff: list[LevelOut]
    account: list[LevelOut]
    access_types: dict[str, list[str]]  # access type -> e-ticket features
    sensitive_settings: list[str]
    normal_settings: list[str]


class Health(Out):
    status: str


class UserPage(Page[UserOut]):
    """Users, a page at a time."""


class AccountPage(Page[AccountOut]):
    """Accounts, a page at a time."""


class SettingOut(Out):
    key: str
    value: Any
    updated_at: Time | None = None


class VehicleOut(AllowList):
    vehicle_id: str
    name: str
    registration: str


class VehiclePage(Page[VehicleOut]):
    """Vehicles, a page at a time."""


FINANCIAL_FIELDS = {"cost_price", "charge_price"}


class JobOut(Out):
    """A job; `cost_price` and `charge_price` are present only for callers with financial.view
    (absent, not null, for everyone else)."""

    model_config = ConfigDict(extra="allow")  # the financial fields ride as extras when allowed

    job_id: str
    job_number: str
    name: str
    customer_code: str | None
    address: str | None
    status: JobStatus

    @classmethod
    def of(cls, job: Job, financial: bool) -> JobOut:
        return cls.model_validate(job.model_dump(include=set(cls.model_fields) | (FINANCIAL_FIELDS if financial else set())))


class JobPage(Page[JobOut]):
    """Jobs, a page at a time."""


class AccessEntry(Out):
    account_id: str
    name: str
    access_type: str | None
    source: str
    granted_by: str
    granted_at: Time
    expires_at: Time | None


class AccessList(Out):
    customers: list[AccessEntry]
    inspection_firms: list[AccessEntry]
    project_owners: list[AccessEntry]
    trade_contractors: list[AccessEntry]
    vendors: list[AccessEntry]
    guest_contractors: list[AccessEntry]


class Member(Out):
    """A person in a job's directory. `email` and `phone` are null unless the caller may see
    contact details (GC leads and staff with job.edit on the job)."""

    user_id: str
    name: str
    email: str | None
    phone: str | None
    account_id: str
    company_type: str  # gc | trade | vendor | other
    role: str  # lead | member | alerts_only | not_on_jobsite


class MemberList(Out):
    items: list[Member]


class TicketOut(AllowList):
    ticket_id: str
    job_id: str
    ticket_number: str
    material: str
    quantity: str
    unit: str
    truck: str
    status: TicketStatus
    eta: Time | None
    notes: str | None


class TicketPage(Page[TicketOut]):
    """E-tickets, a page at a time."""


class RecordOut(AllowList):
    record_id: str
    job_id: str
    user_id: str
    type: str
    date: Date
    hours: str
    equipment: str | None
    note: str | None


class RecordPage(Page[RecordOut]):
    """Time and equipment records, a page at a time."""


class Dashboard(Out):
    active_jobs: int
    pending_deliveries: int  # deliveries awaiting an approval, on the jobs the caller can see
    open_requests: int  # job requests still `open`, on the jobs the caller can see


# ------------------------------------------------------------ notifications: jobsite alerts
class AlertAccepted(Out):
    alert_id: str
    recipients: int  # people on the roll-call: everyone with a role on the job who receives alerts
    unreachable: int  # of those, people whose preferences (or missing phone) leave no channel: they can still acknowledge


class AlertRecipientOut(Out):
    user_id: str
    name: str
    acknowledged_at: Time | None
    acknowledged_by: str | None  # the recipient, or the GC lead who acknowledged on their behalf
    note: str | None
    channels: dict[str, str]  # email / sms -> queued | sent | failed | suppressed
    reasons: dict[str, str]  # a failed channel -> the provider's reason
    escalated_at: Time | None


class AlertOut(Out):
    alert_id: str
    message: str
    severity: str  # info | urgent | emergency
    escalate_after_minutes: int
    status: str  # open | closed
    sent_by: str
    sender_name: str
    sent_at: Time
    closed_at: Time | None
    closed_by: str | None
    recipient_count: int
    acknowledged: int
    recipients: list[AlertRecipientOut]  # a page of the roll-call, in user-id order
    next_cursor: str | None  # the roll-call's next page


class AlertSummary(Out):
    alert_id: str
    message: str
    severity: str
    status: str
    sent_by: str
    sender_name: str
    sent_at: Time
    recipient_count: int
    acknowledged: int


class AlertPage(Page[AlertSummary]):
    """Jobsite alerts, newest first, a page at a time."""


class AckOut(Out):
    alert_id: str
    user_id: str
    acknowledged_at: Time
    acknowledged_by: str


# ------------------------------------------------------------------ billing
class InvoiceLineOut(Out):
    tier: str  # field | office
    user_days: int
    quantity: str  # average users per day: user_days / days in the month, rounded down to 2 decimals
    unit_price: str  # money: daily rate x days in the month
    amount: str  # money: quantity x unit_price
    daily_rate: str  # money


class InvoiceUserOut(Out):
    user_id: str
    name: str
    tier: str  # the highest tier billed in the month
    days: int  # billed days
    field_days: int
    office_days: int


class InvoiceOut(Out):
    period: str  # YYYY-MM
    status: str  # draft | final | void | preview
    currency: str
    timezone: str
    days_in_period: int
    lines: list[InvoiceLineOut]
    subtotal: str
    gst_rate: str
    gst: str
    total: str
    users: list[InvoiceUserOut]
    issued_at: Time | None  # none for a preview
    through: Date | None = None  # a preview: the last day counted (today, in the tenant's time zone)
    # Tax invoices: set once it is final (number, date, both parties as they were then), and what its credit
    # notes took off it.
    number: str | None = None
    issue_date: Date | None = None
    finalized_at: Time | None = None
    description: str | None = None
    supplier: dict[str, str | None] | None = None
    buyer: dict[str, str | None] | None = None
    credited_subtotal: str = "0.00"
    credited_gst: str = "0.00"
    credited_total: str = "0.00"
    credit_notes: int = 0


class InvoiceSummary(Out):
    period: str
    total: str
    status: str  # draft | final | void
    currency: str
    issued_at: Time
    number: str | None = None


class InvoicePage(Page[InvoiceSummary]):
    """Invoices, a page at a time."""


# --- deliveries and job requests (delivery_approvals)
class LocationOut(AllowList):
    location_id: str
    job_id: str
    name: str
    kind: LocationKind


class LocationPage(Page[LocationOut]):
    """Locations on a job, a page at a time."""


class EquipmentOut(AllowList):
    equipment_id: str
    job_id: str
    name: str


class EquipmentPage(Page[EquipmentOut]):
    """Shared equipment on a job, a page at a time."""


class DeliveryOut(Out):
    """A delivery, its window shown in the tenant's time zone. `approvals` maps `gc` (and `trade`
    when booked for a trade) to pending | approved | rejected."""

    delivery_id: str
    job_id: str
    status: DeliveryStatus
    approvals: dict[str, str]
    for_account_id: str
    company_name: str
    location_id: str
    location_name: str
    equipment_ids: list[str]
    start: Time
    end: Time
    vendor_account_id: str | None
    description: str | None
    requested_by: str
    requested_at: Time
    decided_by: str | None
    decided_at: Time | None
    reason: str | None


class DeliveryPage(Page[DeliveryOut]):
    """Deliveries, a page at a time."""


class JobRequestOut(AllowList):
    request_id: str
    job_id: str
    account_id: str
    requested_by: str
    title: str
    description: str
    status: JobRequestStatus
    created_at: Time
    updated_at: Time
    updated_by: str | None


class JobRequestPage(Page[JobRequestOut]):
    """Job requests, a page at a time."""


class PortalDelivery(Out):
    start: Time
    end: Time
    location: str


class Portal(Out):
    """The public portal: nothing but the job's name, address, gates and the day's approved windows."""

    name: str
    address: str | None
    gates: list[str]
    deliveries: list[PortalDelivery]


# ------------------------------------------------------------------ the audit trail
class AuditEntryOut(Out):
    audit_id: str
    at: str
    actor: dict[str, Any]
    on_behalf_of_account_id: str | None
    action: str
    target: dict[str, Any]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request: dict[str, Any]


class AuditEntryPage(Page[AuditEntryOut]):
    pass


class ProblemKind(str, Enum):
    MISSING = "missing"
    ALTERED = "altered"
    ADDED = "added"


class AuditProblem(Out):
    audit_id: str | None = None
    kind: ProblemKind
    digest: str
    seal_sequence: int | None = None


class AuditVerification(Out):
    verified: bool
    sealed_through: str | None
    checked: int
    seals: int
    expired_seals: int = 0
    first_problem: AuditProblem | None = None
