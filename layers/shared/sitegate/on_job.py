"""A request on a job: the job the caller reaches, and what the policy knows of the caller on it.

A request against a job is authorized from one read (`sitegate.http.current_caller_on_job`):
the caller, the job, the caller's account's entry on its access list and the caller's
project role. `job_context` turns that read into a `JobContext`, or 404 when the caller does
not reach the job at all (is not in its directory); every job-scoped function takes that
context instead of reading again, and asks the policy for its own action.

Apart from `sitegate.jobs` (the jobs themselves) so that every function's HTTP glue can import it
without the jobs' own requests, responses and writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sitegate import policy
from sitegate.data import access_store
from sitegate.errors import Conflict, NotFound
from sitegate.models.stored import Job, JobGrant, JobStatus, ProjectRole
from sitegate.policy import Caller, JobFacts


@dataclass(frozen=True)
class JobContext:
    """A job the caller may see, with what the policy knows about the caller on it."""

    job: Job
    facts: JobFacts
    own_role: ProjectRole | None = None  # the caller's role item, as read with the request


def job_context(caller: Caller, job: Job | None, grant: JobGrant | None, role: ProjectRole | None,
                job_id: str) -> JobContext:
    """The job and what the policy needs to know about it, or 404 if the caller may not see it.

    A guest contractor's users also need their sponsor's entry on the job and the sponsor's
    standing: that is a second read, for guest users only (its key is known only once the
    caller's account or entry has been read)."""
    if job is None:
        raise NotFound(f"job {job_id} not found")
    sponsor, sponsor_grant = None, None
    sponsor_id = policy.guest_sponsor_id(caller.account, grant) if grant is not None else None  # no entry: no reach
    if sponsor_id is not None:
        sponsor, sponsor_grant = access_store.get_sponsor_on_job(job.tenant_id, sponsor_id, job.job_id)
    facts = JobFacts(job_id=job.job_id, grant=grant, project_role=role.role if role else None, sponsor=sponsor,
                     sponsor_grant=sponsor_grant)
    if not policy.decide(caller, "job.reach", job=facts):  # in its directory at least; each route decides the rest
        raise NotFound(f"job {job_id} not found")
    return JobContext(job, facts, role)


def require_on_job(caller: Caller, action: str, ctx: JobContext) -> policy.Decision:
    return policy.require(policy.decide(caller, action, job=ctx.facts))


def writable(job: Job) -> Job:
    """The one archived-job guard: an archived job takes no writes at all (409); it stays readable."""
    if job.status != JobStatus.ACTIVE.value:
        raise Conflict(f"job {job.job_number} is archived")
    return job
