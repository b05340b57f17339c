"""The project directory of a job (seed 003): companies on the job and their people's roles."""

from __future__ import annotations

from sitegate import clock, keys, policy
from sitegate.access import users_on_job
from sitegate.data import store
from sitegate.errors import NotFound
from sitegate.jobs import job_context, require_on_job
from sitegate.models.responses import Member, MemberList
from sitegate.models.stored import AccountKind, ProjectRole
from sitegate.policy import Caller

COMPANY_TYPE = {AccountKind.OWNER.value: "gc", AccountKind.TRADE_CONTRACTOR.value: "trade",
                AccountKind.VENDOR.value: "vendor"}
NOT_ON_JOBSITE = "not_on_jobsite"


def _owner_account_id(caller: Caller) -> str:
    tenant = store.get_tenant(caller.user.tenant_id)
    assert tenant is not None
    return tenant.owner_account_id


def members(caller: Caller, job_id: str) -> MemberList:
    """Everyone of every company on the job; people without a role are `not_on_jobsite`."""
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "project.view", facts)
    roles = {r.user_id: r.role for r in store.query_all(ProjectRole, keys.job_partition(job.tenant_id, job.job_id), "ROLE#")}
    items = [Member(user_id=u.user_id, name=u.name, email=u.email, phone=u.phone, account_id=a.account_id,
                    company_type=COMPANY_TYPE.get(a.kind, "other"), role=roles.get(u.user_id, NOT_ON_JOBSITE))
             for a, people in users_on_job(job, _owner_account_id(caller)) for u in people]
    return MemberList(items=items)


def set_role(caller: Caller, job_id: str, user_id: str, role: str) -> Member:
    """Promote or demote a person of a company on the job, without re-entering their details."""
    job, facts = job_context(caller, job_id)
    found = [(a, u) for a, people in users_on_job(job, _owner_account_id(caller)) for u in people if u.user_id == user_id]
    if not found:
        raise NotFound(f"user {user_id} is not on this job's directory")
    account, target = found[0]
    policy.require(policy.decide_on_role(caller, facts, target))
    key = keys.project_role(job.tenant_id, job.job_id, user_id)
    if role == NOT_ON_JOBSITE:
        store.write(removes=[store.Remove(key)])
    else:
        store.put(store.role_item(ProjectRole(tenant_id=job.tenant_id, job_id=job.job_id, user_id=user_id, role=role,
                                              set_by=caller.user.user_id, set_at=clock.now_iso())))
    return Member(user_id=target.user_id, name=target.name, email=target.email, phone=target.phone,
                  account_id=account.account_id, company_type=COMPANY_TYPE.get(account.kind, "other"), role=role)
