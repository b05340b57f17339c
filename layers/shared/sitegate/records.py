"""Time and equipment records on a job (the staff capability table)."""

from __future__ import annotations

from sitegate import audit, clock, ids, policy
from sitegate.data import core, ticket_store
from sitegate.data.idempotency import Idempotency, create_once
from sitegate.errors import invalid
from sitegate.models.requests import RecordCreate
from sitegate.models.responses import RecordOut, RecordPage
from sitegate.models.stored import JobRecord
from sitegate.on_job import JobContext, require_on_job, writable
from sitegate.policy import Caller


def create_record(caller: Caller, ctx: JobContext, request: RecordCreate,
                  idempotency: Idempotency | None) -> RecordOut:
    """A time or equipment entry by staff with time.record / equipment.record who can view the job."""
    policy.require(policy.decide_record_create(caller, ctx.facts, request.type))
    job = writable(ctx.job)
    if request.type == "equipment" and not request.equipment:
        raise invalid("equipment", "an equipment record names its equipment")
    record = JobRecord(tenant_id=job.tenant_id, job_id=job.job_id, record_id=ids.new_id(), user_id=caller.user.user_id,
                       created_at=clock.now_iso(), **{**request.model_dump(), "date": request.date.isoformat()})
    out = RecordOut.of(record)
    create_once([core.Create(record, "record already exists"), audit.change("record.create", None, record)], out,
                idempotency)
    return out


def list_records(caller: Caller, ctx: JobContext, limit: int, cursor: str | None) -> RecordPage:
    require_on_job(caller, "records.view", ctx)
    page = ticket_store.job_records_page(ctx.job, limit, cursor)
    return RecordPage(items=[RecordOut.of(r) for r in page.items], next_cursor=page.next_cursor)
