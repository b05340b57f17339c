"""Jobs and job search (seeds 000/001: SOP "Job Access").

A request against a job reads the job, the caller's account's entry on its access
list and the caller's project role in one call (`job_context`); a job the caller
may not see is 404 everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from sitegate import clock, customer_codes, ids, keys, policy
from sitegate.data import store
from sitegate.errors import Conflict, NotFound
from sitegate.models.requests import JobCreate, JobUpdate
from sitegate.models.responses import JobOut, JobPage
from sitegate.models.stored import Job, JobGrant, JobStatus
from sitegate.policy import Caller, JobFacts


def job_context(caller: Caller, job_id: str) -> tuple[Job, JobFacts]:
    """The job and what the policy needs to know about it, or 404 if the caller may not see it."""
    job, grant, role = store.get_job_context(caller.user.tenant_id, job_id, caller.account.account_id,
                                             caller.user.user_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    facts = JobFacts(job_id=job.job_id, grant=grant, project_role=role.role if role else None)
    if not policy.decide(caller, "job.view", job=facts):
        raise NotFound(f"job {job_id} not found")
    return job, facts


def require_on_job(caller: Caller, action: str, facts: JobFacts) -> policy.Decision:
    return policy.require(policy.decide(caller, action, job=facts))


def _out(caller: Caller, job: Job) -> JobOut:
    return JobOut.of(job, financial=bool(policy.decide(caller, "financial.view")))


def _writable(job: Job) -> None:
    if job.status != JobStatus.ACTIVE.value:
        raise Conflict(f"job {job.job_number} is archived")


# ------------------------------------------------------------------ jobs
def create_job(caller: Caller, request: JobCreate, idempotency: store.Idempotency | None) -> JobOut:
    policy.require(policy.decide(caller, "job.add"))
    if request.cost_price is not None or request.charge_price is not None:
        policy.require(policy.decide(caller, "financial.view"))  # who may not see prices may not set them
    now = clock.now_iso()
    job = Job(tenant_id=caller.user.tenant_id, job_id=ids.new_id(), created_by=caller.user.user_id, created_at=now,
              **request.model_dump())
    out = _out(caller, job)
    creates = [store.Create(store.job_item(job), "job already exists"),
               store.Create(store.job_number_item(job), f"job number {job.job_number} already exists")]
    customer = customer_codes.customer_of(job.tenant_id, job.customer_code)
    if customer is not None:  # a new job finds its customer
        creates.append(store.Create(store.grant_item(customer_codes.customer_grant(job, customer, now)), "already connected"))
    replaces = []
    if policy.decide(caller, "job.view").scope is policy.Scope.ALLOCATED:  # a TMP Designer is allocated to its job
        me = caller.user
        allocated = me.changed(job_ids=[*me.job_ids, job.job_id], version=me.version + 1)
        replaces.append(store.Replace(store.user_item(allocated)))
    store.create_once(creates, out, idempotency, replaces=replaces)
    return out


def get_job(caller: Caller, job_id: str) -> JobOut:
    return _out(caller, job_context(caller, job_id)[0])


def list_jobs(caller: Caller, prefix: str, status: JobStatus | None, limit: int, cursor: str | None) -> JobPage:
    """Visible jobs whose number starts with `prefix`, in job-number order."""
    tenant_id, me = caller.user.tenant_id, caller.user
    reach = policy.decide(caller, "job.view")
    wanted = status.value if status else None
    if not reach:
        return JobPage(items=[], next_cursor=None)
    if reach.scope is policy.Scope.ALL:  # every job of the tenant, by number
        page = store.query_page(Job, keys.tenant_jobs(tenant_id), index="GSI1", sort_prefix=prefix or None, limit=limit,
                                cursor=cursor)
        jobs = [j for j in page.items if wanted in (None, j.status)]
        return JobPage(items=[_out(caller, j) for j in jobs], next_cursor=page.next_cursor)
    grants: list[JobGrant] = []
    next_cursor: str | None = None
    if reach.scope is policy.Scope.ACCOUNT:  # an administrator: its account's entries, by number
        grant_page = store.query_page(JobGrant, keys.account_jobs(tenant_id, me.account_id), index="GSI1",
                                      sort_prefix=prefix or None, limit=limit, cursor=cursor)
        grants, next_cursor = grant_page.items, grant_page.next_cursor
        job_ids = [g.job_id for g in grants]
    elif reach.scope is policy.Scope.ASSIGNED:  # managers and basic users: their assigned jobs
        grants = store.get_grants(tenant_id, me.account_id, me.job_ids)
        job_ids = [g.job_id for g in grants]
    else:  # staff allocated to a few jobs
        job_ids = list(me.job_ids)
    jobs = sorted(store.get_jobs(tenant_id, job_ids), key=lambda j: j.job_number)
    visible = [j for j in jobs if j.job_number.startswith(prefix) and wanted in (None, j.status)
               and _sees(caller, j, grants)]
    if reach.scope is not policy.Scope.ACCOUNT:  # a short list of its own: page it by job number
        after = (store.decode_cursor(cursor) or {}).get("after", "")
        visible = [j for j in visible if j.job_number > after]
        more = len(visible) > limit
        visible = visible[:limit]
        next_cursor = store.encode_cursor({"after": visible[-1].job_number}) if more else None
    return JobPage(items=[_out(caller, j) for j in visible], next_cursor=next_cursor)


def _sees(caller: Caller, job: Job, grants: Iterable[JobGrant]) -> bool:
    grant = next((g for g in grants if g.job_id == job.job_id), None)
    return bool(policy.decide(caller, "job.view", job=JobFacts(job.job_id, grant)))


def update_job(caller: Caller, job_id: str, request: JobUpdate) -> JobOut:
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "job.edit", facts)
    _writable(job)
    changes = request.model_dump(exclude_unset=True)
    if {"cost_price", "charge_price"} & set(changes):
        policy.require(policy.decide(caller, "financial.view"))
    if not changes:
        return _out(caller, job)
    new = job.changed(**changes, version=job.version + 1)
    creates, removes = [], []
    if new.customer_code != job.customer_code:  # the customer connection follows the code
        old_customer = customer_codes.customer_of(job.tenant_id, job.customer_code)
        if old_customer is not None:
            old = store.get_item(JobGrant, keys.job_grant(job.tenant_id, job.job_id, old_customer))
            if old is not None and old.source == "customer_code":
                removes.append(store.Remove(keys.job_grant(job.tenant_id, job.job_id, old_customer)))
        new_customer = customer_codes.customer_of(job.tenant_id, new.customer_code)
        if new_customer is not None and store.get_item(
                JobGrant, keys.job_grant(job.tenant_id, job.job_id, new_customer)) is None:
            creates.append(store.Create(store.grant_item(customer_codes.customer_grant(new, new_customer, clock.now_iso())),
                                        "already connected"))
    store.write(creates=creates, replaces=[store.Replace(store.job_item(new))], removes=removes)
    return _out(caller, new)


def archive_job(caller: Caller, job_id: str) -> JobOut:
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "job.archive", facts)
    if job.status == JobStatus.ARCHIVED.value:
        return _out(caller, job)
    new = job.changed(status=JobStatus.ARCHIVED.value, version=job.version + 1)
    store.write(replaces=[store.Replace(store.job_item(new))])
    return _out(caller, new)


def delete_job(caller: Caller, job_id: str) -> None:
    """Delete the job, its number and its access list (so no account reaches it any more)."""
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "job.delete", facts)
    store.delete_job(job)


