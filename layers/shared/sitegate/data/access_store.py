"""Who is on a job: its access list (grants), the markers of removed entries, project roles,
and the one read that authorizes a caller on a job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sitegate import keys
from sitegate.data import core, tenant_store, user_store
from sitegate.errors import NotFound
from sitegate.models.stored import AccessEnded, Account, Job, JobGrant, ProjectRole, User


@dataclass(frozen=True)
class CallerOnJob:
    """What authorizing a job request reads: the caller's user and account, the job, the
    account's entry on its access list and the user's project role on it."""

    user: User | None
    account: Account | None
    job: Job | None
    grant: JobGrant | None
    role: ProjectRole | None
    retention: Any = None  # the tenant's audit_retention_days setting, as stored


def get_caller_on_job(tenant_id: str, user_id: str, account_id: str, job_id: str) -> CallerOnJob:
    """Caller on a job, in ONE BatchGetItem: table keys `T#t#USER#u`/`USER`, `T#t#ACCOUNT#a`/`ACCOUNT`,
    `T#t#JOB#j`/`JOB`, `T#t#JOB#j`/`ACCESS#a`, `T#t#JOB#j`/`ROLE#u`, and the tenant's
    audit_retention_days setting `T#t#SETTINGS`/`SETTING#audit_retention_days`. A job id we never make reads no job."""
    user_key, account_key = keys.user(tenant_id, user_id), keys.account(tenant_id, account_id)
    retention_key = keys.setting(tenant_id, user_store.RETENTION_SETTING)
    try:
        job_keys = [keys.job(tenant_id, job_id), keys.job_grant(tenant_id, job_id, account_id),
                    keys.project_role(tenant_id, job_id, user_id)]
    except NotFound:  # names nothing: the caller is still checked first
        job_keys = []
    found = core.batch_get([user_key, account_key, retention_key, *job_keys])
    retention = tenant_store.setting_of(found.get((retention_key["PK"], retention_key["SK"])))
    user, account = core.pick(User, found, user_key), core.pick(Account, found, account_key)
    value = None if retention is None else retention.value
    if not job_keys:
        return CallerOnJob(user, account, None, None, None, value)
    job_key, grant_key, role_key = job_keys
    return CallerOnJob(user, account, core.pick(Job, found, job_key), core.pick(JobGrant, found, grant_key),
                       core.pick(ProjectRole, found, role_key), value)


def get_sponsor_on_job(tenant_id: str, sponsor_account_id: str, job_id: str) -> tuple[Account | None, JobGrant | None]:
    """A guest's sponsor and its entry on the job, in one BatchGetItem: table keys `T#t#ACCOUNT#s`/`ACCOUNT`
    and `T#t#JOB#j`/`ACCESS#s`."""
    account_key = keys.account(tenant_id, sponsor_account_id)
    grant_key = keys.job_grant(tenant_id, job_id, sponsor_account_id)
    found = core.batch_get([account_key, grant_key])
    return core.pick(Account, found, account_key), core.pick(JobGrant, found, grant_key)


def accounts_on_job(tenant_id: str, job_id: str,
                    account_ids: Sequence[str]) -> tuple[dict[str, Account], dict[str, JobGrant]]:
    """Accounts and their entries on a job's access list, in one BatchGetItem (of 100 keys): table keys
    `T#t#ACCOUNT#a` / `ACCOUNT` and `T#t#JOB#j` / `ACCESS#a`."""
    wanted = list(dict.fromkeys(account_ids))
    found = core.batch_get([k for a in wanted
                            for k in (keys.account(tenant_id, a), keys.job_grant(tenant_id, job_id, a))])
    accounts = {a: core.pick(Account, found, keys.account(tenant_id, a)) for a in wanted}
    grants = {a: core.pick(JobGrant, found, keys.job_grant(tenant_id, job_id, a)) for a in wanted}
    return ({a: v for a, v in accounts.items() if v is not None}, {a: v for a, v in grants.items() if v is not None})


# ------------------------------------------------------------------ the access list
def get_grant(tenant_id: str, job_id: str, account_id: str) -> JobGrant | None:
    """One account's entry on a job's access list: table key `T#t#JOB#j` / `ACCESS#a`."""
    return core.get_item(JobGrant, keys.job_grant(tenant_id, job_id, account_id))


def get_grants(tenant_id: str, account_id: str, job_ids: Sequence[str]) -> list[JobGrant]:
    """One account's entries on these jobs, in BatchGetItem calls of 100."""
    return core.get_many(JobGrant, [keys.job_grant(tenant_id, j, account_id) for j in dict.fromkeys(job_ids)])


