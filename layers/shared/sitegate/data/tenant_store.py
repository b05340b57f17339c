"""Tenants and their settings."""

from __future__ import annotations

import json
from typing import Any

from sitegate import keys
from sitegate.data import core
from sitegate.models.stored import Setting, Tenant


def get_tenant(tenant_id: str) -> Tenant | None:
    """Table key `T#t#TENANT` / `TENANT` (eventually consistent: a tenant changes rarely)."""
    return core.get_item(Tenant, keys.tenant(tenant_id), consistent=False)


def tenants_page(limit: int, cursor: str | None) -> core.Page[Tenant]:
    """Every tenant, by id: GSI1 `T#platform#TENANTS` (jobs that run per tenant page through it)."""
    return core.query_page(Tenant, keys.tenants_list(), index="GSI1", limit=limit, cursor=cursor)


def setting_of(item: dict[str, Any] | None) -> Setting | None:
    """A setting item as stored (its value is JSON text, so any JSON value keeps its type)."""
    return None if item is None else Setting.model_validate({**item, "value": json.loads(item["value"])})


def settings(tenant_id: str) -> list[Setting]:
    """Every stored setting of a tenant: table partition `T#t#SETTINGS`, sort prefix `SETTING#`."""
    found = (setting_of(item) for item in core.query_all_items(keys.tenant_settings(tenant_id), keys.SETTING_PREFIX))
    return [s for s in found if s is not None]


def get_setting(tenant_id: str, key: str) -> Setting | None:
    """One setting: table key `T#t#SETTINGS` / `SETTING#{key}` (one GetItem)."""
    return setting_of(core.get_raw(keys.setting(tenant_id, key), ConsistentRead=True))


def setting_value(tenant_id: str, key: str) -> Any:
    """One setting's value, or None."""
    setting = get_setting(tenant_id, key)
    return None if setting is None else setting.value


def put_setting(setting: Setting, entry: core.Create) -> None:
    """Write one setting, last write wins, with its audit entry: table key `T#t#SETTINGS` / `SETTING#{key}`."""
    core.write(creates=[core.Upsert(setting), entry])

