"""Request bodies. Unknown fields are refused (422) so typos never pass silently."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime
from datetime import date as date_
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints, field_validator

from sitegate.models.stored import JobRequestStatus, LocationKind

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


# ------------------------------------------------------------ the text rule (docs/DOMAIN.md "Text")
# Free text a person types (names, titles, addresses, reasons, notes, descriptions, messages) ends up
# in emails, SMS, lists and screens: it may not carry characters that change how those are laid out.
# Refused everywhere: control characters (Unicode category Cc: C0, DEL, C1, so the tab too), the line
# and paragraph separators U+2028 and U+2029, the bidirectional embeddings, overrides and isolates
# (U+202A-U+202E, U+2066-U+2069: "Trojan Source" reordering), and unpaired surrogates (JSON's
# "\ud800", which no UTF-8 store or email can carry). Prose (descriptions, notes, alert messages)
# takes line breaks: "\n", and "\r\n" as sent by Windows clients, kept as "\n"; a lone "\r" is refused.
# Other format characters (category Cf) are allowed: the zero-width joiner and non-joiner belong to
# emoji sequences and to Indic and Persian spelling, and the marks U+200E, U+200F and U+061C set the
# direction of text written right-to-left without reordering anything beyond themselves.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")  # what str.splitlines() breaks on


def refused_character(c: str) -> str | None:
    """What `c` is, if the text rule refuses it anywhere in free text (a line break is refused too:
    prose lets "\n" through before asking); None for every character the rule allows."""
    if c in LINE_BREAKS:
        return "a line break"
    category = unicodedata.category(c)
    if category == "Cc":
        return "a control character"
    if c in BIDI_CONTROLS:
        return "a bidirectional override or isolate"
    if category == "Cs":
        return "an unpaired surrogate"
    return None


def _check_text(value: str, *, newlines: bool) -> str:
    for position, c in enumerate(value, start=1):
        if newlines and c == "\n":
            continue
        what = refused_character(c)
        if what is None:
            continue
        if what != "a line break":
            why = "not allowed in text"
        elif newlines:
            why = "break lines with \\n only"
        else:
            why = "this text is one line (only descriptions, notes and messages take line breaks)"
        raise ValueError(f"{what} (U+{ord(c):04X}, character {position}): {why}")
    return value


def _one_line(value: str) -> str:
    return _check_text(value, newlines=False)


def _prose(value: str) -> str:
    return _check_text(value.replace("\r\n", "\n"), newlines=True)


# Every free-text field of a request is one of these two (lengths are the field's own):
Name = Annotated[str, AfterValidator(_one_line)]  # one line: names, titles, addresses, reasons, ticket fields
Prose = Annotated[str, AfterValidator(_prose)]  # line breaks allowed: descriptions, notes, alert messages
Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254), AfterValidator(_one_line)]


class Body(BaseModel):
    # Enum fields hold their plain values, as a Literal would: the logic sees the same strings.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True, use_enum_values=True)


class TenantCreate(Body):
    name: Name = Field(min_length=1, max_length=200)
    admin_email: Email
    admin_name: Name = Field(min_length=1, max_length=200)
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


def _each_once(job_ids: list[str]) -> list[str]:
    twice = sorted({j for j in job_ids if job_ids.count(j) > 1})
    if twice:
        raise ValueError(f"a set of jobs: {', '.join(twice)} given more than once")
    return job_ids


JobIds = Annotated[list[JobId], AfterValidator(_each_once)]  # a user's assignments: each job once
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"  # E.164, as SNS SMS needs


class UserCreate(Body):
    email: Email
    name: Name = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    account_id: str | None = Field(default=None, min_length=1, max_length=64)
    level: str = Field(min_length=1, max_length=40)
    job_ids: JobIds = Field(default_factory=list, max_length=500)
    can_create_guests: StrictBool = False

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


# PATCH bodies: a field left out is None (its default, which pydantic does not validate) and stays as it
# is, while a null sent is refused (422) by the field's type. mypy sees a default the type does not
# allow: the `type: ignore`s below. `T | None` would let null through and into the OpenAPI document.
class UserUpdate(Body):
    """Absent fields stay as they are; only `phone` may be cleared with null."""

    name: Name = Field(default=None, min_length=1, max_length=200)  # type: ignore[assignment]  # None: absent (see PATCH bodies)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    level: str = Field(default=None, min_length=1, max_length=40)  # type: ignore[assignment]  # None: absent (see PATCH bodies)
    job_ids: JobIds = Field(default=None, max_length=500)  # type: ignore[arg-type]  # None: absent (see PATCH bodies)
    can_create_guests: StrictBool = None  # type: ignore[assignment]  # None: absent (see PATCH bodies)


class MeUpdate(Body):
    """A user's own name and phone (`PATCH /me`). Absent fields stay as they are; `phone` may be
    cleared with null, which also turns SMS notifications off."""

    name: Name = Field(default=None, min_length=1, max_length=200)  # type: ignore[assignment]  # None: absent (see PATCH bodies)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)


class NotificationPreferencesUpdate(Body):
    email: StrictBool
    sms: StrictBool


class AccountAdmin(Body):
    email: Email
    name: Name = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


CustomerCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
ConnectedKind = Literal["customer", "inspection_firm", "project_owner", "trade_contractor", "vendor", "guest_contractor"]


class AccountCreate(Body):
    kind: ConnectedKind
    name: Name = Field(min_length=1, max_length=200)
    customer_codes: list[CustomerCode] = Field(default_factory=list, max_length=50)
    admin: AccountAdmin | None = None


class AccountUpdate(Body):
    """Absent fields stay as they are; null is refused."""

    name: Name = Field(default=None, min_length=1, max_length=200)  # type: ignore[assignment]  # None: absent (see PATCH bodies)
    customer_codes: list[CustomerCode] = Field(default=None, max_length=50)  # type: ignore[arg-type]  # None: absent (see PATCH bodies)


SETTING_VALUE_LIMIT = 64 * 1024  # characters of a setting's value as compact JSON: well under DynamoDB's 400 KB item


def _storable_json(value: Any) -> Any:
    """A setting value is stored as JSON text: refuse what JSON cannot hold (NaN, Infinity, which
    the body parser accepts) and values over SETTING_VALUE_LIMIT."""
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except ValueError as exc:
        raise ValueError("NaN and Infinity are not JSON numbers") from exc
    if len(text) > SETTING_VALUE_LIMIT:
        raise ValueError(f"at most {SETTING_VALUE_LIMIT} characters of JSON")
    return value


class SettingUpdate(Body):
    value: Annotated[Any, AfterValidator(_storable_json)]


def _registration(value: str) -> str:
    """Shown as typed, upper case with single spaces; compared without case, spaces or hyphens."""
    if not any(c.isalnum() for c in value):
        raise ValueError("a registration has letters or digits")
    return " ".join(value.upper().split())


class VehicleCreate(Body):
    name: Name = Field(min_length=1, max_length=200)
    registration: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9 -]{1,20}$"), AfterValidator(_registration)]


def _two_decimals(value: str) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def _one_day(value: str) -> str:
    if not Decimal("0") < Decimal(value) <= Decimal("24"):
        raise ValueError("hours in one day: more than 0, at most 24")
    return value


# Money is a string with two decimals ("309.90"); "1.5" is taken as "1.50".
Money = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}(\.[0-9]{1,2})?$"), AfterValidator(_two_decimals)]
JOB_NUMBER_PATTERN = r"^[A-Za-z0-9-]{1,20}$"


class JobCreate(Body):
    job_number: str = Field(pattern=JOB_NUMBER_PATTERN)
    name: Name = Field(min_length=1, max_length=200)
    customer_code: CustomerCode | None = None
    address: Name | None = Field(default=None, max_length=500)
    cost_price: Money | None = None
    charge_price: Money | None = None


class JobUpdate(Body):
    """The job number is the job's public name and never changes. Absent fields stay as
    they are; `customer_code`, `address` and the prices may be cleared with null."""

    name: Name = Field(default=None, min_length=1, max_length=200)  # type: ignore[assignment]  # None: absent (see PATCH bodies)
    customer_code: CustomerCode | None = None
    address: Name | None = Field(default=None, max_length=500)
    cost_price: Money | None = None
    charge_price: Money | None = None


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs an offset, e.g. 2026-11-23T09:00:00+13:00")
    try:  # 9999-12-31T23:59:59-05:00 is past year 9999 in UTC: out of range, not a crash
        value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("out of range: must fall within years 1 to 9999 in UTC") from exc
    return value


def _iso_text(value: Any) -> Any:
    """Times and dates are ISO-8601 text: a bare number (a Unix timestamp) is refused, not guessed."""
    if not isinstance(value, str):
        raise ValueError("ISO-8601 text, e.g. 2026-11-23T09:00:00+13:00")
    return value


def _plain_date(value: Any) -> Any:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        raise ValueError("a date as YYYY-MM-DD")
    return value


# The schema is the datetime's and the date's own (a string, format date-time / date).
AwareTime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_aware)]
PlainDate = Annotated[date_, BeforeValidator(_plain_date)]


class AccessGrant(Body):
    account_id: str = Field(min_length=1, max_length=64)
    access_type: Literal["ticket_taker", "standard", "limited"] | None = None
    expires_at: AwareTime | None = None


class RoleUpdate(Body):
    role: Literal["lead", "member", "alerts_only", "not_on_jobsite"]


def _decimal_amount(integer_digits: int, places: int) -> BeforeValidator:
    """A decimal amount sent as a JSON number (`7.5`) or a decimal string (`"7.5"`), answered as a
    string with exactly `places` decimals (`"7.50"`). A JSON number is read from its shortest
    decimal form, so 7.1 is 7.1, not the float 7.0999...; NaN, Infinity, booleans, exponents,
    negatives and more than `places` decimals are refused, never rounded."""
    step = Decimal(1).scaleb(-places)

    def parse(value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError("a decimal amount: a JSON number or a string like \"6.5\"")
        # The number as written when the body parser kept it (sitegate.http.JsonFloat/JsonInt), so
        # `1E2` and `-0` are refused as their text, not taken as the 100.0 and 0 they parse to.
        written = getattr(value, "json_text", None)
        text = written if written is not None else repr(value) if isinstance(value, float) else str(value).strip()
        found = re.fullmatch(r"([0-9]+)(?:\.([0-9]+))?", text)  # ASCII digits only, not other scripts
        if found is None:
            raise ValueError("a plain non-negative decimal amount, like 6.5")
        # Digits are counted on the text: Decimal's context cannot quantize past 28 digits.
        whole, fraction = found.group(1).lstrip("0"), (found.group(2) or "").rstrip("0")
        if len(whole) > integer_digits or len(fraction) > places:
            raise ValueError(f"at most {integer_digits} digits before the point and {places} after")
        return str(Decimal(text).quantize(step))

    return BeforeValidator(parse, json_schema_input_type=float | str)


# Decimal amounts that are not money: answered as strings with a fixed number of decimals.
Quantity = Annotated[str, _decimal_amount(9, 3)]  # "6.500"
Hours = Annotated[str, _decimal_amount(2, 2), AfterValidator(_one_day)]  # "7.50"


class TicketCreate(Body):
    """`quantity` is a JSON number or a decimal string (at most 3 decimals); tickets answer it as a
    string with three decimals (`6.5` -> `"6.500"`)."""

    ticket_number: str = Field(pattern=r"^[A-Za-z0-9-]{1,40}$")
    material: Name = Field(min_length=1, max_length=200)
    quantity: Quantity
    unit: Name = Field(min_length=1, max_length=20)
    truck: Name = Field(min_length=1, max_length=40)
    status: Literal["loaded", "en_route"] = "loaded"
    eta: AwareTime | None = None


class TicketUpdate(Body):
    status: Literal["loaded", "en_route"] = None  # type: ignore[assignment]  # None: absent (see PATCH bodies)
    eta: AwareTime | None = None


class Unload(Body):
    accepted: StrictBool
    notes: Prose | None = Field(default=None, max_length=1000)


class RecordCreate(Body):
    """`hours` is a JSON number or a decimal string (more than 0, at most 24, at most 2 decimals);
    records answer it as a string with two decimals (`7.5` -> `"7.50"`)."""

    type: Literal["time", "equipment"]
    date: PlainDate
    hours: Hours
    equipment: Name | None = Field(default=None, min_length=1, max_length=200)
    note: Prose | None = Field(default=None, max_length=1000)


# ------------------------------------------------------------ notifications: jobsite alerts
class AlertCreate(Body):
    message: Prose = Field(min_length=1, max_length=1000)
    severity: Literal["info", "urgent", "emergency"] = "urgent"
    escalate_after_minutes: int = Field(default=5, ge=1, le=60)


class AlertAck(Body):
    """An acknowledgment: the caller's own, or a GC lead's on behalf of a recipient, with a note."""

    on_behalf_of_user_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    note: Prose | None = Field(default=None, min_length=1, max_length=500)


# --- deliveries and job requests (delivery_approvals)
ObjectId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
PlaceName = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True), AfterValidator(_one_line)]
MAX_EQUIPMENT_PER_DELIVERY = 10  # with its location and two days each, a booking stays well inside one transaction


class LocationCreate(Body):
    name: PlaceName
    kind: LocationKind


class EquipmentCreate(Body):
    name: PlaceName


class DeliveryCreate(Body):
    """A window on 5-minute marks, ending after it starts, at most 24 hours long (checked in
    `sitegate.deliveries`, which names the field). `override` is for site hours (not built yet)."""

    for_account_id: ObjectId
    location_id: ObjectId
    equipment_ids: list[ObjectId] = Field(default_factory=list, max_length=MAX_EQUIPMENT_PER_DELIVERY)
    start: AwareTime
    end: AwareTime
    vendor_account_id: ObjectId | None = None
    vendor_name: PlaceName | None = None
    description: Prose | None = Field(default=None, max_length=1000)
    override: StrictBool = False


class DeliveryReject(Body):
    reason: Name = Field(min_length=1, max_length=1000)


class DeliveryCancel(Body):
    series: StrictBool = False  # recurring bookings are not built yet: a delivery is its own series


class JobRequestCreate(Body):
    title: Name = Field(min_length=1, max_length=200)
    description: Prose = Field(min_length=1, max_length=4000)


class JobRequestUpdate(Body):
    status: JobRequestStatus