def job_access_list(job: Job) -> list[JobGrant]:
    """A job's access list: table partition `T#t#JOB#j`, sort prefix `ACCESS#`."""
    return core.query_all(JobGrant, keys.job_partition(job.tenant_id, job.job_id), keys.ACCESS_PREFIX)


def account_job_grants(tenant_id: str, account_id: str, prefix: str, limit: int,
                       cursor: str | None) -> core.Page[JobGrant]:
    """An account's entries on access lists by job-number prefix: GSI1 `T#t#ACCOUNT#a#JOBS`, sort prefix
    the normalized number."""
    return core.query_page(JobGrant, keys.account_jobs(tenant_id, account_id), index="GSI1",
                           sort_prefix=keys.job_number_key(prefix) or None, limit=limit, cursor=cursor)


def remove_grants(removals: Sequence[tuple[JobGrant, core.Create]]) -> None:
    """Remove entries from access lists, each with its audit entry, up to 100 items per transaction."""
    core.write_in_chunks([(core.Remove(grant), entry) for grant, entry in removals])


def forget_access_ended(tenant_id: str, job_id: str, account_id: str) -> core.Remove:
    """A grant by someone who may put the account on the job lifts an earlier removal."""
    return core.Remove(keys.access_ended(tenant_id, job_id, account_id))


def access_ended_on_job(job: Job) -> list[AccessEnded]:
    """The markers of a job's removed entries: table partition `T#t#JOB#j`, sort prefix `ACCESSENDED#`."""
    return core.query_all(AccessEnded, keys.job_partition(job.tenant_id, job.job_id), keys.ACCESS_ENDED_PREFIX)


# ------------------------------------------------------------------ project roles
def get_roles(tenant_id: str, user_id: str, job_ids: Sequence[str]) -> dict[str, ProjectRole]:
    """A user's project roles on these jobs, by job id, in one BatchGetItem (per 100 jobs)."""
    roles = core.get_many(ProjectRole, [keys.project_role(tenant_id, j, user_id) for j in dict.fromkeys(job_ids)])
    return {r.job_id: r for r in roles}


def job_roles(tenant_id: str, job_id: str) -> list[ProjectRole]:
    """The project roles set on a job: table partition `T#t#JOB#j`, sort prefix `ROLE#`."""
    return core.query_all(ProjectRole, keys.job_partition(tenant_id, job_id), keys.ROLE_PREFIX)


def get_role(tenant_id: str, job_id: str, user_id: str) -> ProjectRole | None:
    """A user's project role on a job: table key `T#t#JOB#j` / `ROLE#u`."""
    return core.get_item(ProjectRole, keys.project_role(tenant_id, job_id, user_id))


def put_role(role: ProjectRole, entry: core.Create) -> None:
    """Set a user's project role on a job, last write wins, with its audit entry: table key `T#t#JOB#j` / `ROLE#u`."""
    core.write(creates=[core.Upsert(role), entry])


def remove_role(role: ProjectRole, entry: core.Create) -> None:
    """Clear a user's project role on a job (`not_on_jobsite`), with its audit entry."""
    core.write(creates=[entry], removes=[core.Remove(role)])
