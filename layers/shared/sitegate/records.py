"""Time and equipment records on a job (seed 004)."""

from __future__ import annotations

from sitegate import clock, ids, keys, policy
from sitegate.data import store
from sitegate.errors import Conflict, InvalidInput
from sitegate.jobs import job_context, require_on_job
from sitegate.models.requests import RecordCreate
from sitegate.models.responses import RecordOut, RecordPage
from sitegate.models.stored import JobRecord, JobStatus
from sitegate.policy import Caller


def create_record(caller: Caller, job_id: str, request: RecordCreate, idempotency: store.Idempotency | None) -> RecordOut:
    job, _ = job_context(caller, job_id)  # can view the job
    policy.require(policy.decide(caller, f"{request.type}.record"))
    if job.status != JobStatus.ACTIVE.value:
        raise Conflict(f"job {job.job_number} is archived")
    if request.type == "equipment" and not request.equipment:
        raise InvalidInput("invalid input: equipment",
                           errors=[{"field": "equipment", "message": "an equipment record names its equipment"}])
    record = JobRecord(tenant_id=job.tenant_id, job_id=job.job_id, record_id=ids.new_id(), user_id=caller.user.user_id,
                       created_at=clock.now_iso(), **{**request.model_dump(), "date": request.date.isoformat()})
    out = RecordOut.of(record)
    store.create_once([store.Create(store.record_item(record), "record already exists")], out, idempotency)
    return out


def list_records(caller: Caller, job_id: str, limit: int, cursor: str | None) -> RecordPage:
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "records.view", facts)
    page = store.query_page(JobRecord, keys.job_partition(job.tenant_id, job.job_id), sort_prefix="RECORD#", limit=limit,
                            cursor=cursor)
    return RecordPage(items=[RecordOut.of(r) for r in page.items],
                      next_cursor=page.next_cursor)
