"""user_levels handlers with the events/ samples against moto tables built from template.yaml."""

import os
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from sitegate import keys
from sitegate.data import core
from tests.integration.conftest import Identity, call, pool_usernames, table_items

NEW_TENANT = {"name": "Beta Civil", "admin_email": "Bo@Beta.example", "admin_name": "Bo Boss"}


def _set_user(who: Identity, **changes: Any) -> None:


    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    names = {f"#{k}": k for k in changes}
    values = {f":{k}": v for k, v in changes.items()}
    table.update_item(Key=keys.user(who.tenant_id, who.user_id),
                      UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in changes),
                      ExpressionAttributeNames=names, ExpressionAttributeValues=values)


def test_health_needs_no_identity(resources):
    # When
    reply = call("user_levels", "get_health.json", None)
    # Then
    assert (reply.status, reply.body) == (200, {"status": "ok"})


def test_operator_creates_tenant_with_owner_account_and_master_super_admin(operator):
    # When
    reply = call("user_levels", "post_tenants.json", operator, body=NEW_TENANT)
    # Then
    assert reply.status == 201
    created = Identity(reply.body["tenant_id"], reply.body["admin_user_id"], reply.body["owner_account_id"])
    me = call("user_levels", "get_me.json", created)
    assert me.status == 200
    assert me.body["level"] == "super_admin"
    assert me.body["user"]["email"] == "bo@beta.example"
    assert me.body["user"]["is_master"] is True
    assert me.body["account"]["kind"] == "owner"
    assert me.body["account"]["name"] == "Beta Civil"
    assert "user.delete" in me.body["capabilities"]
    assert created.user_id in pool_usernames()


def test_new_tenant_records_first_history_entry_for_billing(operator):
    # When
    reply = call("user_levels", "post_tenants.json", operator, body=NEW_TENANT)
    # Then
    history = [i for i in table_items() if i["entity"] == "UserHistory"]
    assert [(h["user_id"], h["status"], h["level"]) for h in history] == [
        (reply.body["admin_user_id"], "active", "super_admin")]


def test_only_platform_operators_create_tenants(super_admin):
    # Given
    before = len(table_items())
    # When
    reply = call("user_levels", "post_tenants.json", super_admin, body=NEW_TENANT)
    # Then
    assert reply.status == 403
    assert "tenant.create" in reply.body["message"]
    assert len(table_items()) == before


@pytest.mark.parametrize(("body", "fields"), [
    ({**NEW_TENANT, "admin_email": "not-an-email"}, {"admin_email"}),
    ({**NEW_TENANT, "name": ""}, {"name"}),
    ({**NEW_TENANT, "timezone": "Mars/Olympus"}, {"timezone"}),
    ({**NEW_TENANT, "currency": "dollars"}, {"currency"}),
    ({**NEW_TENANT, "tenant_id": "chosen-by-client"}, {"tenant_id"}),
    ({"name": "No admin"}, {"admin_email", "admin_name"}),
    ("{not json", {"body"}),
])
def test_bad_tenant_body_is_422_naming_fields_and_changes_nothing(operator, body, fields):
    # Given
    before, users_before = len(table_items()), pool_usernames()
    # When
    reply = call("user_levels", "post_tenants.json", operator, body=body, headers={"idempotency-key": ""})
    # Then
    assert reply.status == 422
    assert {e["field"] for e in reply.body["errors"]} == fields
    assert "Traceback" not in reply.body["message"]
    assert len(table_items()) == before
    assert pool_usernames() == users_before


def test_repeated_idempotency_key_returns_first_response_and_creates_once(operator):
    # Given
    first = call("user_levels", "post_tenants.json", operator, body=NEW_TENANT, headers={"idempotency-key": "k-1"})
    count = len(table_items())
    # When
    again = call("user_levels", "post_tenants.json", operator, body=NEW_TENANT, headers={"idempotency-key": "k-1"})
    # Then
    assert (again.status, again.body) == (201, first.body)
    assert len(table_items()) == count


def test_idempotency_key_reused_with_other_body_is_conflict(operator):
    # Given
    call("user_levels", "post_tenants.json", operator, body=NEW_TENANT, headers={"idempotency-key": "k-2"})
    # When
    reply = call("user_levels", "post_tenants.json", operator, body={**NEW_TENANT, "name": "Other"},
                 headers={"idempotency-key": "k-2"})
    # Then
    assert reply.status == 409


def test_concurrent_repeat_that_loses_the_race_replays_the_winner(operator, monkeypatch):
    # Given: the first request has written its marker after this one looked for it
    winner = call("user_levels", "post_tenants.json", operator, body=NEW_TENANT, headers={"idempotency-key": "k-3"})
    from sitegate import http  # here, not at import: its child logger needs the function's logger first

    real_find = http.find_idempotent_response
    calls = []

    def find_late(*args):
        calls.append(args)
        return None if len(calls) == 1 else real_find(*args)

    monkeypatch.setattr(http, "find_idempotent_response", find_late)
    tenants_before = [i for i in table_items() if i["entity"] == "Tenant"]
    # When
    loser = call("user_levels", "post_tenants.json", operator, body=NEW_TENANT, headers={"idempotency-key": "k-3"})
    # Then
    assert (loser.status, loser.body) == (201, winner.body)
    assert [i for i in table_items() if i["entity"] == "Tenant"] == tenants_before
    assert pool_usernames() == {operator.user_id, winner.body["admin_user_id"]}


