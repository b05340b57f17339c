"""E-tickets (e-ticketing): truck loads on a job, their ETAs and unloading."""

from __future__ import annotations

from datetime import datetime

from sitegate import audit, clock, ids
from sitegate.data import core, ticket_store
from sitegate.data.idempotency import Idempotency, create_once
from sitegate.errors import Conflict, NotFound, invalid
from sitegate.models.requests import TicketCreate, TicketUpdate, Unload
from sitegate.models.responses import TicketOut, TicketPage
from sitegate.models.stored import Job, Ticket, TicketNumberMarker, TicketStatus
from sitegate.on_job import JobContext, require_on_job, writable
from sitegate.policy import Caller


def _eta_rule(status: str, eta: str | None) -> None:
    if status == TicketStatus.EN_ROUTE.value and eta is None:
        raise invalid("eta", "an en-route ticket needs an eta")


def create_ticket(caller: Caller, ctx: JobContext, request: TicketCreate,
                  idempotency: Idempotency | None) -> TicketOut:
    require_on_job(caller, "tickets.edit", ctx)
    job = writable(ctx.job)
    eta = request.eta.isoformat() if request.eta else None
    _eta_rule(request.status, eta)
    ticket = Ticket(tenant_id=job.tenant_id, job_id=job.job_id, ticket_id=ids.new_id(), created_at=clock.now_iso(),
                    **{**request.model_dump(exclude={"eta"}), "eta": eta})
    out = TicketOut.of(ticket)
    create_once([core.Create(ticket, "ticket already exists"),
                       core.Create(TicketNumberMarker.of(ticket),
                                    f"ticket {ticket.ticket_number} already exists on this job"),
                 audit.change("ticket.create", None, ticket)],
                      out, idempotency)
    return out


def _ticket(job: Job, ticket_id: str) -> Ticket:
    ticket = ticket_store.get_ticket(job, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket


def update_ticket(caller: Caller, ctx: JobContext, ticket_id: str, request: TicketUpdate) -> TicketOut:
    require_on_job(caller, "tickets.edit", ctx)
    job = writable(ctx.job)
    ticket = _ticket(job, ticket_id)
    if ticket.status in (TicketStatus.UNLOADED.value, TicketStatus.REJECTED.value):
        raise Conflict(f"ticket is {ticket.status}")
    changes = request.model_dump(exclude_unset=True)
    if "eta" in changes and request.eta is not None:
        changes["eta"] = request.eta.isoformat()
    new = ticket.changed(**changes, version=ticket.version + 1)
    _eta_rule(new.status, new.eta)
    core.write(creates=[audit.change("ticket.update", ticket, new)], replaces=[core.Replace(new, "ticket changed meanwhile")])
    return TicketOut.of(new)


def list_tickets(caller: Caller, ctx: JobContext, limit: int, cursor: str | None) -> TicketPage:
    require_on_job(caller, "tickets.view", ctx)
    page = ticket_store.job_tickets_page(ctx.job, limit, cursor)
    return TicketPage(items=[TicketOut.of(t) for t in page.items], next_cursor=page.next_cursor)


def truck_etas(caller: Caller, ctx: JobContext) -> TicketPage:
    """En-route tickets, soonest arrival first by instant, whatever offsets their ETAs carry."""
    require_on_job(caller, "tickets.etas", ctx)
    en_route = [t for t in ticket_store.en_route_tickets(ctx.job) if t.status == TicketStatus.EN_ROUTE.value and t.eta]
    en_route.sort(key=lambda t: (datetime.fromisoformat(str(t.eta)), t.ticket_number))
    return TicketPage(items=[TicketOut.of(t) for t in en_route], next_cursor=None)


def unload(caller: Caller, ctx: JobContext, ticket_id: str, request: Unload) -> TicketOut:
    """Accept or reject an en-route load, once: a second unload is a conflict."""
    require_on_job(caller, "tickets.unload", ctx)
    job = writable(ctx.job)
    ticket = _ticket(job, ticket_id)
    if ticket.status != TicketStatus.EN_ROUTE.value:
        raise Conflict(f"ticket is {ticket.status}, not en route")
    status = TicketStatus.UNLOADED.value if request.accepted else TicketStatus.REJECTED.value
    new = ticket.changed(status=status, notes=request.notes, unloaded_by=caller.user.user_id,
                         unloaded_at=clock.now_iso(), version=ticket.version + 1)
    core.write(creates=[audit.change("ticket.unload", ticket, new)],
               replaces=[core.Replace(new, "ticket was unloaded meanwhile")])
    return TicketOut.of(new)
