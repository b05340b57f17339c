"""Tax invoices: what is asked (credit notes, void, billing details, rates, the supplier) and answered."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictInt

from sitegate.models.requests import Body, Email, Name, _decimal_amount
from sitegate.models.responses import Date, Out, Page, Time
from sitegate.models.stored import BillingDetails, CreditNote, Supplier, Tenant

CreditAmount = Annotated[str, _decimal_amount(10, 2)]  # GST-exclusive, "12.50"
CreditQuantity = Annotated[str, _decimal_amount(6, 2)]  # average users per day, as on the invoice's lines
Rate = Annotated[str, _decimal_amount(6, 2)]  # money per user-day
Tier = Literal["field", "office"]
NZBN_PATTERN = r"^[0-9]{13}$"
GST_NUMBER_PATTERN = r"^[0-9]{2,3}-?[0-9]{3}-?[0-9]{3}$"


# ------------------------------------------------------------------ asked
class CreditLineIn(Body):
    tier: Tier
    quantity: CreditQuantity


class CreditCreate(Body):
    """Either `amount` (GST-exclusive) or `lines` (quantities of the invoice's lines, at their unit price)."""

    amount: CreditAmount | None = None
    lines: list[CreditLineIn] | None = Field(default=None, min_length=1, max_length=2)
    reason: Name = Field(min_length=1, max_length=500)


class VoidCreate(Body):
    reason: Name = Field(min_length=1, max_length=500)


class BillingDetailsSet(Body):
    legal_name: Name = Field(min_length=1, max_length=200)
    address: Name | None = Field(default=None, min_length=1, max_length=500)
    nzbn: str | None = Field(default=None, pattern=NZBN_PATTERN)
    billing_email: Email | None = None


class TenantBillingSet(Body):
    """Absent fields stay as they are."""

    field_day_rate: Rate | None = None
    office_day_rate: Rate | None = None
    gst_rate: Annotated[str, _decimal_amount(1, 4)] | None = None  # "0.15"
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    grace_days: StrictInt | None = Field(default=None, ge=0, le=31)


class SupplierSet(Body):
    legal_name: Name = Field(min_length=1, max_length=200)
    gst_number: str = Field(pattern=GST_NUMBER_PATTERN)
    address: Name = Field(min_length=1, max_length=500)


# ------------------------------------------------------------------ answered
class CreditLineOut(Out):
    tier: str
    quantity: str
    unit_price: str
    amount: str


class CreditNoteOut(Out):
    number: str
    period: str
    invoice_number: str
    kind: str  # credit | void
    amount: str
    gst: str
    total: str
    currency: str
    lines: list[CreditLineOut]
    reason: str
    issued_at: Time
    issue_date: Date
    issued_by: str

    @classmethod
    def of(cls, note: CreditNote) -> CreditNoteOut:
        return cls.model_validate(note.model_dump(include=set(cls.model_fields)))


class CreditNotePage(Page[CreditNoteOut]):
    """An invoice's credit notes, oldest first."""


class BillingDetailsOut(Out):
    legal_name: str | None
    address: str | None
    nzbn: str | None
    billing_email: str | None
    updated_by: str | None
    updated_at: Time | None

    @classmethod
    def of(cls, details: BillingDetails | None) -> BillingDetailsOut:
        if details is None:
            return cls(legal_name=None, address=None, nzbn=None, billing_email=None, updated_by=None, updated_at=None)
        return cls.model_validate(details.model_dump(include=set(cls.model_fields)))


class SupplierOut(Out):
    legal_name: str | None
    gst_number: str | None
    address: str | None
    updated_at: Time | None

    @classmethod
    def of(cls, supplier: Supplier | None) -> SupplierOut:
        if supplier is None:
            return cls(legal_name=None, gst_number=None, address=None, updated_at=None)
        return cls.model_validate(supplier.model_dump(include=set(cls.model_fields)))


class TenantBillingOut(Out):
    tenant_id: str
    field_day_rate: str
    office_day_rate: str
    gst_rate: str
    currency: str
    grace_days: int

    @classmethod
    def of(cls, tenant: Tenant) -> TenantBillingOut:
        return cls.model_validate(tenant.model_dump(include=set(cls.model_fields)))
