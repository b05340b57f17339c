"""The audit trail: what an entry stores, what a seal records, and what readers are answered."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, field_validator

from sitegate.models.stored import Stored


class ActorKind(str, Enum):
    USER = "user"
    OPERATOR = "operator"  # a platform operator, acting on a tenant from outside it
    SYSTEM = "system"  # a schedule


class Actor(Stored):
    kind: ActorKind
    user_id: str | None = None
    name: str | None = None
    account_id: str | None = None
    level: str | None = None


class AuditTarget(Stored):
    type: str
    id: str
    job_id: str | None = None


class RequestFacts(Stored):
    """What the API Gateway event says about the request that made the change (none for a schedule)."""

    request_id: str | None = None
    idempotency_key: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None


class AuditEntry(Stored):
    """One changed object, written in the change's own transaction (never changed afterwards)."""

    audited: ClassVar[bool] = False  # the entry is the record; it needs none of its own
    tenant_id: str
    audit_id: str
    at: str  # UTC, microseconds, `Z`: sorts as text; unique and increasing within a process
    actor: Actor
    on_behalf_of_account_id: str | None = None
    action: str
    target: AuditTarget
    # The account the change is about (its own record, its users, its entries on jobs): what its
    # administrators may read.
    about_account_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    request: RequestFacts = RequestFacts()
    ttl: int  # DynamoDB TTL (epoch seconds): `at` plus the tenant's audit_retention_days

    @field_validator("before", "after", mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        """The table holds before/after as JSON text (any value keeps its type; no float or depth limit)."""
        return json.loads(value) if isinstance(value, str) else value


class AuditSeal(Stored):
    """One sealed range of a tenant's entries: (sealed_from, sealed_through], chained to the seal before.
    The signed copy in the Object Lock bucket is authoritative; this item is how verify finds it."""

    audited: ClassVar[bool] = False  # a schedule's bookkeeping, itself the evidence
    tenant_id: str
    sequence: int
    sealed_from: str
    sealed_through: str
    count: int
    digest: str
    previous_digest: str
    object_key: str
    version_id: str = ""  # the S3 version written (a racing sealer's version is not this one)
    sealed_at: str
    # The earliest expiry among its entries: from then on, the range is expired, not tampered with.
    expires_from: int | None = None


# ------------------------------------------------------------------ the sealer's report and message
class SealReport(BaseModel):
    model_config = ConfigDict(defer_build=True)

    tenant_id: str
    sealed: int  # entries in the new seal (0: nothing new, no seal written)
    sequence: int | None = None
    sealed_through: str | None = None
    digest: str | None = None


class SealTenant(BaseModel):
    """One message on the per-tenant queue: seal this tenant's entries up to `through`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = "audit.seal"
    tenant_id: str
    through: str
    run_id: str = ""
