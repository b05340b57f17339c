"""Domain events published on the SNS topic and consumed by notifications."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class DomainEvent(BaseModel):
    event_id: str  # the same event redelivered keeps its id (exactly-once to a person)
    type: str  # e.g. delivery.approval_needed, delivery.decided, job.access_granted, invoice.issued
    tenant_id: str
    occurred_at: str
    data: dict[str, Any] = Field(default_factory=dict)
