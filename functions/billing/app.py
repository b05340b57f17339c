"""billing: the monthly per-user-day invoice (scheduled) and the invoice routes.

The schedule (EventBridge Scheduler, the 1st at 12:00 UTC) bills every tenant for the month
before, or for `detail.period` when the event names one (`POST /local/billing/run`). HTTP
events are served by the resolver.
"""

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sitegate import invoices
from sitegate.http import build_resolver, current_caller
from sitegate.models.responses import InvoiceOut, InvoicePage

logger = Logger()
metrics = Metrics()
app = build_resolver()

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
# YYYY-MM; the month's range (01-12) is checked by the logic, which names `period` in its 422 too.
Period = Annotated[str, Path(pattern=r"^[0-9]{4}-[0-9]{2}$", description="a month, YYYY-MM")]
CSV = {200: {"description": "one row per billed user-day: date,user_id,name,level,tier",
             "content": {"text/csv": {"schema": {"type": "string"}}}}}


class BillingIncomplete(Exception):
    """Some tenants could not be billed: the run fails after billing all the others, so the
    scheduler's retries (then the dead-letter queue) take it up; a retry bills only those left."""

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__(f"billing failed for {report['failed']} tenant(s)")
        self.report = report


# Literal paths first: /invoices/preview is not the invoice of a period called "preview".
@app.get("/invoices/preview")
def preview() -> InvoiceOut:
    return invoices.preview(current_caller(app))


@app.get("/invoices")
def list_invoices(limit: Limit = 50, cursor: Cursor = None) -> InvoicePage:
    return invoices.list_invoices(current_caller(app), limit, cursor)


@app.get("/invoices/<period>")
def get_invoice(period: Period) -> InvoiceOut:
    return invoices.get_invoice(current_caller(app), period)


@app.get("/invoices/<period>/days.csv", responses=CSV)
def invoice_days_csv(period: Period) -> Response[str]:
    body = invoices.invoice_csv(current_caller(app), period)
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=body,
                    headers={"Content-Disposition": f'attachment; filename="invoice-{period}-days.csv"'})


def scheduled_run(event: dict[str, Any]) -> dict[str, Any]:
    detail = event.get("detail")
    period = detail.get("period") if isinstance(detail, dict) else None
    report = invoices.run(str(period) if period is not None else None).as_dict()
    metrics.add_metric(name="InvoicesIssued", unit=MetricUnit.Count, value=int(report["issued"]))
    metrics.add_metric(name="BillingTenantsFailed", unit=MetricUnit.Count, value=int(report["failed"]))
    logger.info("billing run finished", extra=report)
    if report["failed"]:
        raise BillingIncomplete(report)
    return report


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "requestContext" not in event:  # the monthly schedule (EventBridge Scheduler)
        return scheduled_run(event)
    return app.resolve(event, context)
