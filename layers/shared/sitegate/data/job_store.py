"""Jobs, their number markers and the public portal's marker; deleting a job with what hangs off it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sitegate import keys
from sitegate.data import access_store, core, delivery_store, request_store
from sitegate.models.stored import Job, Tenant, User


def get_job(tenant_id: str, job_id: str) -> Job | None:
    """One job: table key `T#t#JOB#j` / `JOB`."""
    return core.get_item(Job, keys.job(tenant_id, job_id))


def get_jobs(tenant_id: str, job_ids: Sequence[str]) -> list[Job]:
    """Jobs by id, in the order asked, in BatchGetItem calls of 100: table keys `T#t#JOB#j` / `JOB`."""
    return core.get_many(Job, [keys.job(tenant_id, j) for j in dict.fromkeys(job_ids)])


def get_job_and_tenant(tenant_id: str, job_id: str) -> tuple[Job | None, Tenant | None]:
    """A job and its tenant (the portal), in one BatchGetItem: `T#t#JOB#j`/`JOB`, `T#t#TENANT`/`TENANT`."""
    job_key, tenant_key = keys.job(tenant_id, job_id), keys.tenant(tenant_id)
    found = core.batch_get([job_key, tenant_key])
    return core.pick(Job, found, job_key), core.pick(Tenant, found, tenant_key)


def search_jobs(tenant_id: str, prefix: str, limit: int, cursor: str | None) -> core.Page[Job]:
    """Jobs of a tenant by job-number prefix: GSI1 `T#t#JOBS`, sort prefix the normalized number."""
    return core.query_page(Job, keys.tenant_jobs(tenant_id), index="GSI1",
                           sort_prefix=keys.job_number_key(prefix) or None, limit=limit, cursor=cursor)


def customer_jobs(tenant_id: str, code: str) -> list[Job]:
    """Every job carrying a customer code: GSI2 `T#t#CODEJOBS#{code}`."""
    return core.query_all(Job, keys.jobs_with_code(tenant_id, code), index="GSI2")


def count_active_jobs(tenant_id: str) -> int:
    """How many active jobs a tenant has: GSI1 `T#t#JOBS` (COUNT, filter status = active)."""
    return core.count(keys.tenant_jobs(tenant_id), index="GSI1", status="active")


def portal_tenant(job_id: str) -> str | None:
    """The tenant of a job, for the public portal: table key `T#platform#PORTAL#j` / `PORTAL`."""
    item = core.get_raw(keys.portal(job_id))
    return None if item is None else str(item["tenant_id"])


def delete_job(job: Job, users: Sequence[tuple[User, User]], audited: Callable[[Any, Any], core.Create]) -> None:
    """Delete a job, its number marker, its access list, the markers of removed entries, its project
    roles, its pending deliveries and open requests (off the dashboard's lists), the portal's marker,
    and rewrite `users` (each as it was, and without the job in `job_ids`). Each removed or rewritten
    object goes with its audit entry, `audited(before, after)`. Users go first and the job item in the
    last transaction, so a failure part-way leaves the job to delete again."""
    t, j = job.tenant_id, job.job_id
    # The job and its number lead the list: chunks are written from the end, so they go last.
    changes: list[core.Change] = [[core.Remove(job), core.Remove(keys.job_number(t, job.job_number)), audited(job, None)]]
    removed = [*access_store.job_access_list(job), *access_store.job_roles(t, j),
               *delivery_store.pending_of_job(job), *request_store.open_of_job(job)]
    changes += [[core.Remove(m), audited(m, None)] for m in removed]
    changes += [[core.Remove(e)] for e in access_store.access_ended_on_job(job)]
    changes.append([core.Remove(keys.portal(j))])
    core.write_in_chunks([[core.Replace(new), audited(old, new)] for old, new in users])
    core.write_in_chunks(changes, backwards=True)
