"""Customer codes (e-ticketing auto-connect): a job carrying a customer's code connects that customer,
in both directions: a new job finds its customer, and a code added to a customer
connects its existing jobs. Each connection is an access grant like any other: its
`access.granted` event is written with the entry and published after, so the customer's
administrators hear of it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

from sitegate import audit, clock
from sitegate.data import access_store, account_store, core, events, job_store
from sitegate.errors import Conflict
from sitegate.models.events import AccessGranted, DomainEvent
from sitegate.models.stored import Account, AccountKind, Job, JobGrant, JobStatus

SYSTEM = "system"  # granted_by of customer-code connections
SOURCE = "customer_code"  # source of customer-code connections (manual entries say "manual")


@dataclass(frozen=True)
class Connection:
    """A customer connected to a job: its access-list entry and the event written with it."""

    entry: core.Create
    event: DomainEvent
    audited: core.Create

    def creates(self) -> list[core.Create]:
        return [self.entry, events.outbox_entry(self.event), self.audited]


def connection(job: Job, customer: Account, at: str) -> Connection:
    grant = JobGrant(tenant_id=job.tenant_id, job_id=job.job_id, job_number=job.job_number,
                     account_id=customer.account_id, account_kind=AccountKind.CUSTOMER, source=SOURCE,
                     granted_by=SYSTEM, granted_at=at)
    event = events.new_event("access.granted", job.tenant_id, AccessGranted(
        job_id=job.job_id, job_name=job.name, account_id=customer.account_id, account_name=customer.name,
        granted_by=SYSTEM))
    return Connection(core.Create(grant, "already connected"), event, audit.change("access.grant", None, grant))


def _connect_skipping_existing(connections: list[Connection]) -> None:
    """Write connections in one transaction; when some already exist (someone connected the job
    meanwhile), write the others one by one and leave the existing ones as they are. Each one
    written is announced; one that existed already is not announced again."""
    try:
        core.write(creates=[c for connection_ in connections for c in connection_.creates()])
    except Conflict:
        for connection_ in connections:
            with contextlib.suppress(Conflict):
                core.write(creates=connection_.creates())
                events.publish([connection_.event])
        return
    events.publish([c.event for c in connections])


def customer_of(tenant_id: str, code: str | None) -> str | None:
    """The id of the customer account carrying this code, if any."""
    return account_store.customer_with_code(tenant_id, code) if code else None


def customer_account(tenant_id: str, code: str | None) -> Account | None:
    """The customer account carrying this code, if any (active or not: archived customers reach nothing anyway)."""
    customer_id = customer_of(tenant_id, code)
    return None if customer_id is None else account_store.get_account(tenant_id, customer_id)


def _writable_jobs(tenant_id: str, code: str) -> list[Job]:
    """The active jobs carrying a code: an archived job takes no writes, its access list included."""
    return [j for j in job_store.customer_jobs(tenant_id, code) if j.status == JobStatus.ACTIVE.value]


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
        existing = {g.job_id for g in access_store.get_grants(tenant_id, account.account_id, [j.job_id for j in jobs])}
        connections = [connection(j, account, now) for j in jobs if j.job_id not in existing]
        per_transaction = core.TRANSACTION_ITEMS // 3  # an entry, its event and its audit entry each
        for start in range(0, len(connections), per_transaction):
            _connect_skipping_existing(connections[start:start + per_transaction])
    for code in dropped:
        jobs = _writable_jobs(tenant_id, code)
        grants = access_store.get_grants(tenant_id, account.account_id, [j.job_id for j in jobs])
        access_store.remove_grants([(g, audit.change("access.revoke", g, None)) for g in grants if g.source == SOURCE])
