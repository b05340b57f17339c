"""delivery_approvals: locations, shared equipment, deliveries and their approvals, job requests,
and the public portal."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import WithJsonSchema

from sitegate import deliveries, job_requests
from sitegate import portal as portals
from sitegate.http import build_resolver, current_caller_on_job, idempotent_create
from sitegate.models.requests import (
    DeliveryCancel,
    DeliveryCreate,
    DeliveryReject,
    EquipmentCreate,
    JobRequestCreate,
    JobRequestUpdate,
    LocationCreate,
)
from sitegate.models.responses import (
    DeliveryOut,
    DeliveryPage,
    EquipmentOut,
    EquipmentPage,
    JobRequestOut,
    JobRequestPage,
    LocationOut,
    LocationPage,
    Portal,
)
from sitegate.models.stored import DeliveryStatus

logger = Logger()
app = build_resolver()

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
DAY = r"^\d{4}-\d{2}-\d{2}$"
# A day as text, read in the tenant's time zone by the logic; the schema's format lets clients send a date.
Day = Annotated[Annotated[str, WithJsonSchema({"type": "string", "format": "date", "pattern": DAY})] | None,
                Query(pattern=DAY)]


# ------------------------------------------------------ locations, equipment
@app.get("/jobs/<job_id>/locations")
def list_job_locations(job_id: str, limit: Limit = 50, cursor: Cursor = None) -> LocationPage:
    """List the job's gates, drop zones, hoists and laydown areas."""
    return deliveries.list_locations(*current_caller_on_job(app, job_id), limit, cursor)


@app.post("/jobs/<job_id>/locations", status_code=201)
def add_location(job_id: str, body: Annotated[LocationCreate, Body()]) -> LocationOut:
    """Add a location deliveries can book; its name is unique on the job, in any case."""
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/locations", body,
                             lambda once: deliveries.add_location(caller, ctx, body, once))


@app.get("/jobs/<job_id>/equipment")
def list_job_equipment(job_id: str, limit: Limit = 50, cursor: Cursor = None) -> EquipmentPage:
    """List the job's shared equipment."""
    return deliveries.list_equipment(*current_caller_on_job(app, job_id), limit, cursor)


@app.post("/jobs/<job_id>/equipment", status_code=201)
def add_equipment(job_id: str, body: Annotated[EquipmentCreate, Body()]) -> EquipmentOut:
    """Add shared equipment (a crane, a forklift) deliveries can book with their location."""
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/equipment", body,
                             lambda once: deliveries.add_equipment(caller, ctx, body, once))


# --------------------------------------------------------------- deliveries
@app.post("/jobs/<job_id>/deliveries", status_code=201)
def request_delivery(job_id: str, body: Annotated[DeliveryCreate, Body()]) -> DeliveryOut:
    """Book a delivery window at a location, with any shared equipment, for the GC or a trade.

    It is pending until the leads it needs approve it (a GC lead booking for the GC approves it
    at once). 409 naming the `field` (location or equipment) when the window overlaps a pending or
    approved delivery; touching windows do not overlap."""
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/deliveries", body,
                             lambda once: deliveries.request_delivery(caller, ctx, body, once))


@app.get("/jobs/<job_id>/deliveries")
def list_job_deliveries(job_id: str, date: Day = None, status: Annotated[DeliveryStatus | None, Query()] = None,
                        limit: Limit = 50, cursor: Cursor = None) -> DeliveryPage:
    """List the job's deliveries by start, optionally those overlapping a day or in one status.

    `date` is a day of the tenant's time zone."""
    return deliveries.list_deliveries(*current_caller_on_job(app, job_id), date, status, limit, cursor)


@app.get("/jobs/<job_id>/deliveries/<delivery_id>")
def get_delivery(job_id: str, delivery_id: str) -> DeliveryOut:
    """Get a delivery on the job."""
    return deliveries.get_delivery(*current_caller_on_job(app, job_id), delivery_id)


@app.post("/jobs/<job_id>/deliveries/<delivery_id>/approve")
def approve_delivery(job_id: str, delivery_id: str) -> DeliveryOut:
    """Give the caller's approval (GC lead, or the booked trade's lead) to a pending delivery.

    The delivery is approved once no approval is pending."""
    return deliveries.approve(*current_caller_on_job(app, job_id), delivery_id)


@app.post("/jobs/<job_id>/deliveries/<delivery_id>/reject")
def reject_delivery(job_id: str, delivery_id: str, body: Annotated[DeliveryReject, Body()]) -> DeliveryOut:
    """Reject a pending delivery with a reason; its slot is free again."""
    return deliveries.reject(*current_caller_on_job(app, job_id), delivery_id, body.reason)


@app.post("/jobs/<job_id>/deliveries/<delivery_id>/cancel")
def cancel_delivery(job_id: str, delivery_id: str, body: Annotated[DeliveryCancel | None, Body()] = None) -> DeliveryOut:
    """Cancel a delivery (its requester or a GC lead); its slot is free again."""
    return deliveries.cancel(*current_caller_on_job(app, job_id), delivery_id)


# ------------------------------------------------------------- job requests
@app.post("/jobs/<job_id>/requests", status_code=201)
def create_job_request(job_id: str, body: Annotated[JobRequestCreate, Body()]) -> JobRequestOut:
    """Ask the GC for something on the job (customers' users and their guests); it starts `open`."""
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/requests", body,
                             lambda once: job_requests.create_request(caller, ctx, body, once))


@app.get("/jobs/<job_id>/requests")
def list_job_requests(job_id: str, limit: Limit = 50, cursor: Cursor = None) -> JobRequestPage:
    """List the job's requests the caller may see, by account then time."""
    return job_requests.list_requests(*current_caller_on_job(app, job_id), limit, cursor)


@app.patch("/jobs/<job_id>/requests/<request_id>")
def update_job_request(job_id: str, request_id: str, body: Annotated[JobRequestUpdate, Body()]) -> JobRequestOut:
    """Move a job request on: open, accepted, done; or declined from open or accepted."""
    return job_requests.update_request(*current_caller_on_job(app, job_id), request_id, body)


# ------------------------------------------------------------ public portal
@app.get("/portal/<job_id>")
def get_portal(job_id: str, date: Day = None) -> Portal:
    """Get the job's public portal for a day: its gates and approved delivery windows (no token needed).

    `date` defaults to today in the tenant's time zone."""
    return portals.portal(job_id, date)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
