"""Jobs and job search (the e-ticketing "Job Access" screen). What a request on a job knows of it
(`JobContext`) is in `sitegate.on_job`."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sitegate import audit, clock, customer_codes, ids, policy
from sitegate.data import access_store, account_store, core, events, job_store, tenant_store, user_store
from sitegate.data.idempotency import Idempotency, create_once
from sitegate.errors import Conflict, NotFound
from sitegate.models.requests import JobCreate, JobUpdate
from sitegate.models.responses import JobOut, JobPage
from sitegate.models.stored import (
    Account,
    AccountKind,
    Job,
    JobGrant,
    JobNumberMarker,
    JobStatus,
    PortalMarker,
    ProjectRole,
    User,
    job_number_key,
)
from sitegate.on_job import JobContext, require_on_job, writable
from sitegate.policy import Caller, JobFacts


def _out(caller: Caller, job: Job) -> JobOut:
    return JobOut.of(job, financial=bool(policy.decide_on_prices(caller)))


# ------------------------------------------------------------------ jobs
def create_job(caller: Caller, request: JobCreate, idempotency: Idempotency | None) -> JobOut:
    policy.require(policy.decide(caller, "job.add"))
    if request.cost_price is not None or request.charge_price is not None:
        policy.require(policy.decide_on_prices(caller))  # who may not see prices may not set them
    now = clock.now_iso()
    job = Job(tenant_id=caller.user.tenant_id, job_id=ids.new_id(), created_by=caller.user.user_id, created_at=now,
              **request.model_dump())
    out = _out(caller, job)
    creates = [core.Create(job, "job already exists"),
               core.Create(JobNumberMarker.of(job), f"job number {job.job_number} already exists"),
               core.Create(PortalMarker.of(job), "job already exists"),  # the public portal finds its tenant
               audit.change("job.create", None, job)]
    customer = customer_codes.customer_account(job.tenant_id, job.customer_code)
    connected = customer_codes.connection(job, customer, now) if customer is not None else None
    if connected is not None:  # a new job finds its customer
        creates += connected.creates()
    replaces = []
    if policy.decide(caller, "job.view").scope is policy.Scope.ALLOCATED:  # a TMP Designer is allocated to its job
        me = caller.user
        allocated = me.changed(job_ids=[*me.job_ids, job.job_id], version=me.version + 1)
        replaces.append(core.Replace(allocated))
        creates.append(audit.change("user.update", me, allocated))
    create_once(creates, out, idempotency, replaces=replaces)
    if connected is not None:
        events.publish([connected.event])
    return out


def get_job(caller: Caller, ctx: JobContext) -> JobOut:
    require_on_job(caller, "job.view", ctx)  # a trade's or vendor's user without a role sees the portal only
    return _out(caller, ctx.job)


def list_jobs(caller: Caller, prefix: str, status: JobStatus | None, limit: int, cursor: str | None) -> JobPage:
    """Visible jobs whose number starts with `prefix` (case and spaces do not count), in job-number order."""
    tenant_id, me = caller.user.tenant_id, caller.user
    reach = policy.decide(caller, "job.view")
    wanted = status.value if status else None
    if not reach:
        return JobPage(items=[], next_cursor=None)
    if reach.scope is policy.Scope.ALL:  # every job of the tenant, by number
        page = job_store.search_jobs(tenant_id, prefix, limit, cursor)
        jobs = [j for j in page.items if wanted in (None, j.status)]
        return JobPage(items=[_out(caller, j) for j in jobs], next_cursor=page.next_cursor)
    grants: list[JobGrant] = []
    next_cursor: str | None = None
    if reach.scope is policy.Scope.ACCOUNT:  # an administrator: its account's entries, by number
        grant_page = access_store.account_job_grants(tenant_id, me.account_id, prefix, limit, cursor)
        grants, next_cursor = grant_page.items, grant_page.next_cursor
        job_ids = [g.job_id for g in grants]
    elif reach.scope is policy.Scope.ASSIGNED:  # managers and basic users: their assigned jobs
        grants = access_store.get_grants(tenant_id, me.account_id, me.job_ids)
        job_ids = [g.job_id for g in grants]
    else:  # staff allocated to a few jobs
        job_ids = list(me.job_ids)
    wanted_prefix = job_number_key(prefix)
    jobs = sorted(job_store.get_jobs(tenant_id, job_ids), key=lambda j: job_number_key(j.job_number))
    sponsor = _sponsor_on_jobs(caller, job_ids)
    roles = access_store.get_roles(tenant_id, me.user_id, job_ids)  # a trade's or vendor's users see jobs by role
    visible = [j for j in jobs if job_number_key(j.job_number).startswith(wanted_prefix)
               and wanted in (None, j.status) and _sees(caller, j, grants, sponsor, roles.get(j.job_id))]
    if reach.scope is not policy.Scope.ACCOUNT:  # a short list of its own: page it by job number
        after = core.decode_position(cursor)
        visible = [j for j in visible if job_number_key(j.job_number) > after]
        more = len(visible) > limit
        visible = visible[:limit]
        next_cursor = core.encode_cursor({"after": job_number_key(visible[-1].job_number)}) if more else None
    return JobPage(items=[_out(caller, j) for j in visible], next_cursor=next_cursor)


def _sponsor_on_jobs(caller: Caller, job_ids: list[str]) -> tuple[Account | None, list[JobGrant]]:
    """A guest contractor's sponsor and the sponsor's entries on these jobs (guest users only)."""
    account = caller.account
    if account.kind != AccountKind.GUEST_CONTRACTOR.value or account.sponsor_account_id is None or not job_ids:
        return None, []
    sponsors = account_store.get_accounts(account.tenant_id, [account.sponsor_account_id])
    return (sponsors[0] if sponsors else None), access_store.get_grants(account.tenant_id, account.sponsor_account_id, job_ids)


def _sees(caller: Caller, job: Job, grants: Iterable[JobGrant],
          sponsor: tuple[Account | None, list[JobGrant]], role: ProjectRole | None) -> bool:
    grant = next((g for g in grants if g.job_id == job.job_id), None)
    sponsor_account, sponsor_grants = sponsor
    sponsor_grant = next((g for g in sponsor_grants if g.job_id == job.job_id), None)
    facts = JobFacts(job.job_id, grant, project_role=role.role if role else None, sponsor=sponsor_account,
                     sponsor_grant=sponsor_grant)
    return bool(policy.decide(caller, "job.view", job=facts))


def update_job(caller: Caller, ctx: JobContext, request: JobUpdate) -> JobOut:
    require_on_job(caller, "job.edit", ctx)
    job = writable(ctx.job)
    changes = request.model_dump(exclude_unset=True)
    if {"cost_price", "charge_price"} & set(changes):
        policy.require(policy.decide_on_prices(caller))
    if not changes:
        return _out(caller, job)
    new = job.changed(**changes, version=job.version + 1)
    creates, removes = [audit.change("job.update", job, new)], []
    connected = None
    if new.customer_code != job.customer_code:  # the customer connection follows the code
        old_customer = customer_codes.customer_of(job.tenant_id, job.customer_code)
        if old_customer is not None:
            old = access_store.get_grant(job.tenant_id, job.job_id, old_customer)
            if old is not None and old.source == customer_codes.SOURCE:
                removes.append(core.Remove(old))
                creates.append(audit.change("access.revoke", old, None))
        new_customer = customer_codes.customer_account(job.tenant_id, new.customer_code)
        if new_customer is not None and access_store.get_grant(job.tenant_id, job.job_id, new_customer.account_id) is None:
            connected = customer_codes.connection(new, new_customer, clock.now_iso())
            creates += connected.creates()
    core.write(creates=creates, replaces=[core.Replace(new)], removes=removes)
    if connected is not None:
        events.publish([connected.event])
    return _out(caller, new)


def archive_job(caller: Caller, ctx: JobContext) -> JobOut:
    """Archive the job, cancel its pending deliveries (each with its event) and decline its open
    requests in the same operation, so nothing stays pending on a job that takes no more writes. The job
    and the first cancellations are one transaction; more than fit in it go in further ones, and
    archiving it again (safe to repeat) finishes what a failure left."""
    require_on_job(caller, "job.archive", ctx)
    job = ctx.job
    for attempt in range(ARCHIVE_ATTEMPTS):
        try:
            return _out(caller, _archive(job, caller.user.user_id))
        except Conflict:  # a delivery (or the job) changed meanwhile: read again and try again
            if attempt == ARCHIVE_ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
            found = job_store.get_jobs(job.tenant_id, [job.job_id])
            if not found:  # deleted meanwhile
                raise NotFound(f"job {job.job_id} not found") from None
            job = found[0]
    raise AssertionError("the last attempt returns or raises")


ARCHIVE_ATTEMPTS = 5  # archiving while deliveries are approved and booked: each lost race reads again


def _archive(job: Job, by: str) -> Job:
    from sitegate import deliveries, job_requests  # both build on this module

    new = job if job.status == JobStatus.ARCHIVED.value else job.changed(status=JobStatus.ARCHIVED.value,
                                                                          version=job.version + 1)
    cancelled = deliveries.cancelled_with_job(new, by)
    first = [] if new is job else [core.Replace(new)]
    first_entry = [] if new is job else [audit.change("job.archive", job, new)]
    per_write = (core.TRANSACTION_ITEMS - 2) // 3  # each cancellation: the delivery, its event, its audit entry
    for start in range(0, max(len(cancelled), 1 if first else 0), per_write):
        chunk = cancelled[start:start + per_write]
        core.write(creates=[*(first_entry if start == 0 else []),
                            *(c for _, event, entry in chunk for c in (events.outbox_entry(event), entry))],
                   replaces=[*(first if start == 0 else []), *(replace for replace, _, _ in chunk)])
        events.publish([event for _, event, _ in chunk])
    core.write_in_chunks(job_requests.declined_with_job(new, by))
    return new


def delete_job(caller: Caller, ctx: JobContext) -> None:
    """Delete the job, its number and its access list (so no account reaches it any more), and take
    its id out of the `job_ids` of the users who carry it: the owner account's staff and the users
    of the accounts on its access list (each account's users by Query)."""
    require_on_job(caller, "job.delete", ctx)
    job = ctx.job
    tenant = tenant_store.get_tenant(job.tenant_id)
    account_ids = {g.account_id for g in access_store.job_access_list(job)}
    if tenant is not None:
        account_ids.add(tenant.owner_account_id)
    carriers = [u for account_id in sorted(account_ids) for u in user_store.users_of_account(job.tenant_id, account_id)
                if job.job_id in u.job_ids]
    job_store.delete_job(job, [(u, _without_job(u, job.job_id)) for u in carriers], _removed_with_job)


# What each object that goes with a deleted job is recorded as (a user only loses the job's id).
_REMOVED_WITH_JOB = {"Job": "job.delete", "JobGrant": "access.revoke", "ProjectRole": "role.remove",
                     "Delivery": "delivery.remove", "JobRequest": "job_request.remove", "User": "user.update"}


def _removed_with_job(before: Any, after: Any) -> core.Create:
    return audit.change(_REMOVED_WITH_JOB[type(before).__name__], before, after)


def _without_job(user: User, job_id: str) -> User:
    return user.changed(job_ids=[j for j in user.job_ids if j != job_id], version=user.version + 1,
                        updated_at=clock.now_iso())
