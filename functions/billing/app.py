"""billing: the monthly per-user-day invoice (scheduled, then per tenant) and the invoice routes.

One handler, three kinds of invocation:
- the schedule (EventBridge Scheduler, the 1st at 12:00 UTC, its scheduled time in the event's
  `time`): fans out one billing-queue message per tenant naming the month to bill (the month before
  the scheduled time's, or `detail.period` when the event names one: `POST /local/billing/run`);
- an SQS batch of the billing queue (`Records`): each record bills one tenant for its month;
- an HTTP API request: the resolver.
"""

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from sitegate import audit_trail, billing, invoices, tax_invoices
from sitegate.errors import InvalidInput, invalid
from sitegate.http import build_resolver, current_caller, idempotent_create
from sitegate.models.audit import SealTenant
from sitegate.models.billing import BillingRun, BillTenant, FinalizeTenant
from sitegate.models.responses import InvoiceOut, InvoicePage
from sitegate.models.tax_invoices import (
    BillingDetailsOut,
    BillingDetailsSet,
    CreditCreate,
    CreditNoteOut,
    CreditNotePage,
    SupplierOut,
    SupplierSet,
    TenantBillingOut,
    TenantBillingSet,
    VoidCreate,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch import BatchProcessor
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

logger = Logger()
metrics = Metrics()
app = build_resolver()

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
# YYYY-MM; the month's range (01-12) is checked by the logic, which names `period` in its 422 too.
Period = Annotated[str, Path(pattern=r"^[0-9]{4}-[0-9]{2}$", description="a month, YYYY-MM")]
CSV: dict[int, OpenAPIResponse] = {200: {"description": "one row per billed user-day: date,user_id,name,level,tier",
             "content": {"text/csv": {"schema": {"type": "string"}}}}}


# Literal paths first: /invoices/preview is not the invoice of a period called "preview".
@app.get("/invoices/preview")
def preview_invoice() -> InvoiceOut:
    """Preview the current month's invoice through today (computed, not stored)."""
    return invoices.preview(current_caller(app))


@app.get("/invoices")
def list_invoices(limit: Limit = 50, cursor: Cursor = None) -> InvoicePage:
    """List the tenant's issued invoices, newest month first."""
    return invoices.list_invoices(current_caller(app), limit, cursor)


@app.get("/invoices/<period>")
def get_invoice(period: Period) -> InvoiceOut:
    """Get the invoice of a month, with its lines and billed users."""
    return invoices.get_invoice(current_caller(app), period)


@app.get("/invoices/<period>/days.csv", responses=CSV)
def get_invoice_days_csv(period: Period) -> Response[str]:
    """Get the billed user-days of a month's invoice as CSV, one row per user and day."""
    body = invoices.invoice_csv(current_caller(app), period)
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=body,
                    headers={"Content-Disposition": f'attachment; filename="invoice-{period}-days.csv"'})


# ---------------------------------------------------------------- tax invoices
NoteNumber = Annotated[str, Path(pattern=r"^CN-[0-9]{6}$", description="a credit note's number, CN-000001")]
TenantId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
PDF: dict[int, OpenAPIResponse] = {200: {"description": "the document as a PDF",
                                         "content": {"application/pdf": {"schema": {"type": "string",
                                                                                    "format": "binary"}}}}}


