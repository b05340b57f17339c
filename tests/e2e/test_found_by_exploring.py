"""Cases an exploratory session found: each was a 500, a leak or a contract slip."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_job_access import Site, _email


@pytest.fixture(scope="module")
def site(api, operator_token) -> Site:
    return Site(api, operator_token)


@pytest.mark.parametrize(("path_of", "body", "field"), [
    (lambda s: f"/jobs/{s.job(uuid.uuid4().hex[:8])['job_id']}", {"name": None}, "name"),
    (lambda s: f"/users/{s.user('view_user')[0]['user_id']}", {"name": None}, "name"),
    (lambda s: f"/users/{s.user('view_user')[0]['user_id']}", {"job_ids": None}, "job_ids"),
    (lambda s: f"/users/{s.user('view_user')[0]['user_id']}", {"can_create_guests": None}, "can_create_guests"),
    (lambda s: f"/accounts/{s.account('customer')[0]['account_id']}", {"name": None}, "name"),
    (lambda s: f"/accounts/{s.account('customer')[0]['account_id']}", {"customer_codes": None}, "customer_codes"),
])
def test_null_for_a_field_that_cannot_be_cleared_is_422_and_changes_nothing(site, path_of, body, field):
    path = path_of(site)
    reply = site.api.request("PATCH", path, site.admin, json=body)
    assert reply.status_code == 422, reply.text
    assert [e["field"] for e in reply.json()["errors"]] == [field]
    assert site.status("GET", path, site.admin) == 200


def test_clearable_fields_clear_with_null(site):
    job = site.job(uuid.uuid4().hex[:8], address="1 Quay St")
    assert site.ok("PATCH", f"/jobs/{job['job_id']}", json={"address": None})["address"] is None
    assert site.status("GET", "/jobs", site.admin) == 200


def test_idempotency_key_replays_only_to_the_caller_who_used_it(site):
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"job_number": uuid.uuid4().hex[:8], "name": "Secret", "charge_price": "9.00"}
    first = site.api.request("POST", "/jobs", site.admin, json=body, headers=dict(key))
    assert first.status_code == 201
    _, viewer = site.user("view_user")
    replay = site.api.request("POST", "/jobs", viewer, json=body, headers=dict(key))
    assert replay.status_code == 403
    assert "charge_price" not in replay.text


@pytest.mark.parametrize("key", ["x" * 201, "has space", "a#b"])
def test_malformed_idempotency_key_is_422(site, key):
    reply = site.api.request("POST", "/vehicles", site.admin, json={"name": "T", "registration": "K1"},
                             headers={"Idempotency-Key": key})
    assert reply.status_code == 422


@pytest.mark.parametrize("path", ["/users/" + "u" * 300, "/jobs/" + "j" * 300, "/accounts/a%23b"])
def test_ids_we_never_make_are_404(site, path):
    assert site.status("GET", path, site.admin) == 404


def test_allocated_staff_page_through_their_jobs(site):
    jobs = [site.job(f"61{n:04d}")["job_id"] for n in range(3)]
    _, basic = site.user("basic_user", job_ids=jobs)
    first = site.ok("GET", "/jobs?q=61&limit=2", basic)
    second = site.ok("GET", f"/jobs?q=61&limit=2&cursor={first['next_cursor']}", basic)
    numbers = [j["job_number"] for j in first["items"] + second["items"]]
    assert numbers == ["610000", "610001", "610002"]
    assert second["next_cursor"] is None


def test_setting_values_round_trip_with_their_types(site):
    value = {"n": 5, "ratio": 1.5, "big": 10**40, "list": [1, 2.25], "flag": True, "none": None}
    site.ok("PUT", "/settings/tmp_templates", json={"value": value})
    assert site.ok("GET", "/settings")["tmp_templates"] == value


def test_body_that_is_not_utf8_is_refused_not_crashed(site):
    reply = site.api.request("POST", "/jobs", site.admin, data='{"job_number": "1", "name": "x"}'.encode("utf-16"),
                             headers={"Content-Type": "application/json"})
    assert reply.status_code == 422
    assert reply.json()["errors"] == [{"field": "body", "message": "JSON must be UTF-8"}]


def test_archived_customer_is_not_connected_and_frees_its_codes(site):
    code = uuid.uuid4().hex[:8]
    customer, _ = site.account("customer", customer_codes=[code])
    site.ok("POST", f"/accounts/{customer['account_id']}/archive")
    job = site.job(uuid.uuid4().hex[:8], customer_code=code)
    assert site.ok("GET", f"/jobs/{job['job_id']}/access")["customers"] == []
    assert site.status("PATCH", f"/accounts/{customer['account_id']}", site.admin, json={"name": "x"}) == 409
    assert site.status("POST", "/accounts", site.admin, json={"kind": "customer", "name": "New owner of the code",
                                                               "customer_codes": [code]}) == 201


def test_money_has_two_decimals_and_is_absent_without_financial_view(site):
    job = site.job(uuid.uuid4().hex[:8], cost_price="1.5")
    assert site.ok("GET", f"/jobs/{job['job_id']}")["cost_price"] == "1.50"
    _, ops = site.user("operations_user")
    assert "cost_price" not in site.ok("GET", f"/jobs/{job['job_id']}", ops)


def test_non_json_body_is_415_with_a_message(site):
    reply = site.api.request("POST", "/jobs", site.admin, data="job_number=1", headers={"Content-Type": "text/plain"})
    assert reply.status_code in (415, 422)
    assert "message" in reply.json()


@pytest.mark.parametrize("body", [{"email": "true", "sms": False}, {"email": True, "sms": 0}])
def test_booleans_must_be_booleans(site, body):
    assert site.status("PUT", "/me/notification-preferences", site.admin, json=body) == 422


def test_master_administrator_cannot_demote_itself(site):
    code = uuid.uuid4().hex[:8]
    job = site.job(uuid.uuid4().hex[:8], customer_code=code)
    _, master = site.account("customer", customer_codes=[code])
    me = site.ok("GET", "/me", master)["user"]
    demote = {"level": "manager", "job_ids": [job["job_id"]]}
    assert site.status("PATCH", f"/users/{me['user_id']}", master, json=demote) == 403
    owner_me = site.ok("GET", "/me")["user"]
    assert site.status("PATCH", f"/users/{owner_me['user_id']}", site.admin, json={"level": "view_user"}) == 403


def test_archived_job_takes_no_records_and_ticket_numbers_are_unique(site):
    job = site.job(uuid.uuid4().hex[:8])
    ticket = {"ticket_number": "T-2", "material": "AP20", "quantity": "1", "unit": "t", "truck": "T"}
    assert site.status("POST", f"/jobs/{job['job_id']}/tickets", site.admin, json=ticket) == 201
    assert site.status("POST", f"/jobs/{job['job_id']}/tickets", site.admin, json=ticket) == 409
    record = {"type": "time", "date": "2026-11-20", "hours": "25"}
    assert site.status("POST", f"/jobs/{job['job_id']}/records", site.admin, json=record) == 422
    site.ok("POST", f"/jobs/{job['job_id']}/archive")
    assert site.status("POST", f"/jobs/{job['job_id']}/records", site.admin, json={**record, "hours": "8"}) == 409


def test_expired_entry_can_be_granted_again(site, api):
    job = site.job(uuid.uuid4().hex[:8])
    firm, _ = site.account("inspection_firm")
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    body = {"account_id": firm["account_id"], "access_type": "limited", "expires_at": soon}
    site.ok("POST", f"/jobs/{job['job_id']}/access", json=body)
    assert site.status("POST", f"/jobs/{job['job_id']}/access", site.admin, json=body) == 409  # still live
    try:
        api.request("POST", "/local/clock", json={"now": (datetime.now(UTC) + timedelta(hours=2)).isoformat()})
        again = {"account_id": firm["account_id"], "access_type": "standard"}
        assert site.ok("POST", f"/jobs/{job['job_id']}/access", json=again)["access_type"] == "standard"
    finally:
        api.request("DELETE", "/local/clock")


def test_same_admin_email_in_two_tenants_signs_in_to_the_one_asked_for(site, api, operator_token):
    email = _email("twice")
    ids = [api.request("POST", "/tenants", operator_token, json={"name": n, "admin_email": email,
                                                                 "admin_name": "Twice"}).json()["tenant_id"]
           for n in ("One", "Two")]
    for tenant_id in ids:
        token = api.request("POST", "/local/token", json={"email": email, "tenant_id": tenant_id}).json()["id_token"]
        assert site.ok("GET", "/me", token)["tenant_id"] == tenant_id


@pytest.mark.parametrize("path", ["/local/token", "/local/clock", "/local/faults", "/local/billing/run"])
@pytest.mark.parametrize(("body", "field"), [("1", "body"), ("[" * 5000 + "]" * 5000, "body"),
                                              ('{"surprise": true}', "surprise")])
def test_the_local_routes_refuse_a_body_they_cannot_read_with_422(api, path, body, field):
    # When: not an object, nested past the recursion limit, or an unknown field
    reply = api.request("POST", path, data=body, headers={"Content-Type": "application/json"})
    # Then: 422 naming it, never a 500 (and no billing run for the default month)
    assert reply.status_code == 422, reply.text
    assert [e["field"] for e in reply.json()["errors"]] == [field]
