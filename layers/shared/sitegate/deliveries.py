"""Deliveries (the PLOT side of a job): locations, shared equipment, delivery requests, their
approvals, and booking that no two clients can win at once.

Booking: a pending or approved delivery holds its location and every piece of its equipment for
its window. Each resource has one *day item* per UTC day it is booked on, holding the intervals
of the deliveries that hold it and a version. A booking reads the day items its window touches,
refuses an overlap (409), and writes the delivery with the day items in ONE transaction, each day
item conditional on the version it read (or on being absent). A concurrent booking that wrote one
of them first makes the transaction fail; the loser reads again and decides again, so of two
overlapping requests exactly one wins, while requests that do not overlap all get through.
Rejecting and cancelling take the delivery's intervals out of its day items the same way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sitegate import audit, clock, ids, policy
from sitegate.data import access_store, account_store, core, delivery_store, events, tenant_store
from sitegate.data.idempotency import Idempotency, create_once, find_idempotent_response
from sitegate.errors import Conflict, NotFound, invalid
from sitegate.models.events import APPROVALS, AccessGranted, DeliveryEvent, DomainEvent, EventKind
from sitegate.models.requests import DeliveryCreate, EquipmentCreate, LocationCreate
from sitegate.models.responses import DeliveryOut, DeliveryPage, EquipmentOut, EquipmentPage, LocationOut, LocationPage
from sitegate.models.stored import (
    HOLDING,
    Account,
    AccountKind,
    AccountStatus,
    Delivery,
    DeliveryStatus,
    Equipment,
    Job,
    JobGrant,
    Location,
    LocationKind,
    PlaceNameMarker,
    Tenant,
)
from sitegate.names import comparable
from sitegate.on_job import JobContext, require_on_job, writable
from sitegate.policy import Caller

MAX_WINDOW = timedelta(hours=24)
MARK_MINUTES = 5
ATTEMPTS = 40  # reads-and-writes of one change before giving up (409): each lost race means another booking won
LOCATION, EQUIPMENT = "LOCATION", "EQUIPMENT"
Day = tuple[str, str, str]  # (resource kind, resource id, UTC day)
# A change to a delivery: its new state, its event kind, the reason, the day items it rewrites.
Change = tuple[Delivery, EventKind, "str | None", "list[core.Create | core.Replace]"]
Decided = TypeVar("Decided", bound=policy.Decision)  # what a change's decide hands to its apply


# ------------------------------------------------------------------ times
def zone_of(tenant: Tenant | None) -> ZoneInfo:
    return ZoneInfo(tenant.timezone if tenant else "Pacific/Auckland")


def shown(utc_iso: str, zone: ZoneInfo) -> str:
    """A stored UTC time as the tenant reads it: ISO-8601 in its time zone, with the offset."""
    return datetime.fromisoformat(utc_iso).astimezone(zone).isoformat()


def utc_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def day_bounds(day: date, zone: ZoneInfo, field: str = "date") -> tuple[datetime, datetime]:
    """The instants a calendar day of the tenant's time zone starts and ends (DST days included)."""
    try:
        start = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
        start - MAX_WINDOW
    except (OverflowError, ValueError) as exc:
        raise invalid(field, "out of range") from exc
    return start, end


def parse_day(text: str | None, zone: ZoneInfo, field: str = "date") -> date:
    """A `YYYY-MM-DD` query value, or today in the tenant's time zone."""
    if text is None:
        return clock.now().astimezone(zone).date()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise invalid(field, "a date as YYYY-MM-DD") from exc


def _window(request: DeliveryCreate) -> tuple[datetime, datetime]:
    """The window in UTC: on 5-minute marks, ending after it starts, at most 24 hours long."""
    start, end = request.start.astimezone(UTC), request.end.astimezone(UTC)
    for field, value in (("start", start), ("end", end)):
        if value.minute % MARK_MINUTES or value.second or value.microsecond:
            raise invalid(field, "must be on a 5-minute mark (10:00, 10:05, ...)")
    if end <= start:
        raise invalid("end", "must be after start")
    if end - start > MAX_WINDOW:
        raise invalid("end", "a window lasts at most 24 hours")
    for field, value, step in (("start", start, -1), ("end", end, 1)):
        try:  # shown back in any time zone, a day either side: near year 1 or 9999 that overflows
            value + timedelta(days=step)
        except OverflowError as exc:
            raise invalid(field, "out of range") from exc
    return start, end


