"""The office dashboard: counters over what the caller can see."""

from __future__ import annotations

from sitegate import policy
from sitegate.data import store
from sitegate.models.responses import Dashboard
from sitegate.models.stored import JobStatus
from sitegate.policy import Caller


def dashboard(caller: Caller) -> Dashboard:
    """Office dashboard counters over what the caller can see."""
    policy.require(policy.decide(caller, "dashboard.view"))
    reach = policy.decide(caller, "job.view")
    tenant_id = caller.user.tenant_id
    if reach.scope is policy.Scope.ALL:
        active = store.count_active_jobs(tenant_id)
    else:
        active = sum(j.status == JobStatus.ACTIVE.value for j in store.get_jobs(tenant_id, caller.user.job_ids))
    return Dashboard(active_jobs=active)