def test_failed_write_removes_the_new_identity(operator, monkeypatch):
    # Given
    def failing(*args, **kwargs):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems")

    monkeypatch.setattr(core, "write", failing)
    users_before = pool_usernames()
    # When
    with pytest.raises(ClientError):
        call("user_levels", "post_tenants.json", operator, body=NEW_TENANT)
    # Then
    assert pool_usernames() == users_before


@pytest.mark.parametrize("status", ["disabled", "deleted"])
def test_inactive_user_is_refused_on_next_request(super_admin, status):
    # Given
    _set_user(super_admin, status=status)
    # When
    reply = call("user_levels", "get_me.json", super_admin)
    # Then
    assert reply.status == 403
    assert status in reply.body["message"]


def test_identity_without_sitegate_user_is_refused(super_admin):
    # When
    reply = call("user_levels", "get_me.json", Identity(super_admin.tenant_id, "nobody", super_admin.account_id))
    # Then
    assert reply.status == 403


def test_token_of_one_tenant_cannot_reach_user_of_another(super_admin, operator):
    # Given: a real user id, claimed under another tenant
    other = call("user_levels", "post_tenants.json", operator, body=NEW_TENANT,
                 headers={"idempotency-key": "beta"}).body
    # When
    reply = call("user_levels", "get_me.json", Identity(other["tenant_id"], super_admin.user_id, super_admin.account_id))
    # Then
    assert reply.status == 403


def test_levels_catalog_lists_every_level_with_tier(super_admin):
    # When
    reply = call("user_levels", "get_levels.json", super_admin)
    # Then
    assert reply.status == 200
    tiers = {level["level"]: level["billing_tier"] for level in reply.body["staff"]}
    assert tiers == {"view_user": "field", "basic_user": "field", "basic_user_plus": "field",
                     "tmp_designer": "office", "tmp_designer_plus": "office", "operations_user": "office",
                     "invoicing": "office", "super_admin": "office"}
    assert [level["level"] for level in reply.body["account"]] == ["administrator", "manager", "basic"]
    assert reply.body["access_types"]["limited"] == ["tickets.view"]


# --- settings values are JSON that can be stored ---------------------------------
@pytest.mark.parametrize("raw", ['{"value": NaN}', '{"value": Infinity}', '{"value": {"rows": [1, -Infinity]}}'])
def test_setting_values_that_are_not_json_are_422_naming_value(super_admin, raw):
    # When
    reply = call("user_levels", "put_setting.json", super_admin, path={"key": "job_booking_fields"}, body=raw)
    # Then
    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == ["value"]
    assert call("user_levels", "get_settings.json", super_admin).body["job_booking_fields"] is None


def test_oversize_setting_value_is_422_naming_value(super_admin):
    # Given: about 500 KB of JSON, more than one item holds
    big = {"value": ["x" * 1000] * 500}
    # When
    reply = call("user_levels", "put_setting.json", super_admin, path={"key": "tmp_library"}, body=big)
    # Then
    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == ["value"]


def test_setting_value_at_the_limit_is_kept(super_admin):
    # Given: 64 KB of compact JSON exactly
    from sitegate.models.requests import SETTING_VALUE_LIMIT

    value = "x" * (SETTING_VALUE_LIMIT - 2)
    # When
    reply = call("user_levels", "put_setting.json", super_admin, path={"key": "tmp_library"}, body={"value": value})
    # Then
    assert reply.status == 200, reply.body
    assert call("user_levels", "get_settings.json", super_admin).body["tmp_library"] == value


# --- registrations ----------------------------------------------------------------
@pytest.mark.parametrize("twin", ["QQ12", "qq 12", "Q Q-1 2"])
def test_registrations_are_unique_whatever_the_case_spaces_and_hyphens(super_admin, twin):
    # Given
    first = call("user_levels", "post_vehicles.json", super_admin, body={"name": "Truck 1", "registration": "QQ 12"})
    assert first.status == 201
    # When
    reply = call("user_levels", "post_vehicles.json", super_admin, body={"name": "Truck 2", "registration": twin})
    # Then
    assert reply.status == 409
    assert first.body["registration"] == "QQ 12"  # shown as typed, in upper case


@pytest.mark.parametrize("registration", ["-", "  ", "- -"])
def test_registration_without_letters_or_digits_is_422(super_admin, registration):
    reply = call("user_levels", "post_vehicles.json", super_admin, body={"name": "Truck", "registration": registration})
    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == ["registration"]
