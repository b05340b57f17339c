"""Users and accounts through the user_levels handler: the record, the Cognito
identity and the dated history stay in step."""

import os
from datetime import UTC, datetime

import boto3
import pytest

from sitegate import clock
from tests.integration.conftest import Identity, call, pool_usernames, table_items


def _cognito_user(user_id: str) -> dict:
    return boto3.client("cognito-idp").admin_get_user(UserPoolId=os.environ["USER_POOL_ID"], Username=user_id)


def _at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 9, day, hour, tzinfo=UTC)


def _add(admin: Identity, **body) -> dict:
    reply = call("user_levels", "post_users.json", admin, body={"email": "sam@acme.example", "name": "Sam",
                                                                 "level": "basic_user", **body},
                 headers={"idempotency-key": ""})
    assert reply.status == 201, reply.body
    return reply.body


def test_every_status_and_level_change_is_dated_history_from_the_clock(super_admin):
    # Given
    clock.freeze(_at(1))
    sam = _add(super_admin)
    user = {"user_id": sam["user_id"]}
    # When
    clock.freeze(_at(5))
    call("user_levels", "patch_user.json", super_admin, path=user, body={"level": "tmp_designer"})
    clock.freeze(_at(10))
    call("user_levels", "patch_user.json", super_admin, path=user, body={"name": "Samuel"})  # not history
    clock.freeze(_at(12))
    call("user_levels", "post_user_disable.json", super_admin, path=user)
    clock.freeze(_at(20))
    call("user_levels", "post_user_enable.json", super_admin, path=user)
    clock.freeze(_at(28))
    call("user_levels", "delete_user.json", super_admin, path=user)
    # Then
    history = sorted((i["at"], i["status"], i["level"]) for i in table_items()
                     if i["entity"] == "UserHistory" and i["user_id"] == sam["user_id"])
    assert history == [
        ("2026-09-01T09:00:00+00:00", "active", "basic_user"),
        ("2026-09-05T09:00:00+00:00", "active", "tmp_designer"),
        ("2026-09-12T09:00:00+00:00", "disabled", "tmp_designer"),
        ("2026-09-20T09:00:00+00:00", "active", "tmp_designer"),
        ("2026-09-28T09:00:00+00:00", "deleted", "tmp_designer"),
    ]


def test_create_invites_the_identity_with_tenant_and_account(super_admin):
    # When
    sam = _add(super_admin)
    # Then
    attributes = {a["Name"]: a["Value"] for a in _cognito_user(sam["user_id"])["UserAttributes"]}
    assert attributes["email"] == "sam@acme.example"
    assert attributes["custom:tenant_id"] == super_admin.tenant_id
    assert attributes["custom:account_id"] == super_admin.account_id


def test_disable_blocks_the_identity_and_enable_restores_it(super_admin):
    # Given
    sam = _add(super_admin)
    path = {"user_id": sam["user_id"]}
    # When
    disabled = call("user_levels", "post_user_disable.json", super_admin, path=path)
    # Then
    assert disabled.body["status"] == "disabled"
    assert _cognito_user(sam["user_id"])["Enabled"] is False
    # And a repeat is harmless
    assert call("user_levels", "post_user_disable.json", super_admin, path=path).status == 200
    assert call("user_levels", "post_user_enable.json", super_admin, path=path).body["status"] == "active"
    assert _cognito_user(sam["user_id"])["Enabled"] is True


def test_delete_removes_the_identity_and_keeps_the_record(super_admin):
    # Given
    sam = _add(super_admin)
    # When
    reply = call("user_levels", "delete_user.json", super_admin, path={"user_id": sam["user_id"]})
    # Then
    assert reply.status == 204
    assert sam["user_id"] not in pool_usernames()
    kept = call("user_levels", "get_user.json", super_admin, path={"user_id": sam["user_id"]})
    assert kept.body["status"] == "deleted"
    assert call("user_levels", "patch_user.json", super_admin, path={"user_id": sam["user_id"]},
                body={"name": "Zombie"}).status == 409


