"""Job requests (the customer portal's service requests): made by connected-account users of a job,
moved `open -> accepted -> done` (or `declined`) by staff with job.edit.

Who sees which (`policy.decide_request_list`): staff who view the job see all of its requests;
administrators and managers their own account's requests on the job; basic users their own.
"""

from __future__ import annotations

from sitegate import audit, clock, ids, policy
from sitegate.data import core, request_store
from sitegate.data.idempotency import Idempotency, create_once
from sitegate.errors import Conflict, NotFound
from sitegate.models.requests import JobRequestCreate, JobRequestUpdate
from sitegate.models.responses import JobRequestOut, JobRequestPage
from sitegate.models.stored import Job, JobRequest, JobRequestStatus
from sitegate.on_job import JobContext, require_on_job, writable
from sitegate.policy import Caller, Scope

# The moves staff make: open -> accepted -> done, or declined before it is done.
TRANSITIONS = {("open", "accepted"), ("accepted", "done"), ("open", "declined"), ("accepted", "declined")}
MOVES = {"accepted": "job_request.accept", "done": "job_request.complete", "declined": "job_request.decline"}


def create_request(caller: Caller, ctx: JobContext, request: JobRequestCreate,
                   idempotency: Idempotency | None) -> JobRequestOut:
    require_on_job(caller, "request.create", ctx)
    job = writable(ctx.job)
    now = clock.now_iso()
    made = JobRequest(tenant_id=job.tenant_id, job_id=job.job_id, request_id=ids.new_id(),
                      account_id=caller.account.account_id, requested_by=caller.user.user_id, title=request.title,
                      description=request.description, created_at=now, updated_at=now)
    out = JobRequestOut.of(made)
    create_once([core.Create(made, "request already exists"), audit.change("job_request.create", None, made)],
                out, idempotency)
    return out


def list_requests(caller: Caller, ctx: JobContext, limit: int, cursor: str | None) -> JobRequestPage:
    reach = policy.require(policy.decide_request_list(caller, ctx.facts))
    account = None if reach.scope is Scope.ALL else caller.account.account_id
    own = caller.user.user_id if reach.scope is Scope.SELF else None
    page = request_store.job_requests_page(ctx.job, account, own, limit, cursor)
    return JobRequestPage(items=[JobRequestOut.of(r) for r in page.items], next_cursor=page.next_cursor)


def update_request(caller: Caller, ctx: JobContext, request_id: str, change: JobRequestUpdate) -> JobRequestOut:
    policy.require(policy.decide_on_request(caller, ctx.facts))
    job = writable(ctx.job)
    found = request_store.get_job_request(job, request_id)
    if found is None:
        raise NotFound(f"request {request_id} not found")
    if (found.status, change.status) not in TRANSITIONS:
        raise Conflict(f"a request that is {found.status} cannot become {change.status}")
    new = found.changed(status=change.status, updated_at=clock.now_iso(), updated_by=caller.user.user_id,
                        version=found.version + 1)
    core.write(creates=[audit.change(MOVES[change.status], found, new)],
               replaces=[core.Replace(new, "request changed meanwhile")])
    return JobRequestOut.of(new)


def declined_with_job(job: Job, by: str) -> list[core.Change]:
    """Archiving a job declines its open requests (nobody can move them on an archived job, and the
    dashboard would count them forever); accepted ones keep their state as a record of the work.
    Each is the request's rewrite and its audit entry."""
    now = clock.now_iso()
    changes: list[core.Change] = []
    for r in request_store.open_requests_of_job(job):
        new = r.changed(status=JobRequestStatus.DECLINED.value, updated_at=now, updated_by=by, version=r.version + 1)
        changes.append([core.Replace(new, "request changed meanwhile"), audit.change("job_request.decline", r, new)])
    return changes