def _pdf(body: bytes, name: str) -> Response[bytes]:
    """A PDF answer. Its routes declare no return type: Powertools validates an annotated return and serializes it
    as JSON, which a PDF's bytes are not; unannotated, the bytes go out base64-encoded, as API Gateway expects."""
    return Response(status_code=200, content_type="application/pdf", body=body,
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@app.post("/invoices/<period>/finalize")
def finalize_invoice(period: Period) -> InvoiceOut:
    """Finalize a month's draft as a tax invoice, numbered from the tenant's gapless sequence.

    Both parties are fixed as they now are. 422 names each missing tax-invoice field; 409 when it is final already."""
    caller = current_caller(app)
    if (app.current_event.body or "").strip() not in ("", "{}"):
        raise invalid("body", "finalize takes no body")
    final = tax_invoices.finalize_by(caller, period)
    invoice, _, users = invoices.read_invoice(caller, final.period)
    return invoices.invoice_out(invoice, users)


@app.get("/invoices/<period>/invoice.pdf", responses=PDF)
def get_invoice_pdf(period: Period):  # type: ignore[no-untyped-def]  # no return type: see _pdf
    """The invoice as a PDF: the tax invoice once final; a draft is marked as one on every page."""
    return _pdf(tax_invoices.invoice_pdf(current_caller(app), period), f"invoice-{period}.pdf")


@app.post("/invoices/<period>/credit-notes", status_code=201)
def create_credit_note(period: Period, body: Annotated[CreditCreate, Body()]) -> CreditNoteOut:
    """Credit a final invoice: an amount (GST-exclusive) or quantities of its lines, with a reason."""
    caller = current_caller(app)
    return idempotent_create(app, caller, f"POST /invoices/{period}/credit-notes", body,
                             lambda once: tax_invoices.credit(caller, period, body, idempotency=once))


@app.get("/invoices/<period>/credit-notes")
def list_credit_notes(period: Period) -> CreditNotePage:
    """List a month's credit notes, oldest first."""
    return tax_invoices.credit_notes(current_caller(app), period)


@app.get("/invoices/<period>/credit-notes/<number>/credit-note.pdf", responses=PDF)
def get_credit_note_pdf(period: Period, number: NoteNumber):  # type: ignore[no-untyped-def]  # see _pdf
    """A credit note as a PDF."""
    return _pdf(tax_invoices.credit_note_pdf(current_caller(app), period, number), f"credit-note-{number}.pdf")


@app.post("/invoices/<period>/void", status_code=201)
def void_invoice(period: Period, body: Annotated[VoidCreate, Body()]) -> CreditNoteOut:
    """Void a final invoice: a credit note for all that is left; the invoice shows status void."""
    caller = current_caller(app)
    return idempotent_create(app, caller, f"POST /invoices/{period}/void", body,
                             lambda once: tax_invoices.credit(caller, period, body, kind="void", idempotency=once))


@app.get("/billing/details")
def get_billing_details() -> BillingDetailsOut:
    """The tenant's details as the buyer on its tax invoices."""
    return tax_invoices.get_billing_details(current_caller(app))


@app.put("/billing/details")
def set_billing_details(body: Annotated[BillingDetailsSet, Body()]) -> BillingDetailsOut:
    """Set the tenant's details as buyer: legal name, and address, NZBN or billing email."""
    return tax_invoices.set_billing_details(current_caller(app), body)


@app.put("/tenants/<tenant_id>/billing")
def set_tenant_billing(tenant_id: TenantId, body: Annotated[TenantBillingSet, Body()]) -> TenantBillingOut:
    """Set a tenant's rates, GST rate, currency and grace days (the platform operator)."""
    return tax_invoices.set_tenant_billing(current_caller(app), tenant_id, body)


@app.get("/platform/supplier")
def get_supplier() -> SupplierOut:
    """The supplier printed on every tax invoice (the platform operator)."""
    return tax_invoices.get_supplier(current_caller(app))


@app.put("/platform/supplier")
def set_supplier(body: Annotated[SupplierSet, Body()]) -> SupplierOut:
    """Set the supplier printed on every tax invoice: legal name, GST number, address (the platform operator)."""
    return tax_invoices.set_supplier(current_caller(app), body)


# ---------------------------------------------------------------- the monthly run
def _errors(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3]]
    return [f"{e['field']}: {e['message']}" for e in getattr(exc, "details", {}).get("errors", [])]


def scheduled_run(event: dict[str, Any]) -> dict[str, Any]:
    """Fan out. An event no retry can fix (no scheduled time, a month outside the calendar) is logged,
    counted and dropped: raising would only have Lambda retry it into the dead-letter queue."""
    try:
        scheduled = BillingRun.model_validate(event)
        if scheduled.detail.task == "invoice.finalize":
            tenants = tax_invoices.fan_out_finalize(scheduled.scheduled_at, scheduled.run_id)
            logger.info("finalizing queued every tenant", extra={"tenants": tenants, "run_id": scheduled.run_id})
            return {"task": "invoice.finalize", "tenants": tenants}
        if scheduled.detail.task == "audit.seal":
            tenants = audit_trail.fan_out_seals(scheduled.scheduled_at, scheduled.run_id)
            metrics.add_metric(name="AuditSealsQueued", unit=MetricUnit.Count, value=tenants)
            logger.info("audit sealing queued every tenant", extra={"tenants": tenants, "run_id": scheduled.run_id})
            return {"task": "audit.seal", "tenants": tenants}
        run = invoices.fan_out(scheduled)
    except (ValidationError, InvalidInput) as exc:
        logger.error("billing run refused, not retried: its event names no month SiteGate bills",
                     extra={"errors": _errors(exc), "event_time": str(event.get("time"))[:64]})
        metrics.add_metric(name="BillingRunsRefused", unit=MetricUnit.Count, value=1)
        return {"refused": _errors(exc)}
    report = run.as_dict()
    metrics.add_metric(name="BillingTenantsQueued", unit=MetricUnit.Count, value=run.tenants)
    logger.info("billing run queued every tenant", extra=report)
    return report


