"""Deliveries and what they book: a job's locations and equipment, their name markers, and the
day items that hold each resource's booked intervals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from boto3.dynamodb.conditions import Attr

from sitegate import keys
from sitegate.data import core
from sitegate.models.stored import (
    AccessEnded,
    Account,
    BookingDay,
    Delivery,
    DeliveryStatus,
    Equipment,
    Job,
    JobGrant,
    Location,
    Tenant,
)

Day = tuple[str, str, str]  # (resource kind, resource id, UTC day)


def job_locations_page(job: Job, limit: int, cursor: str | None) -> core.Page[Location]:
    """A job's locations: table partition `T#t#JOB#j`, sort prefix `LOCATION#`."""
    return core.query_page(Location, keys.job_partition(job.tenant_id, job.job_id), sort_prefix=keys.LOCATION_PREFIX,
                           limit=limit, cursor=cursor)


def job_locations(tenant_id: str, job_id: str) -> list[Location]:
    """Every location of a job (the portal's gates): table partition `T#t#JOB#j`, sort prefix `LOCATION#`."""
    return core.query_all(Location, keys.job_partition(tenant_id, job_id), keys.LOCATION_PREFIX)


def job_equipment_page(job: Job, limit: int, cursor: str | None) -> core.Page[Equipment]:
    """A job's shared equipment: table partition `T#t#JOB#j`, sort prefix `EQUIPMENT#`."""
    return core.query_page(Equipment, keys.job_partition(job.tenant_id, job.job_id),
                           sort_prefix=keys.EQUIPMENT_PREFIX, limit=limit, cursor=cursor)


@dataclass(frozen=True)
class BookingRead:
    """What booking a delivery reads, in one BatchGetItem: the tenant (its time zone), the company
    booked for and its entry on the job, the location, the equipment, the vendor named (its entry,
    and whether an entry of it was removed), and the day items of every resource for the days the
    window touches."""

    tenant: Tenant | None
    company: Account | None
    company_grant: JobGrant | None
    location: Location | None
    equipment: dict[str, Equipment]
    vendor: Account | None
    vendor_grant: JobGrant | None
    vendor_ended: AccessEnded | None
    days: dict[Day, BookingDay | None]  # (resource, id, day) -> its item, None if new


def read_booking(job: Job, for_account_id: str | None, location_id: str, equipment_ids: Sequence[str],
                 vendor_account_id: str | None, days: Sequence[Day]) -> BookingRead:
    """`for_account_id` None: booked for the GC, whose account the caller's read already holds."""
    t, j = job.tenant_id, job.job_id
    tenant_key, location_key = keys.tenant(t), keys.location(t, j, location_id)
    company_keys = [keys.account(t, for_account_id), keys.job_grant(t, j, for_account_id)] if for_account_id else []
    equipment_keys = {e: keys.equipment(t, j, e) for e in equipment_ids}
    vendor_keys = [keys.account(t, vendor_account_id), keys.job_grant(t, j, vendor_account_id),
                   keys.access_ended(t, j, vendor_account_id)] if vendor_account_id else []
    day_keys = {d: keys.booking_day(t, j, *d) for d in days}
    found = core.batch_get([tenant_key, *company_keys, location_key, *equipment_keys.values(), *vendor_keys,
                            *day_keys.values()])
    pick = core.pick
    equipment = {e: piece for e, key in equipment_keys.items() if (piece := pick(Equipment, found, key)) is not None}
    return BookingRead(
        tenant=pick(Tenant, found, tenant_key),
        company=pick(Account, found, company_keys[0]) if company_keys else None,
        company_grant=pick(JobGrant, found, company_keys[1]) if company_keys else None,
        location=pick(Location, found, location_key),
        equipment=equipment, vendor=pick(Account, found, vendor_keys[0]) if vendor_keys else None,
        vendor_grant=pick(JobGrant, found, vendor_keys[1]) if vendor_keys else None,
        vendor_ended=pick(AccessEnded, found, vendor_keys[2]) if vendor_keys else None,
        days={d: pick(BookingDay, found, key) for d, key in day_keys.items()})


def read_days(job: Job, days: Sequence[Day]) -> dict[Day, BookingDay | None]:
    """Day items of a delivery's resources (to release its slot), in one BatchGetItem."""
    day_keys = {d: keys.booking_day(job.tenant_id, job.job_id, *d) for d in days}
    found = core.batch_get(list(day_keys.values()))
    return {d: core.pick(BookingDay, found, key) for d, key in day_keys.items()}


