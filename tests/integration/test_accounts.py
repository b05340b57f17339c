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
