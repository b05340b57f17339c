"""Request bodies. Unknown fields are refused (422) so typos never pass silently."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
