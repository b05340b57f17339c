"""notifications: jobsite alerts (HTTP) and the domain-event queue (SQS: email and SMS, exactly once
per person and channel).

One handler, two kinds of invocation: an SQS batch (`Records`) or an HTTP API request. The outbox's
stream is read by `outbox.py` in this folder, deployed as its own function (OutboxPublisherFunction).
"""

import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from sitegate import alerts, notifications
from sitegate.http import build_resolver, current_caller_on_job, idempotent_create
from sitegate.models.events import AlertBatch, DomainEvent
from sitegate.models.requests import AlertAck, AlertCreate
from sitegate.models.responses import AckOut, AlertAccepted, AlertOut, AlertPage

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

logger = Logger()
app = build_resolver()

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]


# ---------------------------------------------------------------- jobsite alerts
@app.post("/jobs/<job_id>/alerts", status_code=202)
def send_alert(job_id: str, body: Annotated[AlertCreate, Body()]) -> AlertAccepted:
    """Alert everyone on the job who receives alerts, by email and SMS as each chose.

    202: the alert is sent as the queue delivers it. `unreachable` counts the recipients left
    without a channel; they can still acknowledge."""
    caller, ctx = current_caller_on_job(app, job_id)
    return idempotent_create(app, caller, f"POST /jobs/{job_id}/alerts", body,
                             lambda once: alerts.send_alert(caller, ctx, body, once))


@app.get("/jobs/<job_id>/alerts")
def list_job_alerts(job_id: str, limit: Limit = 50, cursor: Cursor = None) -> AlertPage:
    """List the job's alerts, newest first, with how many acknowledged."""
    return alerts.list_alerts(*current_caller_on_job(app, job_id), limit, cursor)


@app.get("/jobs/<job_id>/alerts/<alert_id>")
def get_alert(job_id: str, alert_id: str, limit: Limit = 50, cursor: Cursor = None) -> AlertOut:
    """Get an alert with a page of its roll-call: who acknowledged, when, and each channel's state."""
    return alerts.get_alert(*current_caller_on_job(app, job_id), alert_id, limit, cursor)


@app.post("/jobs/<job_id>/alerts/<alert_id>/ack")
def acknowledge_alert(job_id: str, alert_id: str, body: Annotated[AlertAck | None, Body()] = None) -> AckOut:
    """Acknowledge an alert, or (a GC lead) acknowledge it for a recipient with a note; a repeat keeps the first."""
    return alerts.acknowledge(*current_caller_on_job(app, job_id), alert_id, body)


@app.post("/jobs/<job_id>/alerts/<alert_id>/close")
def close_alert(job_id: str, alert_id: str) -> AlertOut:
    """Close an open alert: its escalation stops."""
    return alerts.close_alert(*current_caller_on_job(app, job_id), alert_id)


# ---------------------------------------------------------------- the domain-event queue
class PoisonMessage(Exception):
    """Not a domain event we know (bad JSON, unknown kind, data not fitting its kind): no retry can
    fix it, but it fails like any other record, so SQS parks it in the dead-letter queue."""


def _event_id(body: str) -> str | None:
    """The event id of a message that is not a valid event, when it has one to log."""
    try:
        found = json.loads(body).get("event_id")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def _message(body: str) -> tuple[DomainEvent, int]:
    """A domain event (from the topic), or one of an alert's further sending batches (from this function)."""
    try:
        return DomainEvent.model_validate_json(body), 0
    except ValidationError as not_an_event:
        try:
            batch = AlertBatch.model_validate_json(body)
        except ValidationError:
            raise not_an_event from None  # what is wrong with it as an event is what the log should say
        return batch.event, batch.alert_batch


def handle_record(record: SQSRecord) -> None:
    try:
        event, batch = _message(record.body)
    except ValidationError as exc:
        logger.error("poison message: not a domain event we know; it goes to the dead-letter queue after its "
                     "receives", extra={"message_id": record.message_id, "event_id": _event_id(record.body),
                                        "receive_count": record.attributes.approximate_receive_count,
                                        "errors": [e.get("msg") for e in exc.errors()[:3]]})
        raise PoisonMessage(record.message_id) from exc
    try:
        if batch:
            notifications.deliver_alert_batch(event, batch)
        else:
            notifications.deliver(event)
    except notifications.DeliveryIncomplete:
        raise  # logged per send by deliver
    except Exception:
        logger.exception("event not delivered: the queue retries it, then parks it in the dead-letter queue",
                         extra={"event_id": event.event_id, "event_type": event.type, "message_id": record.message_id,
                                "receive_count": record.attributes.approximate_receive_count})
        raise


# The queue's batch utility is imported on the first batch, not at cold start: importing it loads
# Powertools' parser models of every event source (about 25 ms of CPU here), which the API's cold
# start need not pay. A cold start by a batch pays it as before (with SnapStart: its first batch).
@functools.cache
def _processor() -> "BatchProcessor":
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    # Every record failing is still a partial response (all items listed), not an error of the whole invocation.
    return BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _sqs_batch(event: dict[str, Any], context: LambdaContext) -> "PartialItemFailureResponse":
    from aws_lambda_powertools.utilities.batch import process_partial_response

    return process_partial_response(event=event, record_handler=handle_record, processor=_processor(), context=context)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Mapping[str, Any]:
    if "Records" in event:
        return _sqs_batch(event, context)
    if "requestContext" in event:
        return app.resolve(event, context)
    raise ValueError(f"not an event this function takes: {sorted(event)[:5]}")
