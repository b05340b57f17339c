"""user_levels: platform, identity, users, connected accounts, settings, vehicles, levels."""

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from sitegate import accounts, audit, audit_trail, levels, policy, tenant_settings, tenants, users, vehicles
from sitegate import dashboard as dashboards
from sitegate.data.audit_store import Filters
from sitegate.errors import invalid
from sitegate.http import build_resolver, current_caller, idempotent_create
from sitegate.models.requests import (
    AccountCreate,
    AccountUpdate,
    MeUpdate,
    NotificationPreferencesUpdate,
    SettingUpdate,
    TenantCreate,
    UserCreate,
    UserUpdate,
    VehicleCreate,
)
from sitegate.models.responses import (
    AccountOut,
    AccountPage,
    AuditEntryPage,
    AuditVerification,
    Dashboard,
    Health,
    LevelCatalog,
    Me,
    NotificationPreferencesOut,
    SettingOut,
    TenantCreated,
    UserOut,
    UserPage,
    VehicleOut,
    VehiclePage,
)
from sitegate.models.stored import AccountKind, UserStatus

logger = Logger()
metrics = Metrics()
app = build_resolver()

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]


# ------------------------------------------------------------- platform
@app.get("/health")
def get_health() -> Health:
    """Check that the API is up (no token needed)."""
    return Health(status="ok")


@app.post("/tenants", status_code=201)
def create_tenant(body: Annotated[TenantCreate, Body()]) -> TenantCreated:
    """Create a tenant with its owner account and first Super Admin.

    Platform operators only. The admin becomes the owner account's master administrator."""
    caller = current_caller(app)
    policy.require(policy.decide(caller, "tenant.create"))
    return idempotent_create(app, caller, "POST /tenants", body,
                             lambda once: tenants.create_tenant(body, caller.user.user_id, once))


@app.get("/me")
def get_me() -> Me:
    """Get the caller: its user, account, level and capabilities."""
    return levels.me(current_caller(app))


@app.patch("/me")
def update_me(body: Annotated[MeUpdate, Body()]) -> UserOut:
    """Change the caller's own name or phone.

    Clearing the phone with null also turns SMS notifications off."""
    return users.update_me(current_caller(app), body)


@app.put("/me/notification-preferences")
def set_notification_preferences(body: Annotated[NotificationPreferencesUpdate, Body()]) -> NotificationPreferencesOut:
    """Choose whether the caller is notified by email and by SMS.

    SMS needs a phone on the user (422)."""
    return users.set_notification_preferences(current_caller(app), body)


@app.get("/levels")
def get_level_catalog() -> LevelCatalog:
    """Get the staff and account levels with their capabilities and billing tiers."""
    current_caller(app)  # any active user
    return levels.catalog()


# ---------------------------------------------------------------- users
@app.post("/users", status_code=201)
def create_user(body: Annotated[UserCreate, Body()]) -> UserOut:
    """Create a user in the caller's account or one it may add users to.

    The level must fit the account; the first administrator of an account becomes its master."""
    caller = current_caller(app)
    return idempotent_create(app, caller, "POST /users", body, lambda once: users.create_user(caller, body, once))


@app.get("/users")
def list_users(account_id: Annotated[str | None, Query(max_length=64)] = None,
               status: Annotated[UserStatus | None, Query()] = None,
               limit: Limit = 50, cursor: Cursor = None) -> UserPage:
    """List the users the caller may see, optionally of one account or status."""
    return users.list_users(current_caller(app), account_id, status, limit, cursor)


@app.get("/users/<user_id>")
def get_user(user_id: str) -> UserOut:
    """Get a user the caller may see (everyone sees themselves)."""
    return users.get_user(current_caller(app), user_id)


@app.patch("/users/<user_id>")
def update_user(user_id: str, body: Annotated[UserUpdate, Body()]) -> UserOut:
    """Change a user's name, phone, level, jobs or guest rights.

    No escalation past the caller's own level; the master cannot be demoted."""
    return users.update_user(current_caller(app), user_id, body)


@app.post("/users/<user_id>/disable")
def disable_user(user_id: str) -> UserOut:
    """Disable a user: its tokens stop working at once."""
    return users.disable_user(current_caller(app), user_id)


@app.post("/users/<user_id>/enable")
def enable_user(user_id: str) -> UserOut:
    """Enable a disabled user again."""
    return users.enable_user(current_caller(app), user_id)


@app.post("/users/<user_id>/reset-password")
def reset_user_password(user_id: str) -> UserOut:
    """Start a password reset for a user (one who never signed in is invited again)."""
    return users.reset_password(current_caller(app), user_id)


@app.delete("/users/<user_id>")
def delete_user(user_id: str) -> Response[None]:
    """Delete a user: the record stays, `deleted`, and its email is free again."""
    users.delete_user(current_caller(app), user_id)
    return Response(status_code=204)


# ------------------------------------------------------------- accounts
@app.post("/accounts", status_code=201)
def create_account(body: Annotated[AccountCreate, Body()]) -> AccountOut:
    """Create a connected account, optionally with its master administrator.

    Account administrators and managers who may create guests make guest contractors only."""
    caller = current_caller(app)
    return idempotent_create(app, caller, "POST /accounts", body,
                             lambda once: accounts.create_account(caller, body, once))