def _minutes(value: datetime) -> int:
    return int(value.timestamp()) // 60


def _days(delivery: Delivery) -> list[Day]:
    """The day items a delivery holds: its location and each piece of equipment, on every UTC day its window touches."""
    start, end = datetime.fromisoformat(delivery.start), datetime.fromisoformat(delivery.end)
    first, last = start.date(), (end - timedelta(minutes=1)).date()
    days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    resources = [(LOCATION, delivery.location_id), *((EQUIPMENT, e) for e in delivery.equipment_ids)]
    return [(kind, rid, day) for kind, rid in resources for day in days]


def _interval(delivery: Delivery) -> tuple[int, int, str]:
    return (_minutes(datetime.fromisoformat(delivery.start)), _minutes(datetime.fromisoformat(delivery.end)),
            delivery.delivery_id)


def _pause(attempt: int) -> None:
    time.sleep(random.random() * 0.01 * min(attempt + 1, 5))  # noqa: S311 - jitter, not secrecy


# ------------------------------------------------------- locations, equipment
PlaceOut = TypeVar("PlaceOut", LocationOut, EquipmentOut)
def list_locations(caller: Caller, ctx: JobContext, limit: int, cursor: str | None) -> LocationPage:
    require_on_job(caller, "project.view", ctx)
    page = delivery_store.job_locations_page(ctx.job, limit, cursor)
    return LocationPage(items=[LocationOut.of(p) for p in page.items], next_cursor=page.next_cursor)


def add_location(caller: Caller, ctx: JobContext, request: LocationCreate,
                 idempotency: Idempotency | None) -> LocationOut:
    policy.require(policy.decide_on_places(caller, ctx.facts))
    job = writable(ctx.job)
    place = Location(tenant_id=job.tenant_id, job_id=job.job_id, location_id=ids.new_id(), name=request.name,
                     kind=LocationKind(request.kind), created_by=caller.user.user_id, created_at=clock.now_iso())
    return _add_place(job, LOCATION, place, place.name, place.location_id,
                      LocationOut.of(place), idempotency)


def _add_place(job: Job, kind: str, place: Location | Equipment, name: str, place_id: str, out: PlaceOut,
               idempotency: Idempotency | None) -> PlaceOut:
    """A location or piece of equipment with the marker that keeps its name unique on the job (any case)."""
    what = "a location" if kind == LOCATION else "equipment"
    marker = PlaceNameMarker(tenant_id=job.tenant_id, job_id=job.job_id, kind=kind, name=name, place_id=place_id)
    create_once([core.Create(place, f"{what} already exists"),
                 core.Create(marker, f"{what} named {name} is already on this job"),
                 audit.change(f"{'location' if kind == LOCATION else 'equipment'}.create", None, place)],
                out, idempotency)
    return out


def list_equipment(caller: Caller, ctx: JobContext, limit: int, cursor: str | None) -> EquipmentPage:
    require_on_job(caller, "project.view", ctx)
    page = delivery_store.job_equipment_page(ctx.job, limit, cursor)
    return EquipmentPage(items=[EquipmentOut.of(p) for p in page.items], next_cursor=page.next_cursor)


def add_equipment(caller: Caller, ctx: JobContext, request: EquipmentCreate,
                  idempotency: Idempotency | None) -> EquipmentOut:
    policy.require(policy.decide_on_places(caller, ctx.facts))
    job = writable(ctx.job)
    piece = Equipment(tenant_id=job.tenant_id, job_id=job.job_id, equipment_id=ids.new_id(), name=request.name,
                      created_by=caller.user.user_id, created_at=clock.now_iso())
    return _add_place(job, EQUIPMENT, piece, piece.name, piece.equipment_id,
                      EquipmentOut.of(piece), idempotency)


# ----------------------------------------------------------------- answers
def delivery_out(delivery: Delivery, zone: ZoneInfo) -> DeliveryOut:
    data = delivery.model_dump(include=set(DeliveryOut.model_fields))
    return DeliveryOut.model_validate({**data, "start": shown(delivery.start, zone), "end": shown(delivery.end, zone)})


