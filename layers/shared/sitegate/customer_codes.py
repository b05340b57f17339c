"""Customer codes (e-ticketing auto-connect): a job carrying a customer's code connects that customer,
in both directions: a new job finds its customer, and a code added to a customer
connects its existing jobs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from sitegate import clock
from sitegate.data import store
from sitegate.errors import Conflict
from sitegate.models.stored import Account, AccountKind, Job, JobGrant, JobStatus

SYSTEM = "system"  # granted_by of customer-code connections
SOURCE = "customer_code"  # source of customer-code connections (manual entries say "manual")


def _create_skipping_existing(creates: list[store.Create]) -> None:
    """Write entries in one transaction; when some already exist (someone connected the job
    meanwhile), write the others one by one and leave the existing ones as they are."""
    try:
        store.write(creates=creates)
    except Conflict:
        for create in creates:
            with contextlib.suppress(Conflict):
                store.write(creates=[create])


def customer_grant(job: Job, account_id: str, at: str) -> JobGrant:
    return JobGrant(tenant_id=job.tenant_id, job_id=job.job_id, job_number=job.job_number, account_id=account_id,
                    account_kind=AccountKind.CUSTOMER, source=SOURCE, granted_by=SYSTEM, granted_at=at)


def customer_of(tenant_id: str, code: str | None) -> str | None:
    """The customer account carrying this code, if any."""
    return store.customer_with_code(tenant_id, code) if code else None


def _writable_jobs(tenant_id: str, code: str) -> list[Job]:
    """The active jobs carrying a code: an archived job takes no writes, its access list included."""
    return [j for j in store.customer_jobs(tenant_id, code) if j.status == JobStatus.ACTIVE.value]


def connect_customer_codes(account: Account, added: Iterable[str], dropped: Iterable[str]) -> None:
    """A code added to a customer connects its existing jobs; a dropped code disconnects
    the connections it made (manual entries stay).

    Safe to run again and alongside other writers: jobs already connected (by hand, by a
    concurrent connection, or by an earlier run that failed part-way) are skipped, so a
    retry completes the connection instead of failing on what the first run made."""
    now = clock.now_iso()
    tenant_id = account.tenant_id
    for code in added:
        jobs = _writable_jobs(tenant_id, code)
        existing = {g.job_id for g in store.get_grants(tenant_id, account.account_id, [j.job_id for j in jobs])}
        creates = [store.Create(store.grant_item(customer_grant(j, account.account_id, now)), "already connected")
                   for j in jobs if j.job_id not in existing]
        for start in range(0, len(creates), store.TRANSACTION_ITEMS):
            _create_skipping_existing(creates[start:start + store.TRANSACTION_ITEMS])
    for code in dropped:
        jobs = _writable_jobs(tenant_id, code)
        grants = store.get_grants(tenant_id, account.account_id, [j.job_id for j in jobs])
        store.remove_grants([g for g in grants if g.source == SOURCE])
