"""Job requests (service requests by a connected account's users)."""

from __future__ import annotations

from collections.abc import Sequence

from boto3.dynamodb.conditions import Attr

from sitegate import keys
from sitegate.data import core
from sitegate.models.stored import Job, JobRequest, JobRequestStatus


def get_job_request(job: Job, request_id: str) -> JobRequest | None:
    """One job request: table key `T#t#JOB#j` / `REQUEST#r`."""
    return core.get_item(JobRequest, keys.job_request(job.tenant_id, job.job_id, request_id))


def job_requests_page(job: Job, account_id: str | None, requested_by: str | None, limit: int,
                      cursor: str | None) -> core.Page[JobRequest]:
    """A job's requests, by account then time: GSI1 `T#t#JOB#j#REQUESTS` (sort prefix `{account}#` for one
    account's; filtered on the requester for one user's own)."""
    return core.filtered_page(JobRequest, keys.job_requests(job.tenant_id, job.job_id), index="GSI1",
                              sort_prefix=keys.requests_of_account(account_id) if account_id is not None else None,
                              where=Attr("requested_by").eq(requested_by) if requested_by is not None else None,
                              limit=limit, cursor=cursor)


def count_open_requests(tenant_id: str, job_ids: Sequence[str] | None = None) -> int:
    """Open job requests of a tenant, or of these jobs: sparse GSI2 `T#t#OPENREQUESTS` (Select=COUNT, or by job
    as `core.count_of_jobs` reads it)."""
    if job_ids is None:
        return core.count(keys.open_requests(tenant_id), index="GSI2")
    return core.count_of_jobs(keys.open_requests(tenant_id), "GSI2", job_ids)


def open_requests_of_job(job: Job) -> list[JobRequest]:
    """A job's open requests as they stand: the sparse GSI2 `T#t#OPENREQUESTS` (sort prefix `{job}#`)
    finds them, one consistent BatchGetItem per 100 reads them, and only those still open count."""
    found = core.query_all(JobRequest, keys.open_requests(job.tenant_id), keys.by_job(job.job_id), index="GSI2")
    current = core.get_many(JobRequest, [keys.job_request(r.tenant_id, r.job_id, r.request_id) for r in found])
    return [r for r in current if r.status == JobRequestStatus.OPEN.value]


def open_of_job(job: Job) -> list[JobRequest]:
    """A job's open requests, to remove with the job so the dashboard stops counting them: sparse GSI2
    `T#t#OPENREQUESTS`, sort prefix `{job}#`."""
    return core.query_all(JobRequest, keys.open_requests(job.tenant_id), keys.by_job(job.job_id), index="GSI2")
