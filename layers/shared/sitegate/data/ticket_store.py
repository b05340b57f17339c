"""E-tickets of a job, and the job's time and equipment records."""

from __future__ import annotations

from sitegate import keys
from sitegate.data import core
from sitegate.models.stored import Job, JobRecord, Ticket


def get_ticket(job: Job, ticket_id: str) -> Ticket | None:
    """One ticket of a job: table key `T#t#JOB#j` / `TICKET#k`."""
    return core.get_item(Ticket, keys.ticket(job.tenant_id, job.job_id, ticket_id))


def job_tickets_page(job: Job, limit: int, cursor: str | None) -> core.Page[Ticket]:
    """One page of a job's tickets: table partition `T#t#JOB#j`, sort prefix `TICKET#`."""
    return core.query_page(Ticket, keys.job_partition(job.tenant_id, job.job_id), sort_prefix=keys.TICKET_PREFIX,
                           limit=limit, cursor=cursor)


def en_route_tickets(job: Job) -> list[Ticket]:
    """A job's en-route tickets, soonest arrival first (truck ETAs): the sparse GSI2 `T#t#JOB#j#ENROUTE`,
    which holds a ticket only while it is en route, so the read grows with the trucks on the road,
    not with the job's history."""
    return core.query_all(Ticket, keys.en_route_tickets(job.tenant_id, job.job_id), index="GSI2")


def job_records_page(job: Job, limit: int, cursor: str | None) -> core.Page[JobRecord]:
    """One page of a job's records, by date: table partition `T#t#JOB#j`, sort prefix `RECORD#`."""
    return core.query_page(JobRecord, keys.job_partition(job.tenant_id, job.job_id), sort_prefix=keys.RECORD_PREFIX,
                           limit=limit, cursor=cursor)
