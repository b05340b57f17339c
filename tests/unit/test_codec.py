"""The codec gives every stored model its keys, and the sparse indexes hold an item only in the
state they list. No raw item or table key leaves the data layer."""

from __future__ import annotations

import ast
import inspect
import pathlib

import pytest

from sitegate import keys
from sitegate.data import codec
from sitegate.models import stored
from sitegate.models.stored import (
    CustomerCodeMarker,
    Delivery,
    JobRequest,
    Setting,
    Ticket,
    UserHistory,
)

LAYER = pathlib.Path(stored.__file__).parents[1]
# Stored types that are parts of other items (nested in them), never items of their own.
NESTED = {"Stored", "Marker", "NotificationPreferences", "AlertRecipient", "InvoiceLineStored", "InvoiceUser",
          "TaxParty", "CreditLine"}


def _ticket(status: str, eta: str | None) -> Ticket:
    return Ticket(tenant_id="acme", job_id="j1", ticket_id="k1", ticket_number="7", material="concrete",
                  quantity="6", unit="m3", truck="T1", status=status, eta=eta, created_at="2026-12-01T00:00:00+00:00")


def _delivery(status: str) -> Delivery:
    return Delivery.model_validate({
        "tenant_id": "acme", "job_id": "j1", "delivery_id": "d1", "for_account_id": "a1", "company_name": "Spark",
        "location_id": "l1", "location_name": "Gate 1", "approvals": {"gc": "pending"},
        "start": "2026-12-07T20:00:00+00:00", "end": "2026-12-07T21:00:00+00:00", "status": status,
        "requested_by": "u1", "requested_at": "2026-12-01T00:00:00+00:00"})


def _request(status: str) -> JobRequest:
    return JobRequest(tenant_id="acme", job_id="j1", request_id="r1", account_id="a1", requested_by="u1",
                      title="t", description="d", status=status, created_at="2026-12-01T00:00:00+00:00",
                      updated_at="2026-12-01T00:00:00+00:00")


def test_every_stored_entity_has_its_keys_in_the_codec():
    entities = {cls for name, cls in inspect.getmembers(stored, inspect.isclass)
                if issubclass(cls, stored.Stored) and cls.__module__ == stored.__name__ and name not in NESTED}
    missing = sorted(cls.__name__ for cls in entities if cls not in codec._KEYS)
    assert missing == []


def test_a_ticket_is_on_the_en_route_index_only_while_en_route():
    assert "GSI2PK" not in codec.item_of(_ticket("loaded", None))
    assert "GSI2PK" not in codec.item_of(_ticket("unloaded", "2026-12-07T09:00:00+13:00"))
    item = codec.item_of(_ticket("en_route", "2026-12-07T09:00:00+13:00"))
    assert item["GSI2PK"] == keys.en_route_tickets("acme", "j1")
    assert item["GSI2SK"] == "2026-12-06T20:00:00+00:00#k1"  # the instant in UTC, whatever the offset given


def test_en_route_tickets_sort_by_instant_across_offsets():
    early = codec.item_of(_ticket("en_route", "2026-12-07T09:30:00+13:00"))  # 20:30 UTC
    late = codec.item_of(_ticket("en_route", "2026-12-06T21:00:00+00:00"))
    assert early["GSI2SK"] < late["GSI2SK"]


@pytest.mark.parametrize(("status", "listed"), [("pending", True), ("approved", False), ("cancelled", False)])
def test_a_delivery_is_on_the_pending_list_only_while_pending(status, listed):
    item = codec.item_of(_delivery(status))
    assert (item.get("GSI2PK") == keys.pending_deliveries("acme")) is listed
    assert item["GSI1PK"] == keys.job_deliveries("acme", "j1")


@pytest.mark.parametrize(("status", "listed"), [("open", True), ("accepted", False), ("declined", False)])
def test_a_job_request_is_on_the_open_list_only_while_open(status, listed):
    item = codec.item_of(_request(status))
    assert (item.get("GSI2PK") == keys.open_requests("acme")) is listed
    assert item["GSI1SK"].startswith(keys.requests_of_account("a1"))


def test_the_key_of_a_model_is_its_table_key_alone():
    entry = UserHistory(tenant_id="acme", user_id="u1", at="2026-12-01T00:00:00+00:00", status="active",
                        level="basic_user", changed_by="u0", version=3)
    assert codec.key_of(entry) == {k: v for k, v in keys.user_history("acme", "u1", entry.at, "00000003").items()
                                   if k in ("PK", "SK")}


def test_items_keep_their_entity_names():
    marker = CustomerCodeMarker(tenant_id="acme", code="C1", account_id="a1")
    assert codec.item_of(marker)["entity"] == "CustomerCode"
    assert codec.item_of(_request("open"))["entity"] == "JobRequest"


def test_a_setting_value_is_stored_as_json_text():
    item = codec.item_of(Setting(tenant_id="acme", key="k", value={"a": [1, 2.5, None]}, updated_at="x", updated_by="u"))
    assert item["value"] == '{"a": [1, 2.5, null]}'


def _logic_modules() -> list[pathlib.Path]:
    return [p for p in LAYER.rglob("*.py") if "data" not in p.relative_to(LAYER).parts[:1]]


@pytest.mark.parametrize("path", _logic_modules(), ids=lambda p: str(p.relative_to(LAYER)))
def test_no_table_key_or_boto3_outside_the_data_layer(path):
    tree = ast.parse(path.read_text())
    imported = {n.name for node in ast.walk(tree) if isinstance(node, ast.Import) for n in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {m for m in imported if m.split(".")[0] in ("boto3", "botocore")}
    if path.name == "keys.py":
        return
    key_names = {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"}
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert not strings & key_names
