"""Connected accounts through the user_levels handler: creates, customer codes and guests."""

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
