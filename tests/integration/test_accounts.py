"""Connected accounts through the user_levels handler: creates, customer codes and guests."""

import pytest

from tests.integration.conftest import Identity, call, pool_usernames, table_items

CUSTOMER = {"kind": "customer", "name": "Fulton Hogan", "customer_codes": ["FH01"],
            "admin": {"email": "pat@fulton.example", "name": "Pat Master"}}


def _account(admin: Identity, **body) -> dict:
    reply = call("user_levels", "post_accounts.json", admin, body={**CUSTOMER, **body})
    assert reply.status == 201, reply.body
    return reply.body


def test_failed_account_write_removes_its_new_administrators_identity(super_admin):
    # Given: the customer code is taken, so the transaction is refused after the identity was made
    _account(super_admin)
    before = pool_usernames()
    # When
    reply = call("user_levels", "post_accounts.json", super_admin,
                 body={**CUSTOMER, "name": "Twin", "admin": {"email": "twin@fulton.example", "name": "Twin"}})
    # Then
    assert reply.status == 409
    assert pool_usernames() == before
    assert not [i for i in table_items() if i.get("email") == "twin@fulton.example"]


def test_account_created_with_its_master_administrator(super_admin):
    # When
    account = _account(super_admin)
    # Then
    admins = [i for i in table_items() if i["entity"] == "User" and i["account_id"] == account["account_id"]]
    assert [(a["email"], a["level"], a["is_master"]) for a in admins] == [("pat@fulton.example", "administrator", True)]
    assert admins[0]["user_id"] in pool_usernames()


def _sponsored_guest(super_admin: Identity) -> tuple[Identity, Identity]:
    """A customer's administrator, and the master administrator of a guest contractor it created."""
    customer = _account(super_admin)
    sponsor = Identity(super_admin.tenant_id, _user_id("pat@fulton.example"), customer["account_id"])
    reply = call("user_levels", "post_accounts.json", sponsor, body={
        "kind": "guest_contractor", "name": "Sparky Ltd", "admin": {"email": "gus@sparky.example", "name": "Gus"}})
    assert reply.status == 201, reply.body
    guest = Identity(super_admin.tenant_id, _user_id("gus@sparky.example"), reply.body["account_id"])
    return sponsor, guest


def _user_id(email: str) -> str:
    return next(i["user_id"] for i in table_items() if i["entity"] == "User" and i["email"] == email)


def test_guests_do_not_sponsor_guests(super_admin):
    # Given: a guest contractor's master administrator
    _, guest = _sponsored_guest(super_admin)
    before = len(table_items())
    # When
    reply = call("user_levels", "post_accounts.json", guest, body={
        "kind": "guest_contractor", "name": "Sub-guest", "admin": {"email": "sub@guest.example", "name": "Sub"}})
    # Then
    assert reply.status == 403
    assert reply.body["rule"] == "guests-sponsor-no-guests"
    assert len(table_items()) == before


def test_sponsor_lists_its_own_account_and_its_guests_and_the_guest_only_itself(super_admin):
    # Given
    sponsor, guest = _sponsored_guest(super_admin)
    # When
    seen_by_sponsor = call("user_levels", "get_accounts.json", sponsor, query={})
    seen_by_guest = call("user_levels", "get_accounts.json", guest, query={})
    # Then
    assert sorted(a["kind"] for a in seen_by_sponsor.body["items"]) == ["customer", "guest_contractor"]
    assert [a["account_id"] for a in seen_by_guest.body["items"]] == [guest.account_id]


# --- customer codes: large changes and safe connection ---------------------------------
def _markers() -> list[str]:
    return sorted(i["PK"].rsplit("#", 1)[1] for i in table_items() if i["entity"] == "CustomerCode")


def _job(admin: Identity, number: str, code: str) -> str:
    reply = call("job_access", "post_jobs.json", admin, body={"job_number": number, "name": number, "customer_code": code})
    assert reply.status == 201, reply.body
    return reply.body["job_id"]


def _entries(account_id: str) -> dict[str, str]:
    return {i["job_id"]: i["source"] for i in table_items() if i["entity"] == "JobGrant" and i["account_id"] == account_id}


OLD_CODES = [f"OLD{n:02}" for n in range(50)]
NEW_CODES = [f"NEW{n:02}" for n in range(50)]


