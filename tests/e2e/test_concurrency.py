"""Racing clients against the concurrent local stack: DynamoDB conditions, not the gateway,
decide who wins, and repeats of one Idempotency-Key all get the first answer."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.test_job_access import Site, _email

RACERS = 20


@pytest.fixture(scope="module")
def site(api, operator_token) -> Site:
    return Site(api, operator_token)


def _race(api, method: str, path: str, token: str, bodies: list[dict], keys: list[str | None]) -> list[requests.Response]:
    """Send every request at once, each on its own connection."""
    def one(index: int) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if keys[index] is not None:
            headers["Idempotency-Key"] = keys[index]
        return requests.request(method, api.base + path, json=bodies[index], headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, range(len(bodies))))


def _number() -> str:
    return uuid.uuid4().hex[:8].upper()


def test_racing_repeats_of_one_idempotency_key_all_get_the_first_answer(api, site):
    # Given: one job, sent 20 times at once with the same key
    body = {"job_number": _number(), "name": "Raced job"}
    key = f"race-{uuid.uuid4().hex}"
    # When
    replies = _race(api, "POST", "/jobs", site.admin, [body] * RACERS, [key] * RACERS)
    # Then: every answer is the one 201, and one job exists
    assert {r.status_code for r in replies} == {201}, [(r.status_code, r.text) for r in replies]
    assert len({r.json()["job_id"] for r in replies}) == 1
    found = site.ok("GET", f"/jobs?q={body['job_number']}")["items"]
    assert [j["job_number"] for j in found] == [body["job_number"]]


def test_racing_creates_of_one_job_number_have_exactly_one_winner(api, site):
    # Given: 20 different clients creating the same job number at the same instant
    number = _number()
    bodies = [{"job_number": number, "name": f"Racer {i}"} for i in range(RACERS)]
    # When
    replies = _race(api, "POST", "/jobs", site.admin, bodies, [None] * RACERS)
    # Then
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [201] + [409] * (RACERS - 1), [(r.status_code, r.text) for r in replies]
    assert len(site.ok("GET", f"/jobs?q={number}")["items"]) == 1


def test_racing_repeats_of_a_user_create_make_one_user(api, site):
    # Given: a user (Cognito identity and record) sent 10 times at once with one key
    body = {"email": _email("raced"), "name": "Raced User", "level": "view_user"}
    key = f"race-{uuid.uuid4().hex}"
    # When
    replies = _race(api, "POST", "/users", site.admin, [body] * 10, [key] * 10)
    # Then
    assert {r.status_code for r in replies} == {201}, [(r.status_code, r.text) for r in replies]
    assert len({r.json()["user_id"] for r in replies}) == 1
    assert api.token(body["email"])  # the one identity signs in


def test_racing_repeats_of_a_vehicle_create_make_one_vehicle(api, site):
    # Given
    body = {"name": "Truck", "registration": f"R{uuid.uuid4().hex[:6].upper()}"}
    key = f"race-{uuid.uuid4().hex}"
    # When
    replies = _race(api, "POST", "/vehicles", site.admin, [body] * 10, [key] * 10)
    # Then
    assert {r.status_code for r in replies} == {201}, [(r.status_code, r.text) for r in replies]
    assert len({r.json()["vehicle_id"] for r in replies}) == 1


def test_racing_grants_of_one_account_have_exactly_one_winner(api, site):
    # Given: a trade contractor, granted the same job by 10 clients at once
    job_id = site.job(_number())["job_id"]
    trade, _ = site.account("trade_contractor")
    bodies = [{"account_id": trade["account_id"]}] * 10
    # When
    replies = _race(api, "POST", f"/jobs/{job_id}/access", site.admin, bodies, [None] * 10)
    # Then
    assert sorted(r.status_code for r in replies) == [201] + [409] * 9, [(r.status_code, r.text) for r in replies]


def test_racing_enables_and_disables_leave_record_and_identity_agreeing(api, site):
    # Given: a user, enabled and disabled by 20 clients at once
    user = site.ok("POST", "/users", json={"email": _email("flip"), "name": "Flip Flop", "level": "view_user"})
    paths = [f"/users/{user['user_id']}/{'enable' if i % 2 else 'disable'}" for i in range(RACERS)]

    def one(path: str) -> int:
        return requests.post(api.base + path, headers={"Authorization": f"Bearer {site.admin}"}, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        statuses = list(pool.map(one, paths))
    # When: one more enable after the race
    site.ok("POST", f"/users/{user['user_id']}/enable")
    # Then: no race ended in a server error, and the active user can sign in
    assert set(statuses) <= {200, 409}, statuses
    assert site.ok("GET", f"/users/{user['user_id']}")["status"] == "active"
    assert api.request("POST", "/local/token", json={"email": user["email"]}).status_code == 200


def test_a_disabled_user_may_not_sign_in_locally(api, site):
    # Given
    user = site.ok("POST", "/users", json={"email": _email("off"), "name": "Off Duty", "level": "view_user"})
    site.ok("POST", f"/users/{user['user_id']}/disable")
    # When
    reply = api.request("POST", "/local/token", json={"email": user["email"]})
    # Then
    assert reply.status_code == 403, reply.text


@pytest.mark.parametrize("now", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "not a time"])
def test_a_test_clock_outside_the_calendar_is_422(api, now):
    # When
    reply = api.request("POST", "/local/clock", json={"now": now})
    # Then
    assert reply.status_code == 422, reply.text