def test_reset_password_of_an_invited_user_resends_the_invitation(super_admin):
    sam = _add(super_admin)
    reply = call("user_levels", "post_user_reset_password.json", super_admin, path={"user_id": sam["user_id"]})
    assert reply.status == 200
    assert _cognito_user(sam["user_id"])["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_failed_user_write_removes_the_new_identity(super_admin):
    # Given: the email is taken, so the transaction is refused after the identity was made
    _add(super_admin)
    before = pool_usernames()
    # When
    reply = call("user_levels", "post_users.json", super_admin, body={"email": "SAM@acme.example", "name": "Twin",
                                                                       "level": "view_user"},
                 headers={"idempotency-key": ""})
    # Then
    assert reply.status == 409
    assert pool_usernames() == before


def test_stale_write_is_refused_not_lost(super_admin, monkeypatch):
    # Given: someone else changes the user between our read and our write
    from sitegate.data import user_store

    sam = _add(super_admin)
    real_get = user_store.get_user_and_account

    def read_then_race(tenant_id, user_id):
        found = real_get(tenant_id, user_id)
        monkeypatch.setattr(user_store, "get_user_and_account", real_get)
        call("user_levels", "patch_user.json", super_admin, path={"user_id": user_id}, body={"name": "First"})
        return found

    monkeypatch.setattr(user_store, "get_user_and_account", read_then_race)
    # When
    reply = call("user_levels", "patch_user.json", super_admin, path={"user_id": sam["user_id"]}, body={"name": "Second"})
    # Then
    assert reply.status == 409
    assert call("user_levels", "get_user.json", super_admin, path={"user_id": sam["user_id"]}).body["name"] == "First"


def test_account_with_admin_and_codes_is_one_transaction(super_admin):
    # When
    reply = call("user_levels", "post_accounts.json", super_admin)
    # Then
    assert reply.status == 201
    entities = sorted(i["entity"] for i in table_items() if i.get("account_id") == reply.body["account_id"])
    assert entities == ["Account", "CustomerCode", "User"]


def test_customer_code_moves_with_edit(super_admin):
    # Given
    account = call("user_levels", "post_accounts.json", super_admin).body
    path = {"account_id": account["account_id"]}
    # When
    call("user_levels", "patch_account.json", super_admin, path=path, body={"customer_codes": ["FH02"]})
    # Then
    codes = sorted(i["PK"].rsplit("#", 1)[1] for i in table_items() if i["entity"] == "CustomerCode")
    assert codes == ["FH02"]


@pytest.mark.parametrize(("query", "expected"), [({"status": "active"}, 2), ({"status": "disabled"}, 1), ({}, 3)])
def test_list_users_by_status_from_the_key(super_admin, query, expected):
    # Given
    sam = _add(super_admin)
    _add(super_admin, email="kim@acme.example", name="Kim")
    call("user_levels", "post_user_disable.json", super_admin, path={"user_id": sam["user_id"]})
    # When
    reply = call("user_levels", "get_users.json", super_admin, query={**query, "account_id": super_admin.account_id})
    # Then: the Super Admin itself, Kim, and the disabled Sam
    assert len(reply.body["items"]) == expected


def test_list_users_pages_with_a_cursor(super_admin):
    # Given
    for n in range(4):
        _add(super_admin, email=f"u{n}@acme.example", name=f"User {n}")
    # When
    first = call("user_levels", "get_users.json", super_admin, query={"limit": "3"})
    second = call("user_levels", "get_users.json", super_admin, query={"limit": "3", "cursor": first.body["next_cursor"]})
    # Then
    names = [u["name"] for u in first.body["items"] + second.body["items"]]
    assert len(names) == len(set(names)) == 5
    assert second.body["next_cursor"] is None


def test_forged_cursor_is_422(super_admin):
    reply = call("user_levels", "get_users.json", super_admin, query={"cursor": "bm90LWpzb24"})
    assert reply.status == 422


# --- PATCH /me: users set their own name and phone --------------------------------
def _me(super_admin: Identity, **body) -> Identity:
    user = _add(super_admin, **body)
    return Identity(super_admin.tenant_id, user["user_id"], super_admin.account_id)


def test_basic_user_sets_its_own_phone_and_can_then_turn_sms_on(super_admin):
    # Given: a basic user without a phone, who may not edit users
    sam = _me(super_admin)
    refused = call("user_levels", "put_notification_preferences.json", sam, body={"email": True, "sms": True})
    assert refused.status == 422
    # When
    reply = call("user_levels", "patch_me.json", sam, body={"phone": "+64211234567", "name": "Sam Smith"})
    # Then
    assert reply.status == 200, reply.body
    assert (reply.body["user_id"], reply.body["phone"], reply.body["name"]) == (sam.user_id, "+64211234567", "Sam Smith")
    assert call("user_levels", "put_notification_preferences.json", sam,
                body={"email": True, "sms": True}).body == {"email": True, "sms": True}


def test_clearing_ones_phone_turns_sms_off(super_admin):
    # Given: SMS on
    sam = _me(super_admin, phone="+64211234567")
    call("user_levels", "put_notification_preferences.json", sam, body={"email": True, "sms": True})
    # When
    reply = call("user_levels", "patch_me.json", sam, body={"phone": None})
    # Then
    assert reply.status == 200
    assert reply.body["phone"] is None
    assert reply.body["notifications"] == {"email": True, "sms": False}


@pytest.mark.parametrize(("body", "field"), [
    ({"phone": "021 123 4567"}, "phone"),
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"level": "super_admin"}, "level"),
    ({"job_ids": []}, "job_ids"),
])
def test_patch_me_changes_only_a_valid_name_and_phone(super_admin, body, field):
    # Given
    sam = _me(super_admin)
    # When
    reply = call("user_levels", "patch_me.json", sam, body=body)
    # Then
    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == [field]
    me = call("user_levels", "get_me.json", sam).body
    assert (me["level"], me["user"]["name"]) == ("basic_user", "Sam")


