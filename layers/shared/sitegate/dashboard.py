"""The office dashboard: counters over what the caller can see."""

from __future__ import annotations

from sitegate import policy
from sitegate.data import delivery_store, job_store, request_store
from sitegate.models.responses import Dashboard
from sitegate.models.stored import JobStatus
from sitegate.policy import Caller


def dashboard(caller: Caller) -> Dashboard:
    """Office dashboard counters over what the caller can see."""
    policy.require(policy.decide(caller, "dashboard.view"))
    reach = policy.decide(caller, "job.view")
    tenant_id = caller.user.tenant_id
    if reach.scope is policy.Scope.ALL:
        active = job_store.count_active_jobs(tenant_id)
        pending, open_ = delivery_store.count_pending_deliveries(tenant_id), request_store.count_open_requests(tenant_id)
    else:
        jobs = job_store.get_jobs(tenant_id, caller.user.job_ids)
        active = sum(j.status == JobStatus.ACTIVE.value for j in jobs)
        job_ids = [j.job_id for j in jobs]
        pending = delivery_store.count_pending_deliveries(tenant_id, job_ids)
        open_ = request_store.count_open_requests(tenant_id, job_ids)
    return Dashboard(active_jobs=active, pending_deliveries=pending, open_requests=open_)
