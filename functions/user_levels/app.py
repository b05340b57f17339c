"""user_levels: platform, identity, users, connected accounts, settings, vehicles, levels."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from sitegate import accounts, levels, policy, tenant_settings, tenants, users, vehicles
from sitegate import dashboard as dashboards
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
    Dashboard,
    Health,
    LevelCatalog,
    Me,
    NotificationPreferencesOut,
    SettingOut,
    UserOut,
    UserPage,
    VehiclePage,
)
from sitegate.models.stored import AccountKind, UserStatus

logger = Logger()
metrics = Metrics()
app = build_resolver()

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
Created = tuple[dict[str, Any], int]


# ------------------------------------------------------------- platform
@app.get("/health")
def health() -> Health:
    return Health(status="ok")


@app.post("/tenants")
def create_tenant(body: Annotated[TenantCreate, Body()]) -> Created:
    caller = current_caller(app)
    policy.require(policy.decide(caller, "tenant.create"))
    return idempotent_create(app, caller, "POST /tenants", body,
                             lambda once: tenants.create_tenant(body, caller.user.user_id, once))


@app.get("/me")
def me() -> Me:
    return levels.me(current_caller(app))


@app.patch("/me")
def update_me(body: Annotated[MeUpdate, Body()]) -> UserOut:
    return users.update_me(current_caller(app), body)


@app.put("/me/notification-preferences")
def notification_preferences(body: Annotated[NotificationPreferencesUpdate, Body()]) -> NotificationPreferencesOut:
    return users.set_notification_preferences(current_caller(app), body)


@app.get("/levels")
def level_catalog() -> LevelCatalog:
    current_caller(app)  # any active user
    return levels.catalog()


# ---------------------------------------------------------------- users
@app.post("/users")
def create_user(body: Annotated[UserCreate, Body()]) -> Created:
    caller = current_caller(app)
    return idempotent_create(app, caller, "POST /users", body, lambda once: users.create_user(caller, body, once))


@app.get("/users")
def list_users(account_id: Annotated[str | None, Query(max_length=64)] = None,
               status: Annotated[UserStatus | None, Query()] = None,
               limit: Limit = 50, cursor: Cursor = None) -> UserPage:
    return users.list_users(current_caller(app), account_id, status, limit, cursor)


@app.get("/users/<user_id>")
def get_user(user_id: str) -> UserOut:
    return users.get_user(current_caller(app), user_id)


@app.patch("/users/<user_id>")
def update_user(user_id: str, body: Annotated[UserUpdate, Body()]) -> UserOut:
    return users.update_user(current_caller(app), user_id, body)


@app.post("/users/<user_id>/disable")
def disable_user(user_id: str) -> UserOut:
    return users.disable_user(current_caller(app), user_id)


@app.post("/users/<user_id>/enable")
def enable_user(user_id: str) -> UserOut:
    return users.enable_user(current_caller(app), user_id)


@app.post("/users/<user_id>/reset-password")
def reset_password(user_id: str) -> UserOut:
    return users.reset_password(current_caller(app), user_id)


@app.delete("/users/<user_id>")
def delete_user(user_id: str) -> Response[None]:
    users.delete_user(current_caller(app), user_id)
    return Response(status_code=204)


# ------------------------------------------------------------- accounts
@app.post("/accounts")
def create_account(body: Annotated[AccountCreate, Body()]) -> Created:
    caller = current_caller(app)
    return idempotent_create(app, caller, "POST /accounts", body,
                             lambda once: accounts.create_account(caller, body, once))


@app.get("/accounts")
def list_accounts(kind: Annotated[AccountKind | None, Query()] = None, limit: Limit = 50,
                  cursor: Cursor = None) -> AccountPage:
    return accounts.list_accounts(current_caller(app), kind, limit, cursor)


@app.get("/accounts/<account_id>")
def get_account(account_id: str) -> AccountOut:
    return accounts.get_account(current_caller(app), account_id)


@app.patch("/accounts/<account_id>")
def update_account(account_id: str, body: Annotated[AccountUpdate, Body()]) -> AccountOut:
    return accounts.update_account(current_caller(app), account_id, body)


@app.post("/accounts/<account_id>/archive")
def archive_account(account_id: str) -> AccountOut:
    return accounts.archive_account(current_caller(app), account_id)


# ---------------------------------------------------- settings, resources
@app.get("/settings")
def get_settings() -> dict[str, Any]:
    return tenant_settings.get_settings(current_caller(app))


@app.put("/settings/<key>")
def put_setting(key: str, body: Annotated[SettingUpdate, Body()]) -> SettingOut:
    return tenant_settings.put_setting(current_caller(app), key, body.value)


@app.get("/dashboard")
def dashboard() -> Dashboard:
    return dashboards.dashboard(current_caller(app))


@app.get("/vehicles")
def list_vehicles(limit: Limit = 50, cursor: Cursor = None) -> VehiclePage:
    return vehicles.list_vehicles(current_caller(app), limit, cursor)


@app.post("/vehicles")
def create_vehicle(body: Annotated[VehicleCreate, Body()]) -> Created:
    caller = current_caller(app)
    return idempotent_create(app, caller, "POST /vehicles", body,
                             lambda once: vehicles.create_vehicle(caller, body, once))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