def _event(kind: EventKind, job: Job, delivery: Delivery, zone: ZoneInfo, *, by: str | None = None,
           reason: str | None = None) -> events.DomainEvent:
    return events.new_event(kind, job.tenant_id, DeliveryEvent(
        job_id=job.job_id, job_name=job.name, delivery_id=delivery.delivery_id, requested_by=delivery.requested_by,
        for_account_id=delivery.for_account_id, company_name=delivery.company_name,
        location_name=delivery.location_name, start=shown(delivery.start, zone), end=shown(delivery.end, zone),
        awaiting=[a for a in APPROVALS
                  if delivery.approvals.get(a) == "pending" and delivery.status == DeliveryStatus.PENDING.value],
        by=by, reason=reason))


def _facts(delivery: Delivery) -> policy.DeliveryFacts:
    return policy.DeliveryFacts(for_account_id=delivery.for_account_id, booked_for_gc="trade" not in delivery.approvals,
                                requested_by=delivery.requested_by, approvals=dict(delivery.approvals))


# ---------------------------------------------------------------- booking
def _company(caller: Caller, read: delivery_store.BookingRead, request: DeliveryCreate, booked_for_gc: bool) -> Account:
    """The company booked for: the GC (the caller's own owner account) or a trade on the job (the policy's)."""
    if booked_for_gc:
        return caller.account
    company = read.company
    if company is None or not policy.decide_trade_on_job(company, read.company_grant):
        raise invalid("for_account_id", "must be the GC (the owner account) or a trade contractor on this job")
    return company


def _vendor(caller: Caller, ctx: JobContext, read: delivery_store.BookingRead, request: DeliveryCreate, vendor_id: str | None
            ) -> tuple[str | None, list[core.Create], DomainEvent | None]:
    """The vendor named on the request, and what puts it in the job's directory. By `vendor_account_id`
    it must be a vendor on the job's access list; by `vendor_name` an unknown vendor becomes a vendor
    account (its id made from its name, so racing bookings naming it make one). The policy decides
    whether the vendor joins the directory: only one never on the job does, announced like any grant
    (`access.granted`, written with it); a removed or expired vendor is only named."""
    if vendor_id is None:
        return None, [], None
    job = ctx.job
    now = clock.now_iso()
    writes: list[core.Create] = []
    vendor, entry = read.vendor, read.vendor_grant
    by_id = request.vendor_account_id is not None
    field = "vendor_account_id" if by_id else "vendor_name"
    if vendor is None and request.vendor_name is not None:  # an unknown vendor joins the directory
        vendor = Account(tenant_id=job.tenant_id, account_id=vendor_id, kind=AccountKind.VENDOR,
                         name=request.vendor_name, created_at=now)
        writes += [core.Create(vendor, "vendor added meanwhile"), audit.change("account.create", None, vendor)]
    if vendor is None or vendor.kind != AccountKind.VENDOR.value:
        raise invalid(field, "must name a vendor account")
    if vendor.status != AccountStatus.ACTIVE.value:
        raise invalid(field, f"vendor {vendor.name} is archived")
    if by_id and entry is None:
        raise invalid(field, "must name a vendor on this job's access list (name a new vendor with vendor_name)")
    history = policy.vendor_history(entry, removed=read.vendor_ended is not None)
    if not policy.decide_vendor_entry(caller, ctx.facts, history):
        return vendor.account_id, writes, None
    grant = JobGrant(tenant_id=job.tenant_id, job_id=job.job_id, job_number=job.job_number,
                     account_id=vendor.account_id, account_kind=AccountKind.VENDOR, source="manual",
                     granted_by=caller.user.user_id, granted_at=now)
    writes += [core.Create(grant, "vendor added meanwhile"), audit.change("access.grant", None, grant)]
    event = events.new_event("access.granted", job.tenant_id, AccessGranted(
        job_id=job.job_id, job_name=job.name, account_id=vendor.account_id, account_name=vendor.name,
        granted_by=caller.user.user_id))
    return vendor.account_id, [*writes, events.outbox_entry(event)], event


