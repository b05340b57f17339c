"""user_levels: platform, identity, users, accounts and levels."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from sitegate import levels, tenants
from sitegate.http import authorize, build_resolver, current_caller, idempotent_create
from sitegate.models.requests import TenantCreate
from sitegate.models.responses import Health, LevelCatalog, Me

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = build_resolver()


@app.get("/health")
def health() -> Health:
    return Health(status="ok")


@app.post("/tenants")
@tracer.capture_method
def create_tenant(body: Annotated[TenantCreate, Body()]) -> tuple[dict[str, Any], int]:
    caller = current_caller(app)
    authorize(caller, "tenant.create")
    return idempotent_create(
        app, caller, "POST /tenants", body,
        lambda idempotency: tenants.create_tenant(body, caller.user.user_id, idempotency),
    )


@app.get("/me")
def me() -> Me:
    return levels.me(current_caller(app))


@app.get("/levels")
def level_catalog() -> LevelCatalog:
    current_caller(app)  # any active user
    return levels.catalog()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