def test_fifty_customer_codes_replaced_by_fifty_others(super_admin):
    # Given: a customer with 50 codes, and a job carrying one of the new ones
    account = _account(super_admin, customer_codes=OLD_CODES)
    job_id = _job(super_admin, "700", "NEW07")
    # When: 50 markers claimed, 50 freed and the account rewritten: 101 items
    reply = call("user_levels", "patch_account.json", super_admin, path={"account_id": account["account_id"]},
                 body={"customer_codes": NEW_CODES})
    # Then
    assert reply.status == 200, reply.body
    assert reply.body["customer_codes"] == NEW_CODES
    assert _markers() == NEW_CODES
    assert _entries(account["account_id"]) == {job_id: "customer_code"}


def test_a_large_code_change_that_fails_half_way_is_undone(super_admin, monkeypatch):
    # Given: freeing the dropped codes fails after the new ones were claimed
    from botocore.exceptions import ClientError

    from sitegate.data import core

    account = _account(super_admin, customer_codes=OLD_CODES)
    real_write = core.write

    def failing_frees(creates=(), replaces=(), removes=()):
        if removes and not creates and not replaces:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "boom"}}, "TransactWriteItems")
        return real_write(creates=creates, replaces=replaces, removes=removes)

    monkeypatch.setattr(core, "write", failing_frees)
    # When
    with pytest.raises(ClientError):
        call("user_levels", "patch_account.json", super_admin, path={"account_id": account["account_id"]},
             body={"customer_codes": NEW_CODES})
    # Then: as it was
    monkeypatch.setattr(core, "write", real_write)
    assert _markers() == OLD_CODES
    shown = call("user_levels", "get_account.json", super_admin, path={"account_id": account["account_id"]}).body
    assert shown["customer_codes"] == OLD_CODES
    # And it can be made again
    again = call("user_levels", "patch_account.json", super_admin, path={"account_id": account["account_id"]},
                 body={"customer_codes": NEW_CODES})
    assert again.status == 200, again.body
    assert _markers() == NEW_CODES


def test_connecting_a_code_skips_jobs_connected_meanwhile(super_admin, monkeypatch):
    # Given: two jobs with code B2; one is connected by hand after the connection read the access lists
    from sitegate.data import access_store

    account = _account(super_admin, customer_codes=["A1"])
    by_hand, other = _job(super_admin, "801", "B2"), _job(super_admin, "802", "B2")
    granted = call("job_access", "post_job_access.json", super_admin, path={"job_id": by_hand},
                   body={"account_id": account["account_id"]})
    assert granted.status == 201, granted.body
    monkeypatch.setattr(access_store, "get_grants", lambda *args: [])  # the read that missed it
    # When
    reply = call("user_levels", "patch_account.json", super_admin, path={"account_id": account["account_id"]},
                 body={"customer_codes": ["A1", "B2"]})
    # Then
    assert reply.status == 200, reply.body
    assert _entries(account["account_id"]) == {by_hand: "manual", other: "customer_code"}


def test_repeating_a_code_change_connects_what_a_failed_run_left_out(super_admin, monkeypatch):
    # Given: the connection failed after the account was written
    from sitegate import customer_codes

    account = _account(super_admin, customer_codes=["A1"])
    job_id = _job(super_admin, "901", "C3")
    real_connect = customer_codes.connect_customer_codes

    def crash(*args):
        raise RuntimeError("lost the connection")

    monkeypatch.setattr(customer_codes, "connect_customer_codes", crash)
    path, body = {"account_id": account["account_id"]}, {"customer_codes": ["A1", "C3"]}
    with pytest.raises(RuntimeError):
        call("user_levels", "patch_account.json", super_admin, path=path, body=body)
    assert _entries(account["account_id"]) == {}
    monkeypatch.setattr(customer_codes, "connect_customer_codes", real_connect)
    # When: the client repeats the request
    reply = call("user_levels", "patch_account.json", super_admin, path=path, body=body)
    # Then
    assert reply.status == 200
    assert _entries(account["account_id"]) == {job_id: "customer_code"}


def test_a_code_change_that_lost_a_race_to_the_same_change_says_the_account_changed(super_admin):
    # Given: two identical code changes read the customer at the same version; the first is written
    # (found by attacking the stack: the second said the code "belongs to another customer")
    from sitegate import accounts, audit
    from sitegate.data import account_store, core
    from sitegate.errors import Conflict

    account = account_store.get_account(super_admin.tenant_id, _account(super_admin)["account_id"])
    new = account.changed(customer_codes=[*account.customer_codes, "R01"], version=account.version + 1)
    with audit.as_system(super_admin.tenant_id):
        entry = audit.change("account.update", account, new)
    change = {"creates": [accounts._code_marker(new, "R01"), entry], "replaces": [core.Replace(new)]}
    core.write(**change)
    # When: the second is written from the same read
    with pytest.raises(Conflict) as lost:
        core.write(**change)
    # Then: the root cause, not a clash it caused
    assert "changed by someone else" in lost.value.message
