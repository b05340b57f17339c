"""Vehicles of a tenant and their registration markers."""

from __future__ import annotations

from sitegate import keys
from sitegate.data import core
from sitegate.models.stored import Vehicle


def vehicles_page(tenant_id: str, limit: int, cursor: str | None) -> core.Page[Vehicle]:
    """Vehicles of a tenant: table partition `T#t#VEHICLES`."""
    return core.query_page(Vehicle, keys.vehicles(tenant_id), limit=limit, cursor=cursor)