def request_delivery(caller: Caller, ctx: JobContext, request: DeliveryCreate,
                     idempotency: Idempotency | None) -> DeliveryOut:
    """Book a location (and equipment) for a window on behalf of the GC or a trade: 201 pending or
    approved (a lead's own approval is given at once), 409 when the window overlaps a holding delivery."""
    booked_for_gc = policy.books_for_gc(caller, request.for_account_id)
    policy.require(policy.decide_delivery_request(caller, ctx.facts, booked_for_gc=booked_for_gc,
                                                  for_account_id=request.for_account_id))
    job = writable(ctx.job)
    start, end = _window(request)
    if len(set(request.equipment_ids)) != len(request.equipment_ids):
        raise invalid("equipment_ids", "names a piece of equipment twice")
    if request.vendor_account_id is not None and request.vendor_name is not None:
        raise invalid("vendor_name", "name a known vendor (vendor_account_id) or a new one (vendor_name), not both")
    vendor_id = request.vendor_account_id
    if request.vendor_name is not None:  # a vendor of that name, else the one a booking makes for the name
        named = account_store.vendor_by_name(job.tenant_id, request.vendor_name)
        vendor_id = named.account_id if named else ids.derived_id(job.tenant_id, "vendor", comparable(request.vendor_name))
    approvals = policy.requested_approvals(caller, ctx.facts, booked_for_gc=booked_for_gc)
    delivery_id = ids.new_id()
    for attempt in range(ATTEMPTS):
        probe = Delivery(tenant_id=job.tenant_id, job_id=job.job_id, delivery_id=delivery_id,
                         for_account_id=request.for_account_id, company_name="-", location_id=request.location_id,
                         location_name="-", equipment_ids=request.equipment_ids, start=utc_text(start), end=utc_text(end),
                         approvals=approvals, requested_by=caller.user.user_id, requested_at=clock.now_iso())
        days = _days(probe)
        read = delivery_store.read_booking(job, None if booked_for_gc else request.for_account_id, request.location_id,
                                  request.equipment_ids, vendor_id, days)
        company = _company(caller, read, request, booked_for_gc)
        if read.location is None:
            raise invalid("location_id", "no such location on this job")
        missing = [e for e in request.equipment_ids if e not in read.equipment]
        if missing:
            raise invalid("equipment_ids", f"no such equipment on this job: {', '.join(missing)}")
        vendor_id, vendor_writes, vendor_event = _vendor(caller, ctx, read, request, vendor_id)
        pending = any(state == "pending" for state in approvals.values())
        delivery = probe.changed(company_name=company.name, location_name=read.location.name, vendor_account_id=vendor_id,
                                 description=request.description,
                                 status=DeliveryStatus.PENDING.value if pending else DeliveryStatus.APPROVED.value)
        zone = zone_of(read.tenant)
        try:
            day_writes = _claim(job, read, delivery)
        except Conflict:
            _replay_if_done(idempotency)  # the slot may be held by a repeat of this very request
            raise
        out = delivery_out(delivery, zone)
        event = _event("delivery.requested", job, delivery, zone, by=caller.user.user_id)
        marker = [idempotency.create(out)] if idempotency is not None else []
        on_behalf = None if delivery.for_account_id == caller.account.account_id else delivery.for_account_id
        creates: list[core.Create | core.ReplaceExpired] = [core.Create(delivery, "delivery already exists"),
                                                            events.outbox_entry(event),
                   audit.change("delivery.request", None, delivery, on_behalf_of_account_id=on_behalf),
                   *vendor_writes, *marker, *(w for w in day_writes if isinstance(w, core.Create))]
        try:
            core.write_versioned(creates=creates, replaces=[w for w in day_writes if isinstance(w, core.Replace)])
        except core.Stale:
            _replay_if_done(idempotency)
            _pause(attempt)
            continue
        events.publish([event, *([vendor_event] if vendor_event else [])])
        return out
    raise Conflict("too many bookings at the same moment; try again")


def _replay_if_done(idempotency: Idempotency | None) -> None:
    """A repeat of an Idempotency-Key that lost the race to the first request answers what it answered."""
    if idempotency is not None and find_idempotent_response(
            idempotency.tenant_id, idempotency.scope, idempotency.key, idempotency.request_hash) is not None:
        raise core.IdempotencyReplay()


