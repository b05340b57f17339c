"""The project directory of a job: the people who can reach the job, their
companies and their roles. Email and phone are shown only to GC leads and staff with
job.edit on the job (`policy.decide_contacts`); for everyone else they are null."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sitegate import audit, clock, policy
from sitegate.data import access_store, account_store, tenant_store, user_store
from sitegate.errors import NotFound, invalid
from sitegate.models.responses import Member, MemberList
from sitegate.models.stored import Account, AccountKind, Job, ProjectRole, User
from sitegate.on_job import JobContext, require_on_job, writable
from sitegate.policy import Caller, JobFacts

COMPANY_TYPE = {AccountKind.OWNER.value: "gc", AccountKind.TRADE_CONTRACTOR.value: "trade",
                AccountKind.VENDOR.value: "vendor"}
NOT_ON_JOBSITE = "not_on_jobsite"


@dataclass(frozen=True)
class Person:
    """Someone who can reach the job, with what the policy knows of them on it (their role included)."""

    account: Account
    user: User
    facts: JobFacts


def people_on_job(job: Job, roles: dict[str, str] | None = None, granted_before: datetime | None = None) -> list[Person]:
    """Everyone who can reach the job (the owner account's staff first, then companies by name):
    staff who can view it, users of accounts with a live entry narrowed by account level, guests
    while their sponsor's entry is live. The policy decides each one (as of `policy.at`'s instant).
    Reads: the access list, its accounts, each of those accounts' active users; not the tenant's.
    `granted_before` leaves out entries granted after that instant (an access report of a past instant)."""
    tenant = tenant_store.get_tenant(job.tenant_id)
    assert tenant is not None
    owner_id = tenant.owner_account_id
    grants = {g.account_id: g for g in access_store.job_access_list(job)
              if granted_before is None or datetime.fromisoformat(g.granted_at) <= granted_before}
    sponsor_ids = {g.sponsor_account_id for g in grants.values() if g.sponsor_account_id}
    accounts = {a.account_id: a for a in account_store.get_accounts(job.tenant_id, [owner_id, *grants, *sponsor_ids])}
    listed = sorted((a for a in accounts.values() if a.account_id == owner_id or a.account_id in grants),
                    key=lambda a: (a.account_id != owner_id, a.name.lower()))
    roles = roles or {}
    people = []
    for account in listed:
        grant = grants.get(account.account_id)
        sponsor_id = policy.guest_sponsor_id(account, grant)
        facts = JobFacts(job.job_id, grant, sponsor=accounts.get(sponsor_id or ""),
                         sponsor_grant=grants.get(sponsor_id or ""))
        for user in user_store.active_users_of_account(job.tenant_id, account.account_id):
            person = Person(account, user, replace(facts, project_role=roles.get(user.user_id)))
            if policy.decide_directory_member(Caller(user, account), person.facts):
                people.append(person)
    return people


def _reaches(job: Job, user: User, account: Account) -> bool:
    """Does this one person reach the job? The directory's rule, read for one person only:
    its account's entry (and a guest's sponsor), not the whole directory."""
    grant = access_store.get_grant(job.tenant_id, job.job_id, account.account_id)
    sponsor_id = policy.guest_sponsor_id(account, grant)
    sponsor, sponsor_grant = (access_store.get_sponsor_on_job(job.tenant_id, sponsor_id, job.job_id) if sponsor_id
                              else (None, None))
    facts = JobFacts(job.job_id, grant, sponsor=sponsor, sponsor_grant=sponsor_grant)
    return bool(policy.decide_directory_member(Caller(user, account), facts))


def _member(account: Account, user: User, role: str, contacts: bool) -> Member:
    return Member(user_id=user.user_id, name=user.name, email=user.email if contacts else None,
                  phone=user.phone if contacts else None, account_id=account.account_id,
                  company_type=COMPANY_TYPE.get(account.kind, "other"), role=role)


def members(caller: Caller, ctx: JobContext) -> MemberList:
    """Everyone who can reach the job; people without a role are `not_on_jobsite`."""
    require_on_job(caller, "project.view", ctx)
    roles = {r.user_id: r.role for r in access_store.job_roles(ctx.job.tenant_id, ctx.job.job_id)}
    contacts = bool(policy.decide_contacts(caller, ctx.facts))
    return MemberList(items=[_member(p.account, p.user, roles.get(p.user.user_id, NOT_ON_JOBSITE), contacts)
                             for p in people_on_job(ctx.job)])


def set_role(caller: Caller, ctx: JobContext, user_id: str, role: str) -> Member:
    """Promote or demote a person who can reach the job, without re-entering their details.
    Anyone else is 422 (to role setters; others learn nothing of who is on the directory)."""
    job = ctx.job
    target: User | None
    account: Account | None
    if user_id == caller.user.user_id:  # oneself: already read with the request
        target, account = caller.user, caller.account
        reaches = bool(policy.decide_directory_member(caller, ctx.facts))
    else:
        target, account = user_store.get_user_and_account(job.tenant_id, user_id)
        reaches = target is not None and account is not None and _reaches(job, target, account)
    if target is None or account is None or not reaches:
        policy.require(policy.decide_role_setter(caller, ctx.facts))
        if target is None:  # names nobody of this tenant
            raise NotFound(f"user {user_id} not found")
        raise invalid("user_id", f"user {user_id} cannot reach this job, so cannot have a role on it")
    policy.require(policy.decide_on_role(caller, ctx.facts, target))
    writable(job)
    before = (ctx.own_role if user_id == caller.user.user_id  # the audit entry's `before`
              else access_store.get_role(job.tenant_id, job.job_id, user_id))
    if role == NOT_ON_JOBSITE:
        if before is not None:
            access_store.remove_role(before, audit.change("role.remove", before, None, about_account_id=account.account_id))
    elif before is None or before.role != role:
        new = ProjectRole(tenant_id=job.tenant_id, job_id=job.job_id, user_id=user_id, role=role,
                          set_by=caller.user.user_id, set_at=clock.now_iso())
        access_store.put_role(new, audit.change("role.set", before, new, about_account_id=account.account_id))
    return _member(account, target, role, bool(policy.decide_contacts(caller, ctx.facts)))
