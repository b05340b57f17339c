"""delivery_approvals: locations, shared equipment, deliveries and their approvals, job requests,
and the public portal."""

from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

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
    EquipmentPage,
    JobRequestOut,
    JobRequestPage,
    LocationPage,
    Portal,
)

logger = Logger()
app = build_resolver()

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
Day = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")]
Created = tuple[dict[str, Any], int]


# ------------------------------------------------------ locations, equipment
@app.get("/jobs/<job_id>/locations")
def list_locations(job_id: str, limit: Limit = 50, cursor: Cursor = None) -> LocationPage:
    return deliveries.list_locations(*current_caller_on_job(app, job_id), limit, cursor)


@app.post("/jobs/<job_id>/locations")
def add_location(job_id: str, body: Annotated[LocationCreate, Body()]) -> Created:
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/locations", body,
                             lambda once: deliveries.add_location(caller, ctx, body, once))


@app.get("/jobs/<job_id>/equipment")
def list_equipment(job_id: str, limit: Limit = 50, cursor: Cursor = None) -> EquipmentPage:
    return deliveries.list_equipment(*current_caller_on_job(app, job_id), limit, cursor)


@app.post("/jobs/<job_id>/equipment")
def add_equipment(job_id: str, body: Annotated[EquipmentCreate, Body()]) -> Created:
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/equipment", body,
                             lambda once: deliveries.add_equipment(caller, ctx, body, once))


# --------------------------------------------------------------- deliveries
@app.post("/jobs/<job_id>/deliveries")
def request_delivery(job_id: str, body: Annotated[DeliveryCreate, Body()]) -> Created:
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/deliveries", body,
                             lambda once: deliveries.request_delivery(caller, ctx, body, once))


@app.get("/jobs/<job_id>/deliveries")
def list_deliveries(job_id: str, date: Day = None,
                    status: Annotated[Literal["pending", "approved", "rejected", "cancelled"] | None, Query()] = None,
                    limit: Limit = 50, cursor: Cursor = None) -> DeliveryPage:
    return deliveries.list_deliveries(*current_caller_on_job(app, job_id), date, status, limit, cursor)


@app.get("/jobs/<job_id>/deliveries/<delivery_id>")
def get_delivery(job_id: str, delivery_id: str) -> DeliveryOut:
    return deliveries.get_delivery(*current_caller_on_job(app, job_id), delivery_id)


@app.post("/jobs/<job_id>/deliveries/<delivery_id>/approve")
def approve_delivery(job_id: str, delivery_id: str) -> DeliveryOut:
    return deliveries.approve(*current_caller_on_job(app, job_id), delivery_id)


@app.post("/jobs/<job_id>/deliveries/<delivery_id>/reject")
def reject_delivery(job_id: str, delivery_id: str, body: Annotated[DeliveryReject, Body()]) -> DeliveryOut:
    return deliveries.reject(*current_caller_on_job(app, job_id), delivery_id, body.reason)


@app.post("/jobs/<job_id>/deliveries/<delivery_id>/cancel")
def cancel_delivery(job_id: str, delivery_id: str, body: Annotated[DeliveryCancel | None, Body()] = None) -> DeliveryOut:
    return deliveries.cancel(*current_caller_on_job(app, job_id), delivery_id)


# ------------------------------------------------------------- job requests
@app.post("/jobs/<job_id>/requests")
def create_request(job_id: str, body: Annotated[JobRequestCreate, Body()]) -> Created:
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/requests", body,
                             lambda once: job_requests.create_request(caller, ctx, body, once))


@app.get("/jobs/<job_id>/requests")
def list_requests(job_id: str, limit: Limit = 50, cursor: Cursor = None) -> JobRequestPage:
    return job_requests.list_requests(*current_caller_on_job(app, job_id), limit, cursor)


@app.patch("/jobs/<job_id>/requests/<request_id>")
def update_request(job_id: str, request_id: str, body: Annotated[JobRequestUpdate, Body()]) -> JobRequestOut:
    return job_requests.update_request(*current_caller_on_job(app, job_id), request_id, body)


# ------------------------------------------------------------ public portal
@app.get("/portal/<job_id>")
def portal(job_id: str, date: Day = None) -> Portal:
    return portals.portal(job_id, date)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