def _claim(job: Job, read: delivery_store.BookingRead, delivery: Delivery) -> list[core.Create | core.Replace]:
    """The day items with the delivery's interval added, or 409 naming what its window overlaps."""
    start, end, _ = interval = _interval(delivery)
    writes = []
    for day, item in read.days.items():
        held = item.intervals if item else []
        for other_start, other_end, _other in held:
            if other_start < end and start < other_end:  # touching windows (10:00-10:30, 10:30-11:00) do not overlap
                kind, resource_id, _ = day
                name = read.location.name if kind == LOCATION and read.location else \
                    read.equipment[resource_id].name if resource_id in read.equipment else resource_id
                what = "location" if kind == LOCATION else "equipment"
                raise Conflict(f"{what} {name} is already booked for part of this window", field=what)
        writes.append(delivery_store.booking_day_write(job, day, item, sorted([*held, interval])))
    return writes


def _release(job: Job, delivery: Delivery) -> list[core.Create | core.Replace]:
    """The delivery's day items with its interval taken out (empty day items stay, with their version)."""
    writes: list[core.Create | core.Replace] = []
    for day, item in delivery_store.read_days(job, _days(delivery)).items():
        if item is not None and any(i[2] == delivery.delivery_id for i in item.intervals):
            writes.append(delivery_store.booking_day_write(job, day, item, [i for i in item.intervals
                                                                    if i[2] != delivery.delivery_id]))
    return writes


# ------------------------------------------------------------ the lifecycle
def _read(ctx: JobContext, delivery_id: str) -> tuple[Delivery, ZoneInfo]:
    delivery, tenant = delivery_store.get_delivery_and_tenant(ctx.job, delivery_id)
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} not found")
    return delivery, zone_of(tenant)


def get_delivery(caller: Caller, ctx: JobContext, delivery_id: str) -> DeliveryOut:
    require_on_job(caller, "project.view", ctx)
    return delivery_out(*_read(ctx, delivery_id))


def list_deliveries(caller: Caller, ctx: JobContext, day: str | None, status: DeliveryStatus | None, limit: int,
                    cursor: str | None) -> DeliveryPage:
    """A job's deliveries by start; with `day`, those whose window overlaps that day of the tenant's time zone."""
    require_on_job(caller, "project.view", ctx)
    zone = zone_of(tenant_store.get_tenant(ctx.job.tenant_id))
    bounds: dict[str, str | None] = {"start_from": None, "start_before": None, "ends_after": None}
    if day is not None:
        first, last = day_bounds(parse_day(day, zone), zone)
        bounds = {"start_from": utc_text(first - MAX_WINDOW), "start_before": utc_text(last), "ends_after": utc_text(first)}
    page = delivery_store.deliveries_page(ctx.job, **bounds, status=status.value if status else None, limit=limit,
                                          cursor=cursor)
    return DeliveryPage(items=[delivery_out(d, zone) for d in page.items], next_cursor=page.next_cursor)


def _change(caller: Caller, ctx: JobContext, delivery_id: str, decide: Callable[[Delivery], Decided],
            apply: Callable[[Delivery, Decided], Change], changes_from: tuple[str, ...]) -> DeliveryOut:
    """Read the delivery, decide, write its new state (and any day items) with its event in one
    transaction under the versions read; a concurrent change makes it read and decide again."""
    require_on_job(caller, "project.view", ctx)
    for attempt in range(ATTEMPTS):
        delivery, zone = _read(ctx, delivery_id)
        decision = decide(delivery)
        job = writable(ctx.job)
        if delivery.status not in changes_from:
            raise Conflict(f"delivery is {delivery.status}")
        new, kind, reason, days = apply(delivery, decision)
        new = new.changed(decided_by=caller.user.user_id, decided_at=clock.now_iso(), version=delivery.version + 1)
        event = _event(kind, job, new, zone, by=caller.user.user_id, reason=reason)
        try:
            entry = audit.change(kind.replace("approved", "approve").replace("rejected", "reject")
                                 .replace("cancelled", "cancel"), delivery, new)
            core.write_versioned(creates=[events.outbox_entry(event), entry,
                                          *(w for w in days if isinstance(w, core.Create))],
                                  replaces=[core.Replace(new),
                                            *(w for w in days if isinstance(w, core.Replace))])
        except core.Stale:
            _pause(attempt)
            continue
        events.publish([event])
        return delivery_out(new, zone)
    raise Conflict("changed by others at the same moment; try again")