# --- job ids of deleted jobs ------------------------------------------------------
def _job(super_admin: Identity, number: str) -> str:
    reply = call("job_access", "post_jobs.json", super_admin, body={"job_number": number, "name": f"Job {number}"})
    assert reply.status == 201, reply.body
    return reply.body["job_id"]


def _vanish(super_admin: Identity, job_id: str) -> None:
    """The job is gone (deleted by any path), its id still on users."""
    from sitegate import keys

    boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]).delete_item(Key=keys.job(super_admin.tenant_id, job_id))


def test_a_deleted_jobs_id_never_blocks_a_later_change_and_is_dropped(super_admin):
    # Given: a designer allocated to two jobs, one of which is then deleted
    gone, kept, new = _job(super_admin, "100"), _job(super_admin, "200"), _job(super_admin, "300")
    sam = _add(super_admin, level="tmp_designer", job_ids=[gone, kept])
    _vanish(super_admin, gone)
    path = {"user_id": sam["user_id"]}
    # When: the client sends back the ids it was shown, plus a new one
    reply = call("user_levels", "patch_user.json", super_admin, path=path, body={"job_ids": [gone, kept, new]})
    # Then
    assert reply.status == 200, reply.body
    assert reply.body["job_ids"] == [kept, new]
    # And a level change is not refused for the stale id either
    assert call("user_levels", "patch_user.json", super_admin, path=path,
                body={"level": "basic_user"}).status == 200


def test_a_job_id_being_added_must_exist(super_admin):
    # Given
    kept = _job(super_admin, "200")
    sam = _add(super_admin, level="tmp_designer", job_ids=[kept])
    # When
    reply = call("user_levels", "patch_user.json", super_admin, path={"user_id": sam["user_id"]},
                 body={"job_ids": [kept, "no-such-job"]})
    # Then
    assert reply.status == 422
    assert reply.body["errors"] == [{"field": "job_ids", "message": "not a job of this account: no-such-job"}]
