"""Vehicles: the tenant's resources (the staff capability table), registration unique per tenant."""

from __future__ import annotations

from sitegate import audit, clock, ids, policy
from sitegate.data import core, vehicle_store
from sitegate.data.idempotency import Idempotency, create_once
from sitegate.models.requests import VehicleCreate
from sitegate.models.responses import VehicleOut, VehiclePage
from sitegate.models.stored import RegistrationMarker, Vehicle
from sitegate.policy import Caller


def list_vehicles(caller: Caller, limit: int, cursor: str | None) -> VehiclePage:
    policy.require(policy.decide(caller, "resources.view"))
    page = vehicle_store.vehicles_page(caller.user.tenant_id, limit, cursor)
    return VehiclePage(items=[VehicleOut.of(v) for v in page.items], next_cursor=page.next_cursor)


def create_vehicle(caller: Caller, request: VehicleCreate, idempotency: Idempotency | None) -> VehicleOut:
    policy.require(policy.decide(caller, "resources.edit"))
    vehicle = Vehicle(tenant_id=caller.user.tenant_id, vehicle_id=ids.new_id(), name=request.name,
                      registration=request.registration, created_at=clock.now_iso())
    out = VehicleOut.of(vehicle)
    creates = [core.Create(vehicle, "vehicle already exists"),
               core.Create(RegistrationMarker.of(vehicle),
                            f"a vehicle with registration {vehicle.registration} already exists")]
    create_once([*creates, audit.change("vehicle.create", None, vehicle)], out, idempotency)
    return out
