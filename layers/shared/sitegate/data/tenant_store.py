"""Tenants and their settings."""

from __future__ import annotations

import json

from sitegate import keys
from sitegate.data import core
from sitegate.models.stored import Setting, Tenant


def get_tenant(tenant_id: str) -> Tenant | None:
    """Table key `T#t#TENANT` / `TENANT` (eventually consistent: a tenant changes rarely)."""
    return core.get_item(Tenant, keys.tenant(tenant_id), consistent=False)


def tenants_page(limit: int, cursor: str | None) -> core.Page[Tenant]:
    """Every tenant, by id: GSI1 `T#platform#TENANTS` (jobs that run per tenant page through it)."""
    return core.query_page(Tenant, keys.tenants_list(), index="GSI1", limit=limit, cursor=cursor)


def settings(tenant_id: str) -> list[Setting]:
    """Every stored setting of a tenant: table partition `T#t#SETTINGS`, sort prefix `SETTING#`."""
    return [Setting.model_validate({**item, "value": json.loads(item["value"])})
            for item in core.query_all_items(keys.tenant_settings(tenant_id), keys.SETTING_PREFIX)]


def put_setting(setting: Setting) -> None:
    """Write one setting, last write wins: table key `T#t#SETTINGS` / `SETTING#{key}`."""
    core.put(setting)

