"""The billing function's two non-HTTP inputs: the monthly schedule's event and the billing queue's
per-tenant message. Each names the month it is for; nothing reads the wall clock for it."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class BillingRunDetail(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    period: str | None = Field(default=None, pattern=r"^[0-9]{4}-[0-9]{2}$")  # a named month (the local run)
    # The monthly billing run, the hourly audit sealing, or the daily finalizing of drafts past their grace period.
    task: Literal["bill", "audit.seal", "invoice.finalize"] = "bill"


class BillingRun(BaseModel):
    """The schedule's Input (template.yaml): `time` is `<aws.scheduler.scheduled-time>`, which
    EventBridge Scheduler fills in at invoke time, so a run retried or redriven later still bills the
    month it was scheduled for; `id` is `<aws.scheduler.execution-id>` (a correlation id in the logs)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    scheduled_at: AwareDatetime = Field(alias="time")
    run_id: str = Field(default="", alias="id", max_length=128)
    detail: BillingRunDetail = Field(default_factory=BillingRunDetail)


class BillTenant(BaseModel):
    """One message on the billing queue: bill this tenant for this month (the fan-out sends one per tenant)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str = Field(min_length=1, max_length=128)
    period: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$")
    run_id: str = Field(default="", max_length=128)


class FinalizeTenant(BaseModel):
    """One message on the billing queue: finalize this tenant's drafts whose grace period is over at `at`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["invoice.finalize"] = "invoice.finalize"
    tenant_id: str = Field(min_length=1, max_length=128)
    at: AwareDatetime
    run_id: str = Field(default="", max_length=128)
