"""Request bodies. Unknown fields are refused (422) so typos never pass silently."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TenantCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    admin_email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    admin_name: str = Field(min_length=1, max_length=200)
    timezone: str = "Pacific/Auckland"
    currency: str = Field(default="NZD", pattern=r"^[A-Z]{3}$")

    @field_validator("admin_email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


JOB_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
JobId = Annotated[str, StringConstraints(pattern=JOB_ID_PATTERN)]
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"  # E.164, as SNS SMS needs


class UserCreate(Body):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    account_id: str | None = Field(default=None, min_length=1, max_length=64)
    level: str = Field(min_length=1, max_length=40)
    job_ids: list[JobId] = Field(default_factory=list, max_length=500)
    can_create_guests: bool = False

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class UserUpdate(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    level: str | None = Field(default=None, min_length=1, max_length=40)
    job_ids: list[JobId] | None = Field(default=None, max_length=500)
    can_create_guests: bool | None = None


class NotificationPreferencesUpdate(Body):
    email: bool
    sms: bool


class AccountAdmin(Body):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


CustomerCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
ConnectedKind = Literal["customer", "inspection_firm", "project_owner", "trade_contractor", "vendor", "guest_contractor"]


class AccountCreate(Body):
    kind: ConnectedKind
    name: str = Field(min_length=1, max_length=200)
    customer_codes: list[CustomerCode] = Field(default_factory=list, max_length=50)
    admin: AccountAdmin | None = None


class AccountUpdate(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    customer_codes: list[CustomerCode] | None = Field(default=None, max_length=50)


class SettingUpdate(Body):
    value: Any


class VehicleCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    registration: str = Field(pattern=r"^[A-Za-z0-9 -]{1,20}$")