def seal_record(record: SQSRecord) -> str:
    """One tenant's audit entries sealed up to the instant its message names. A failure raises: the queue
    retries it (sealing is safe to repeat), then parks it in its dead-letter queue."""
    message = SealTenant.model_validate_json(record.body)
    context = {"tenant_id": message.tenant_id, "through": message.through, "run_id": message.run_id}
    try:
        report = audit_trail.seal_tenant(message.tenant_id, message.through)
    except Exception:
        logger.exception("sealing a tenant's audit entries failed: the queue retries it", extra=context)
        metrics.add_metric(name="AuditSealsFailed", unit=MetricUnit.Count, value=1)
        raise
    logger.info("audit entries sealed", extra={**context, "sealed": report.sealed})
    return "sealed"


def finalize_record(record: SQSRecord) -> str:
    """One tenant's drafts past their grace period finalized. A message that does not read is dropped (counted);
    a failure raises, so the queue retries it (finalizing is safe to repeat)."""
    try:
        message = FinalizeTenant.model_validate_json(record.body)
    except ValidationError as exc:
        logger.error("finalize message refused, not retried", extra={"message_id": record.message_id,
                                                                    "errors": _errors(exc)})
        metrics.add_metric(name="FinalizeMessagesRefused", unit=MetricUnit.Count, value=1)
        return "refused"
    report = tax_invoices.finalize_tenant(message)
    if report is None:
        return "no_such_tenant"
    metrics.add_metric(name="InvoicesFinalized", unit=MetricUnit.Count, value=report.finalized)
    if report.blocked:
        metrics.add_metric(name="InvoicesBlocked", unit=MetricUnit.Count, value=report.blocked)
    logger.info("drafts finalized", extra={"tenant_id": message.tenant_id, "finalized": report.finalized,
                                           "blocked": report.blocked})
    return "finalized"


def bill_record(record: SQSRecord) -> str:
    """One tenant's month. A message that names no tenant and month we bill is dropped (counted); a
    failure to bill raises, so the queue retries it, then parks it in its dead-letter queue.
    A message of the hourly sealing (`"kind": "audit.seal"`) seals that tenant's audit entries."""
    if '"kind":"invoice.finalize"' in record.body.replace(" ", ""):
        return finalize_record(record)
    if '"kind":"audit.seal"' in record.body.replace(" ", ""):
        try:
            SealTenant.model_validate_json(record.body)
        except ValidationError as exc:
            logger.error("seal message refused, not retried", extra={"message_id": record.message_id,
                                                                    "errors": _errors(exc)})
            metrics.add_metric(name="AuditSealMessagesRefused", unit=MetricUnit.Count, value=1)
            return "refused"
        return seal_record(record)
    try:
        message = BillTenant.model_validate_json(record.body)
        billing.parse_period(message.period)
    except (ValidationError, InvalidInput) as exc:
        logger.error("billing message refused, not retried: not a tenant and month SiteGate bills",
                     extra={"message_id": record.message_id, "errors": _errors(exc)})
        metrics.add_metric(name="BillingMessagesRefused", unit=MetricUnit.Count, value=1)
        return "refused"
    context = {"tenant_id": message.tenant_id, "period": message.period, "run_id": message.run_id,
               "receive_count": record.attributes.approximate_receive_count}
    try:
        outcome = invoices.bill(message)
    except Exception:
        logger.exception("billing a tenant failed: the queue retries it, then parks it in its dead-letter queue",
                         extra=context)
        metrics.add_metric(name="BillingTenantsFailed", unit=MetricUnit.Count, value=1)
        raise
    if outcome == "issued":
        metrics.add_metric(name="InvoicesIssued", unit=MetricUnit.Count, value=1)
    logger.info("tenant billed", extra={**context, "outcome": outcome})
    return outcome


# The queue's batch utility is imported on the first batch, not at cold start: importing it loads
# Powertools' parser models of every event source (about 25 ms of CPU here), which the API's cold
# start need not pay. A cold start by a batch pays it as before (with SnapStart: its first batch).
@functools.cache
def _processor() -> "BatchProcessor":
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    # Every record failing is still a partial response (all items listed), not an error of the whole invocation.
    return BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def _bill_batch(event: dict[str, Any], context: LambdaContext) -> "PartialItemFailureResponse":
    from aws_lambda_powertools.utilities.batch import process_partial_response

    return process_partial_response(event=event, record_handler=bill_record, processor=_processor(), context=context)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Mapping[str, Any]:
    if "Records" in event:  # the billing queue
        return _bill_batch(event, context)
    if "requestContext" not in event:  # the monthly schedule (EventBridge Scheduler)
        return scheduled_run(event)
    return app.resolve(event, context)