@app.get("/accounts")
def list_accounts(kind: Annotated[AccountKind | None, Query()] = None, limit: Limit = 50,
                  cursor: Cursor = None) -> AccountPage:
    """List the accounts the caller may see, optionally of one kind."""
    return accounts.list_accounts(current_caller(app), kind, limit, cursor)


@app.get("/accounts/<account_id>")
def get_account(account_id: str) -> AccountOut:
    """Get an account the caller may see."""
    return accounts.get_account(current_caller(app), account_id)


@app.patch("/accounts/<account_id>")
def update_account(account_id: str, body: Annotated[AccountUpdate, Body()]) -> AccountOut:
    """Rename an account or replace its customer codes.

    Added codes connect their jobs; dropped codes remove the connections they made."""
    return accounts.update_account(current_caller(app), account_id, body)


@app.post("/accounts/<account_id>/archive")
def archive_account(account_id: str) -> AccountOut:
    """Archive an account: its users lose all access."""
    return accounts.archive_account(current_caller(app), account_id)


# ---------------------------------------------------- settings, resources
@app.get("/settings")
def get_settings() -> dict[str, Any]:
    """Get the tenant's settings the caller may see, as a key-to-value map (unset keys are null)."""
    return tenant_settings.get_settings(current_caller(app))


@app.put("/settings/<key>")
def set_setting(key: str, body: Annotated[SettingUpdate, Body()]) -> SettingOut:
    """Set one of the tenant's settings to any JSON value.

    Sensitive settings need settings.edit for all."""
    return tenant_settings.put_setting(current_caller(app), key, body.value)


@app.get("/dashboard")
def get_dashboard() -> Dashboard:
    """Count the active jobs, pending deliveries and open requests the caller can see."""
    return dashboards.dashboard(current_caller(app))


@app.get("/vehicles")
def list_vehicles(limit: Limit = 50, cursor: Cursor = None) -> VehiclePage:
    """List the tenant's vehicles."""
    return vehicles.list_vehicles(current_caller(app), limit, cursor)


@app.post("/vehicles", status_code=201)
def create_vehicle(body: Annotated[VehicleCreate, Body()]) -> VehicleOut:
    """Add a vehicle; its registration is unique in the tenant, whatever the case and spaces."""
    caller = current_caller(app)
    return idempotent_create(app, caller, "POST /vehicles", body,
                             lambda once: vehicles.create_vehicle(caller, body, once))


# ------------------------------------------------------------- the audit trail
AuditId = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$", description="an id as entries name it")]
AuditAction = Annotated[str | None, Query(pattern=r"^[a-z_]{1,40}\.[a-z_]{1,40}$", description="`<object>.<verb>`")]
Since = Annotated[datetime | None, Query(alias="from", description="entries at or after this instant")]
Until = Annotated[datetime | None, Query(alias="to", description="entries at or before this instant")]
EXPORT: dict[int, OpenAPIResponse] = {200: {"description": "the filtered entries, newest first, as CSV or NDJSON",
                                            "content": {"text/csv": {"schema": {"type": "string"}},
                                                        "application/x-ndjson": {"schema": {"type": "string"}}}}}


def _audit_filters(actor_id: str | None, target_id: str | None, job_id: str | None, action: str | None) -> Filters:
    if action is not None and action not in audit.ACTIONS:
        raise invalid("action", "names no action of the audit trail")
    return Filters(actor_id=actor_id, target_id=target_id, job_id=job_id, action=action)


@app.get("/audit")
def list_audit_entries(actor_id: AuditId = None, target_id: AuditId = None, job_id: AuditId = None,
                       action: AuditAction = None, since: Since = None, until: Until = None, limit: Limit = 50,
                       cursor: Cursor = None) -> AuditEntryPage:
    """Read the audit trail, newest first: the whole tenant with audit.view, an account's own entries for
    its administrators."""
    return audit_trail.read(current_caller(app), _audit_filters(actor_id, target_id, job_id, action), since, until,
                            limit, cursor)


@app.get("/audit/export", responses=EXPORT)
def export_audit(format: Annotated[Literal["csv", "ndjson"], Query()] = "csv", actor_id: AuditId = None,
                 target_id: AuditId = None, job_id: AuditId = None, action: AuditAction = None,
                 since: Since = None, until: Until = None, cursor: Cursor = None) -> Response[str]:
    """Export the filtered audit trail as CSV or NDJSON (up to 5,000 entries; `X-Next-Cursor` goes on)."""
    body, next_cursor = audit_trail.export(current_caller(app), _audit_filters(actor_id, target_id, job_id, action),
                                           since, until, format, cursor)
    headers = {"Content-Disposition": f'attachment; filename="audit.{format}"'}
    if next_cursor:
        headers["X-Next-Cursor"] = next_cursor
    content_type = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    return Response(status_code=200, content_type=content_type, body=body, headers=headers)


@app.get("/audit/verify")
def verify_audit(since: Since = None, until: Until = None) -> AuditVerification:
    """Recompute the sealed digests in range and report the first missing, altered or added entry."""
    return audit_trail.verify(current_caller(app), since, until)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
