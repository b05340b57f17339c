"""job_access: jobs, job search, access lists, the project directory, e-tickets and records."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from sitegate import access, directory, jobs, records, tickets
from sitegate.http import build_resolver, current_caller, current_caller_on_job, idempotent_create
from sitegate.models.requests import (
    AccessGrant,
    JobCreate,
    JobUpdate,
    RecordCreate,
    RoleUpdate,
    TicketCreate,
    TicketUpdate,
    Unload,
)
from sitegate.models.responses import (
    AccessEntry,
    AccessList,
    JobOut,
    JobPage,
    Member,
    MemberList,
    RecordOut,
    RecordPage,
    TicketOut,
    TicketPage,
)
from sitegate.models.stored import JobStatus

logger = Logger()
app = build_resolver()

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]


# ------------------------------------------------------------------ jobs
@app.post("/jobs", status_code=201)
def create_job(body: Annotated[JobCreate, Body()]) -> JobOut:
    """Create a job; the customer its code names is connected to it.

    Prices need financial.view; a job number is unique in the tenant, in any case (409)."""
    caller = current_caller(app)
    return idempotent_create(app, caller, "POST /jobs", body, lambda once: jobs.create_job(caller, body, once))


@app.get("/jobs")
def list_jobs(q: Annotated[str, Query(max_length=20, pattern=r"^[A-Za-z0-9-]*$")] = "",
              status: Annotated[JobStatus | None, Query()] = None, limit: Limit = 50, cursor: Cursor = None) -> JobPage:
    """List the visible jobs whose number starts with `q`, in job-number order."""
    return jobs.list_jobs(current_caller(app), q, status, limit, cursor)


@app.get("/jobs/<job_id>")
def get_job(job_id: str) -> JobOut:
    """Get a job; its prices only for callers with financial.view."""
    return jobs.get_job(*current_caller_on_job(app, job_id))


@app.patch("/jobs/<job_id>")
def update_job(job_id: str, body: Annotated[JobUpdate, Body()]) -> JobOut:
    """Change a job's name, customer, address or prices (its number never changes)."""
    return jobs.update_job(*current_caller_on_job(app, job_id), body)


@app.post("/jobs/<job_id>/archive")
def archive_job(job_id: str) -> JobOut:
    """Archive a job; its pending deliveries are cancelled with it."""
    return jobs.archive_job(*current_caller_on_job(app, job_id))


@app.delete("/jobs/<job_id>")
def delete_job(job_id: str) -> Response[None]:
    """Delete a job with its number and its access list."""
    jobs.delete_job(*current_caller_on_job(app, job_id))
    return Response(status_code=204)


# ------------------------------------------------------------ access list
@app.get("/jobs/<job_id>/access")
def get_job_access(job_id: str) -> AccessList:
    """Get the job's access list: the connected accounts on it, by kind.

    An account administrator sees its own entry and its guests' only."""
    return access.access_list(*current_caller_on_job(app, job_id))


@app.post("/jobs/<job_id>/access", status_code=201)
def grant_job_access(job_id: str, body: Annotated[AccessGrant, Body()]) -> AccessEntry:
    """Put an account on the job's access list, optionally until a time.

    Inspection firms and project owners need an access type; other kinds take none."""
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/access", body,
                             lambda once: access.grant_access(caller, ctx, body, once))


@app.delete("/jobs/<job_id>/access/<account_id>")
def revoke_job_access(job_id: str, account_id: str) -> Response[None]:
    """Take an account off the job's access list: its users lose the job at once."""
    access.revoke_access(*current_caller_on_job(app, job_id), account_id)
    return Response(status_code=204)


# -------------------------------------------------------------- directory
@app.get("/jobs/<job_id>/members")
def list_job_members(job_id: str) -> MemberList:
    """List the job's directory: everyone who can reach it, with their company type and role.

    Email and phone only for GC leads and staff with job.edit."""
    return directory.members(*current_caller_on_job(app, job_id))


@app.put("/jobs/<job_id>/members/<user_id>")
def set_job_member_role(job_id: str, user_id: str, body: Annotated[RoleUpdate, Body()]) -> Member:
    """Set a person's role on the job (`not_on_jobsite` removes it)."""
    return directory.set_role(*current_caller_on_job(app, job_id), user_id, body.role)


# ---------------------------------------------------------------- tickets
@app.post("/jobs/<job_id>/tickets", status_code=201)
def create_ticket(job_id: str, body: Annotated[TicketCreate, Body()]) -> TicketOut:
    """Create an e-ticket on the job, loaded or en route (which needs an ETA)."""
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/tickets", body,
                             lambda once: tickets.create_ticket(caller, ctx, body, once))


@app.patch("/jobs/<job_id>/tickets/<ticket_id>")
def update_ticket(job_id: str, ticket_id: str, body: Annotated[TicketUpdate, Body()]) -> TicketOut:
    """Change a ticket's status or ETA before it is unloaded."""
    return tickets.update_ticket(*current_caller_on_job(app, job_id), ticket_id, body)


@app.get("/jobs/<job_id>/tickets")
def list_job_tickets(job_id: str, limit: Limit = 50, cursor: Cursor = None) -> TicketPage:
    """List the job's e-tickets."""
    return tickets.list_tickets(*current_caller_on_job(app, job_id), limit, cursor)


@app.get("/jobs/<job_id>/etas")
def list_truck_etas(job_id: str) -> TicketPage:
    """List the job's en-route tickets, soonest ETA first (not paged)."""
    return tickets.truck_etas(*current_caller_on_job(app, job_id))


@app.post("/jobs/<job_id>/tickets/<ticket_id>/unload")
def unload_ticket(job_id: str, ticket_id: str, body: Annotated[Unload, Body()]) -> TicketOut:
    """Unload an en-route ticket: accepted, it is `unloaded`; refused, `rejected`."""
    return tickets.unload(*current_caller_on_job(app, job_id), ticket_id, body)


# ---------------------------------------------------------------- records
@app.post("/jobs/<job_id>/records", status_code=201)
def create_record(job_id: str, body: Annotated[RecordCreate, Body()]) -> RecordOut:
    """Record time or equipment hours worked on the job on a day."""
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/records", body,
                             lambda once: records.create_record(caller, ctx, body, once))


@app.get("/jobs/<job_id>/records")
def list_job_records(job_id: str, limit: Limit = 50, cursor: Cursor = None) -> RecordPage:
    """List the job's time and equipment records."""
    return records.list_records(*current_caller_on_job(app, job_id), limit, cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