def _require_trade_on_job(job: Job, delivery: Delivery) -> None:
    """A delivery booked for a trade is approved only while that trade is on the job (policy.decide_trade_on_job).
    A trade removed, expired or archived since booking leaves it to be cancelled (409)."""
    if _facts(delivery).booked_for_gc:
        return
    accounts, grants = access_store.accounts_on_job(job.tenant_id, job.job_id, [delivery.for_account_id])
    trade = accounts.get(delivery.for_account_id)
    if trade is None or not policy.decide_trade_on_job(trade, grants.get(delivery.for_account_id)):
        raise Conflict(f"{delivery.company_name} is no longer on this job: the delivery can only be cancelled")


def approve(caller: Caller, ctx: JobContext, delivery_id: str) -> DeliveryOut:
    """A lead gives its pending approval; the delivery is approved once none is pending. The slot is held already."""
    def decide(delivery: Delivery) -> policy.ApprovalDecision:
        return policy.require(policy.decide_approval(caller, ctx.facts, _facts(delivery)))

    def approve(delivery: Delivery, decision: policy.ApprovalDecision) -> Change:
        if delivery.approvals.get(str(decision.approval)) != "pending":
            raise Conflict(f"the {decision.approval} approval is already given")
        _require_trade_on_job(ctx.job, delivery)
        approvals = {**delivery.approvals, str(decision.approval): "approved"}
        done = all(state == "approved" for state in approvals.values())
        status = DeliveryStatus.APPROVED.value if done else DeliveryStatus.PENDING.value
        return delivery.changed(approvals=approvals, status=status), "delivery.approved", None, []

    return _change(caller, ctx, delivery_id, decide, approve, (DeliveryStatus.PENDING.value,))


def reject(caller: Caller, ctx: JobContext, delivery_id: str, reason: str) -> DeliveryOut:
    """A lead whose approval is pending rejects: one rejection rejects the delivery and frees its slot."""
    def decide(delivery: Delivery) -> policy.ApprovalDecision:
        return policy.require(policy.decide_approval(caller, ctx.facts, _facts(delivery)))

    def reject(delivery: Delivery, decision: policy.ApprovalDecision) -> Change:
        if delivery.approvals.get(str(decision.approval)) != "pending":
            raise Conflict(f"the {decision.approval} approval is already given")
        approvals = {a: ("rejected" if a == decision.approval else s) for a, s in delivery.approvals.items()}
        new = delivery.changed(approvals=approvals, status=DeliveryStatus.REJECTED.value, reason=reason)
        return new, "delivery.rejected", reason, _release(ctx.job, delivery)

    return _change(caller, ctx, delivery_id, decide, reject, (DeliveryStatus.PENDING.value,))


ARCHIVED_REASON = "job archived"


def cancelled_with_job(job: Job, by: str) -> list[tuple[core.Replace, events.DomainEvent, core.Create]]:
    """The pending deliveries of a job being archived, each cancelled (reason `job archived`) under the
    version read, with its event. Their slots stay as they were: an archived job takes no bookings."""
    pending = delivery_store.pending_deliveries_of_job(job)
    if not pending:
        return []
    zone = zone_of(tenant_store.get_tenant(job.tenant_id))
    cancelled = []
    for delivery in pending:
        new = delivery.changed(status=DeliveryStatus.CANCELLED.value, reason=ARCHIVED_REASON, decided_by=by,
                               decided_at=clock.now_iso(), version=delivery.version + 1)
        cancelled.append((core.Replace(new),
                          _event("delivery.cancelled", job, new, zone, by=by, reason=ARCHIVED_REASON),
                          audit.change("delivery.cancel", delivery, new)))
    return cancelled


def cancel(caller: Caller, ctx: JobContext, delivery_id: str) -> DeliveryOut:
    """The requester or a GC lead cancels a pending or approved delivery, freeing its slot."""
    def decide(delivery: Delivery) -> policy.Decision:
        return policy.require(policy.decide_cancel(caller, ctx.facts, _facts(delivery)))

    def cancel(delivery: Delivery, decision: policy.Decision) -> Change:
        return (delivery.changed(status=DeliveryStatus.CANCELLED.value), "delivery.cancelled", None,
                _release(ctx.job, delivery))

    return _change(caller, ctx, delivery_id, decide, cancel, HOLDING)