def booking_day_write(job: Job, day: Day, read: BookingDay | None,
                      intervals: list[tuple[int, int, str]]) -> core.Create | core.Replace:
    """The new state of one day item: created if it was not there when read, else replaced under the
    version read. Either fails if another booking wrote it meanwhile."""
    resource, resource_id, date = day
    new = BookingDay(tenant_id=job.tenant_id, job_id=job.job_id, resource=resource, resource_id=resource_id, day=date,
                     intervals=intervals, version=(read.version + 1) if read else 0)
    if read is None:
        return core.Create(new, "booked by someone else meanwhile")
    return core.Replace(new, "booked by someone else meanwhile")


def get_delivery_and_tenant(job: Job, delivery_id: str) -> tuple[Delivery | None, Tenant | None]:
    """One delivery and its tenant (time zone), in one BatchGetItem: `T#t#JOB#j`/`DELIVERY#d`, `T#t#TENANT`/`TENANT`."""
    delivery_key, tenant_key = keys.delivery(job.tenant_id, job.job_id, delivery_id), keys.tenant(job.tenant_id)
    found = core.batch_get([delivery_key, tenant_key])
    return core.pick(Delivery, found, delivery_key), core.pick(Tenant, found, tenant_key)


def deliveries_page(job: Job, *, start_from: str | None, start_before: str | None, ends_after: str | None,
                    status: str | None, limit: int, cursor: str | None) -> core.Page[Delivery]:
    """A job's deliveries by start: GSI1 `T#t#JOB#j#DELIVERIES`, sort key between the bounds given
    (a day: starts from 24 h before it to its end, filtered on `end` after its start), filtered on status."""
    where = core.all_of(Attr("end").gt(ends_after) if ends_after is not None else None,
                        Attr("status").eq(status) if status is not None else None)
    between = (start_from, start_before) if start_from is not None and start_before is not None else None
    return core.filtered_page(Delivery, keys.job_deliveries(job.tenant_id, job.job_id), index="GSI1",
                              sort_between=between, where=where, limit=limit, cursor=cursor)


def approved_deliveries_between(tenant_id: str, job_id: str, start_from: str, start_before: str,
                                ends_after: str) -> list[Delivery]:
    """Approved deliveries overlapping a day (the portal): GSI1 `T#t#JOB#j#DELIVERIES`, every page."""
    overlapping_approved = core.all_of(Attr("end").gt(ends_after), Attr("status").eq(DeliveryStatus.APPROVED.value))
    return core.query_all(Delivery, keys.job_deliveries(tenant_id, job_id), index="GSI1",
                          sort_between=(start_from, start_before), where=overlapping_approved)


def count_pending_deliveries(tenant_id: str, job_ids: Sequence[str] | None = None) -> int:
    """Pending deliveries of a tenant, or of these jobs: sparse GSI2 `T#t#PENDINGDELIVERIES` (Select=COUNT, or by job
    as `core.count_of_jobs` reads it)."""
    if job_ids is None:
        return core.count(keys.pending_deliveries(tenant_id), index="GSI2")
    return core.count_of_jobs(keys.pending_deliveries(tenant_id), "GSI2", job_ids)


def pending_deliveries_of_job(job: Job) -> list[Delivery]:
    """A job's pending deliveries as they stand: the sparse GSI2 `T#t#PENDINGDELIVERIES` (sort prefix
    `{job}#`) finds them, one consistent BatchGetItem per 100 reads them, and only those still pending count."""
    found = core.query_all(Delivery, keys.pending_deliveries(job.tenant_id), keys.by_job(job.job_id), index="GSI2")
    current = core.get_many(Delivery, [keys.delivery(d.tenant_id, d.job_id, d.delivery_id) for d in found])
    return [d for d in current if d.status == DeliveryStatus.PENDING.value]


def pending_of_job(job: Job) -> list[Delivery]:
    """A job's pending deliveries, to remove with the job so the dashboard stops counting them:
    sparse GSI2 `T#t#PENDINGDELIVERIES`, sort prefix `{job}#`."""
    return core.query_all(Delivery, keys.pending_deliveries(job.tenant_id), keys.by_job(job.job_id), index="GSI2")
