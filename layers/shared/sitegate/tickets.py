"""E-tickets (seed 000): truck loads on a job, their ETAs and unloading."""

from __future__ import annotations

from sitegate import clock, ids, keys
from sitegate.data import store
from sitegate.errors import Conflict, InvalidInput, NotFound
from sitegate.jobs import job_context, require_on_job
from sitegate.models.requests import TicketCreate, TicketUpdate, Unload
from sitegate.models.responses import TicketOut, TicketPage
from sitegate.models.stored import JobStatus, Ticket, TicketStatus
from sitegate.policy import Caller


def _eta_rule(status: str, eta: str | None) -> None:
    if status == TicketStatus.EN_ROUTE.value and eta is None:
        raise InvalidInput("invalid input: eta", errors=[{"field": "eta", "message": "an en-route ticket needs an eta"}])


def create_ticket(caller: Caller, job_id: str, request: TicketCreate, idempotency: store.Idempotency | None) -> TicketOut:
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "job.edit", facts)
    if job.status != JobStatus.ACTIVE.value:
        raise Conflict(f"job {job.job_number} is archived")
    eta = request.eta.isoformat() if request.eta else None
    _eta_rule(request.status, eta)
    ticket = Ticket(tenant_id=job.tenant_id, job_id=job.job_id, ticket_id=ids.new_id(), created_at=clock.now_iso(),
                    **{**request.model_dump(exclude={"eta"}), "eta": eta})
    out = TicketOut.of(ticket)
    marker = {**keys.ticket_number(job.tenant_id, job.job_id, ticket.ticket_number), "entity": "TicketNumber",
              "ticket_id": ticket.ticket_id}
    store.create_once([store.Create(store.ticket_item(ticket), "ticket already exists"),
                       store.Create(marker, f"ticket {ticket.ticket_number} already exists on this job")],
                      out, idempotency)
    return out


def _ticket(job_id: str, tenant_id: str, ticket_id: str) -> Ticket:
    ticket = store.get_item(Ticket, keys.ticket(tenant_id, job_id, ticket_id))
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket


def update_ticket(caller: Caller, job_id: str, ticket_id: str, request: TicketUpdate) -> TicketOut:
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "job.edit", facts)
    ticket = _ticket(job.job_id, job.tenant_id, ticket_id)
    if ticket.status in (TicketStatus.UNLOADED.value, TicketStatus.REJECTED.value):
        raise Conflict(f"ticket is {ticket.status}")
    changes = request.model_dump(exclude_unset=True)
    if "eta" in changes and request.eta is not None:
        changes["eta"] = request.eta.isoformat()
    new = ticket.changed(**changes, version=ticket.version + 1)
    _eta_rule(new.status, new.eta)
    store.write(replaces=[store.Replace(store.ticket_item(new), "ticket changed meanwhile")])
    return TicketOut.of(new)


def list_tickets(caller: Caller, job_id: str, limit: int, cursor: str | None) -> TicketPage:
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "tickets.view", facts)
    page = store.query_page(Ticket, keys.job_partition(job.tenant_id, job.job_id), sort_prefix="TICKET#", limit=limit,
                            cursor=cursor)
    return TicketPage(items=[TicketOut.of(t) for t in page.items], next_cursor=page.next_cursor)


def truck_etas(caller: Caller, job_id: str) -> TicketPage:
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "tickets.etas", facts)
    tickets = store.query_all(Ticket, keys.job_partition(job.tenant_id, job.job_id), "TICKET#")
    en_route = sorted((t for t in tickets if t.status == TicketStatus.EN_ROUTE.value), key=lambda t: t.eta or "")
    return TicketPage(items=[TicketOut.of(t) for t in en_route], next_cursor=None)


def unload(caller: Caller, job_id: str, ticket_id: str, request: Unload) -> TicketOut:
    """Accept or reject an en-route load, once: a second unload is a conflict."""
    job, facts = job_context(caller, job_id)
    require_on_job(caller, "tickets.unload", facts)
    ticket = _ticket(job.job_id, job.tenant_id, ticket_id)
    if ticket.status != TicketStatus.EN_ROUTE.value:
        raise Conflict(f"ticket is {ticket.status}, not en route")
    status = TicketStatus.UNLOADED.value if request.accepted else TicketStatus.REJECTED.value
    new = ticket.changed(status=status, notes=request.notes, unloaded_by=caller.user.user_id,
                                    unloaded_at=clock.now_iso(), version=ticket.version + 1)
    store.write(replaces=[store.Replace(store.ticket_item(new), "ticket was unloaded meanwhile")])
    return TicketOut.of(new)
