"""job_access: jobs, job search, access lists, the project directory, e-tickets and records; why a person
can or cannot act on a job, who can reach it, and access reviews."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from sitegate import access, access_reviews, directory, explain, jobs, records, tickets
from sitegate.http import build_resolver, current_caller, current_caller_on_job, idempotent_create
from sitegate.models.access_reviews import (
    Explanation,
    ReviewClosed,
    ReviewCreate,
    ReviewEvidence,
    ReviewItemDecision,
    ReviewItemOut,
    ReviewOut,
)
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


# ------------------------------------------------------------ why, and who can
UserId = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$", description="default: the caller")]
REPORT: dict[int, OpenAPIResponse] = {200: {"description": "the report, as JSON or CSV (one row per person)",
                                            "content": {"application/json": {"schema": {"type": "object"}},
                                                        "text/csv": {"schema": {"type": "string"}}}}}


@app.get("/jobs/<job_id>/explain")
def explain_decision(job_id: str, action: Annotated[str, Query(min_length=1, max_length=40)],
                     user_id: UserId = None) -> Explanation:
    """Explain why a person (default: the caller) may or may not take an action on the job.

    The answer gives the rule, the reason and the facts it rested on. About others: staff with job.edit and GC leads."""
    return explain.explain(*current_caller_on_job(app, job_id), action, user_id)


@app.get("/jobs/<job_id>/access-report", responses=REPORT)
def get_access_report(job_id: str, at: Annotated[str | None, Query(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})$",
        description="an instant with its offset; default: now")] = None,
                      format: Annotated[Literal["json", "csv"], Query()] = "json") -> Response[Any]:
    """Everyone who can reach the job at an instant, with what they may do and the path of each action."""
    report = explain.access_report(*current_caller_on_job(app, job_id), at)
    if format == "csv":
        return Response(status_code=200, content_type="text/csv; charset=utf-8", body=explain.report_csv(report),
                        headers={"Content-Disposition": f'attachment; filename="access-report-{job_id}.csv"'})
    return Response(status_code=200, content_type="application/json", body=report.model_dump_json())


@app.post("/access-reviews", status_code=201)
def open_access_review(body: Annotated[ReviewCreate, Body()]) -> ReviewOut:
    """Open a review of a job's access for a reviewer, snapshotting its access report.

    It lists every entry and project role, to keep or revoke."""
    caller, ctx = current_caller_on_job(app, body.job_id)
    return idempotent_create(app, caller, "POST /access-reviews", body,
                             lambda once: access_reviews.open_review(caller, ctx, body, once))


@app.get("/access-reviews/<review_id>")
def get_access_review(review_id: str) -> ReviewOut:
    """Get a review with its items: its creator, its reviewer and Super Admins."""
    return access_reviews.get_review(current_caller(app), review_id)


@app.post("/access-reviews/<review_id>/decisions")
def decide_access_review_item(review_id: str, body: Annotated[ReviewItemDecision, Body()]) -> ReviewItemOut:
    """Keep or revoke one item; nobody decides a grant they made (the reviewer's go to the creator or a
    Super Admin)."""
    return access_reviews.decide(current_caller(app), review_id, body)


@app.post("/access-reviews/<review_id>/close")
def close_access_review(review_id: str) -> ReviewClosed:
    """Close the review once every item is decided: the revocations are carried out, the evidence sealed."""
    return access_reviews.close(current_caller(app), review_id)


@app.get("/access-reviews/<review_id>/evidence")
def get_access_review_evidence(review_id: str) -> ReviewEvidence:
    """The evidence of a closed review, with the SHA-256 of its canonical JSON."""
    return access_reviews.evidence(current_caller(app), review_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
