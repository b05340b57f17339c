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
    AccessList,
    JobOut,
    JobPage,
    Member,
    MemberList,
    RecordPage,
    TicketOut,
    TicketPage,
)
from sitegate.models.stored import JobStatus

logger = Logger()
app = build_resolver()

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
Created = tuple[dict[str, Any], int]


# ------------------------------------------------------------------ jobs
@app.post("/jobs")
def create_job(body: Annotated[JobCreate, Body()]) -> Created:
    caller = current_caller(app)
    return idempotent_create(app, caller, "POST /jobs", body, lambda once: jobs.create_job(caller, body, once))


@app.get("/jobs")
def search_jobs(q: Annotated[str, Query(max_length=20, pattern=r"^[A-Za-z0-9-]*$")] = "",
                status: Annotated[JobStatus | None, Query()] = None, limit: Limit = 50, cursor: Cursor = None) -> JobPage:
    return jobs.list_jobs(current_caller(app), q, status, limit, cursor)


@app.get("/jobs/<job_id>")
def get_job(job_id: str) -> JobOut:
    return jobs.get_job(*current_caller_on_job(app, job_id))


@app.patch("/jobs/<job_id>")
def update_job(job_id: str, body: Annotated[JobUpdate, Body()]) -> JobOut:
    return jobs.update_job(*current_caller_on_job(app, job_id), body)


@app.post("/jobs/<job_id>/archive")
def archive_job(job_id: str) -> JobOut:
    return jobs.archive_job(*current_caller_on_job(app, job_id))


@app.delete("/jobs/<job_id>")
def delete_job(job_id: str) -> Response[None]:
    jobs.delete_job(*current_caller_on_job(app, job_id))
    return Response(status_code=204)


# ------------------------------------------------------------ access list
@app.get("/jobs/<job_id>/access")
def access_list(job_id: str) -> AccessList:
    return access.access_list(*current_caller_on_job(app, job_id))


@app.post("/jobs/<job_id>/access")
def grant_access(job_id: str, body: Annotated[AccessGrant, Body()]) -> Created:
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/access", body,
                             lambda once: access.grant_access(caller, ctx, body, once))


@app.delete("/jobs/<job_id>/access/<account_id>")
def revoke_access(job_id: str, account_id: str) -> Response[None]:
    access.revoke_access(*current_caller_on_job(app, job_id), account_id)
    return Response(status_code=204)


# -------------------------------------------------------------- directory
@app.get("/jobs/<job_id>/members")
def members(job_id: str) -> MemberList:
    return directory.members(*current_caller_on_job(app, job_id))


@app.put("/jobs/<job_id>/members/<user_id>")
def set_role(job_id: str, user_id: str, body: Annotated[RoleUpdate, Body()]) -> Member:
    return directory.set_role(*current_caller_on_job(app, job_id), user_id, body.role)


# ---------------------------------------------------------------- tickets
@app.post("/jobs/<job_id>/tickets")
def create_ticket(job_id: str, body: Annotated[TicketCreate, Body()]) -> Created:
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/tickets", body,
                             lambda once: tickets.create_ticket(caller, ctx, body, once))


@app.patch("/jobs/<job_id>/tickets/<ticket_id>")
def update_ticket(job_id: str, ticket_id: str, body: Annotated[TicketUpdate, Body()]) -> TicketOut:
    return tickets.update_ticket(*current_caller_on_job(app, job_id), ticket_id, body)


@app.get("/jobs/<job_id>/tickets")
def list_tickets(job_id: str, limit: Limit = 50, cursor: Cursor = None) -> TicketPage:
    return tickets.list_tickets(*current_caller_on_job(app, job_id), limit, cursor)


@app.get("/jobs/<job_id>/etas")
def truck_etas(job_id: str) -> TicketPage:
    return tickets.truck_etas(*current_caller_on_job(app, job_id))


@app.post("/jobs/<job_id>/tickets/<ticket_id>/unload")
def unload(job_id: str, ticket_id: str, body: Annotated[Unload, Body()]) -> TicketOut:
    return tickets.unload(*current_caller_on_job(app, job_id), ticket_id, body)


# ---------------------------------------------------------------- records
@app.post("/jobs/<job_id>/records")
def create_record(job_id: str, body: Annotated[RecordCreate, Body()]) -> Created:
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/records", body,
                             lambda once: records.create_record(caller, ctx, body, once))


@app.get("/jobs/<job_id>/records")
def list_records(job_id: str, limit: Limit = 50, cursor: Cursor = None) -> RecordPage:
    return records.list_records(*current_caller_on_job(app, job_id), limit, cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
