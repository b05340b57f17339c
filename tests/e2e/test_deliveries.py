"""Deliveries over HTTP on the concurrent local stack: racing clients for one slot, a trade
member's request approved by both leads, rejection and cancellation freeing the slot, the public
portal leaking nothing, and 404 for other tenants and invisible jobs on every new route."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.test_job_access import Site

RACERS = 20
DAY = "2026-12-07"


class Deliveries:
    """A tenant's job with a gate, a crane, a trade on it, and the leads and members of both, all with tokens."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.job = site.job(uuid.uuid4().hex[:8].upper(), address="1 Quay St")
        self.job_id = self.job["job_id"]
        self.gate = self.post("/locations", json={"name": "Gate 1", "kind": "gate"})["location_id"]
        self.crane = self.post("/equipment", json={"name": "Tower crane"})["equipment_id"]
        self.trade, self.trade_lead = site.account("trade_contractor")
        site.ok("POST", f"/jobs/{self.job_id}/access", json={"account_id": self.trade["account_id"]})
        gc_lead, self.gc_lead = site.user("basic_user_plus")
        gc_member, self.gc_member = site.user("basic_user_plus")
        trade_member, self.trade_member = site.user("manager", self.trade["account_id"], job_ids=[self.job_id])
        trade_lead_id = site.ok("GET", "/me", self.trade_lead)["user"]["user_id"]
        for user_id, role in ((gc_lead["user_id"], "lead"), (gc_member["user_id"], "member"),
                              (trade_lead_id, "lead"), (trade_member["user_id"], "member")):
            site.ok("PUT", f"/jobs/{self.job_id}/members/{user_id}", json={"role": role})

    def post(self, tail: str, token: str | None = None, **kwargs) -> dict:
        return self.site.ok("POST", f"/jobs/{self.job_id}{tail}", token, **kwargs)

    def booking(self, start: str, end: str, *, for_trade: bool = False, **extra) -> dict:
        return {"for_account_id": self.trade["account_id"] if for_trade else self.site.owner_account_id,
                "location_id": self.gate, "start": f"{DAY}T{start}:00+13:00", "end": f"{DAY}T{end}:00+13:00", **extra}

    def book(self, token: str, start: str, end: str, **extra) -> requests.Response:
        return self.site.api.request("POST", f"/jobs/{self.job_id}/deliveries", token,
                                     json=self.booking(start, end, **extra))


@pytest.fixture(scope="module")
def site(api, operator_token) -> Site:
    return Site(api, operator_token)


@pytest.fixture(scope="module")
def jobsite(site) -> Deliveries:
    return Deliveries(site)


def _race(api, path: str, tokens: list[str], bodies: list[dict]) -> list[requests.Response]:
    def one(index: int) -> requests.Response:
        return requests.post(api.base + path, json=bodies[index], headers={"Authorization": f"Bearer {tokens[index]}"},
                             timeout=60)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, range(len(bodies))))


def test_twenty_simultaneous_requests_for_one_slot_have_exactly_one_winner(api, jobsite):
    # Given: 20 clients (GC lead, GC member, trade lead, trade member in turn) asking for 06:00-06:30 at once
    people = [(jobsite.gc_lead, False), (jobsite.gc_member, False), (jobsite.trade_lead, True),
              (jobsite.trade_member, True)]
    tokens = [people[i % 4][0] for i in range(RACERS)]
    bodies = [jobsite.booking("06:00", "06:30", for_trade=people[i % 4][1], equipment_ids=[jobsite.crane])
              for i in range(RACERS)]
    # When
    replies = _race(api, f"/jobs/{jobsite.job_id}/deliveries", tokens, bodies)
    # Then
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [201] + [409] * (RACERS - 1), [(r.status_code, r.text) for r in replies]
    listed = jobsite.site.ok("GET", f"/jobs/{jobsite.job_id}/deliveries?date={DAY}", jobsite.gc_lead)["items"]
    assert len([d for d in listed if d["start"] == f"{DAY}T06:00:00+13:00"]) == 1


def test_simultaneous_requests_for_different_slots_of_one_day_all_succeed(api, jobsite):
    # Given: 12 clients, each for its own 20 minutes of the same gate on the same day
    slots = [(f"{13 + i // 3}:{(i % 3) * 20:02d}", f"{13 + (i + 1) // 3}:{((i + 1) % 3) * 20:02d}") for i in range(12)]
    bodies = [jobsite.booking(start, end) for start, end in slots]
    # When
    replies = _race(api, f"/jobs/{jobsite.job_id}/deliveries", [jobsite.gc_member] * len(bodies), bodies)
    # Then
    assert {r.status_code for r in replies} == {201}, [(r.status_code, r.text) for r in replies]


def test_a_trade_members_request_is_approved_by_both_leads(jobsite):
    # Given
    delivery = jobsite.book(jobsite.trade_member, "08:00", "08:30", for_trade=True, vendor_name="Steel & Co").json()
    path = f"/deliveries/{delivery['delivery_id']}"
    # When
    by_trade_lead = jobsite.post(f"{path}/approve", jobsite.trade_lead)
    by_gc_lead = jobsite.post(f"{path}/approve", jobsite.gc_lead)
    # Then
    assert (delivery["status"], delivery["approvals"]) == ("pending", {"gc": "pending", "trade": "pending"})
    assert by_trade_lead["approvals"] == {"gc": "pending", "trade": "approved"}
    assert (by_gc_lead["status"], by_gc_lead["approvals"]) == ("approved", {"gc": "approved", "trade": "approved"})
    assert jobsite.site.status("POST", f"/jobs/{jobsite.job_id}{path}/approve", jobsite.gc_lead) == 409


def test_rejection_and_cancellation_free_the_slot(jobsite):
    # Given: a pending and an approved delivery
    pending = jobsite.book(jobsite.gc_member, "09:00", "09:30").json()["delivery_id"]
    approved = jobsite.book(jobsite.gc_lead, "10:00", "10:30").json()["delivery_id"]
    assert jobsite.book(jobsite.gc_lead, "09:15", "10:15").status_code == 409
    # When
    jobsite.post(f"/deliveries/{pending}/reject", jobsite.gc_lead, json={"reason": "hoist under repair"})
    jobsite.post(f"/deliveries/{approved}/cancel", jobsite.gc_lead)
    # Then
    assert jobsite.book(jobsite.gc_lead, "09:15", "10:15").status_code == 201


def test_racing_cancel_and_approve_leave_one_consistent_answer(api, jobsite):
    # Given: a pending delivery, approved by the GC lead and cancelled by its requester at the same moment
    delivery = jobsite.book(jobsite.gc_member, "11:00", "11:30").json()["delivery_id"]
    base = f"/jobs/{jobsite.job_id}/deliveries/{delivery}"
    # When
    def one(action: tuple[str, str]) -> requests.Response:
        return requests.post(api.base + base + action[0], json={}, headers={"Authorization": f"Bearer {action[1]}"},
                             timeout=60)

    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = list(pool.map(one, [("/approve", jobsite.gc_lead), ("/cancel", jobsite.gc_member)]))
    # Then: no server error; the final state is one of the two, and the slot follows it
    assert {r.status_code for r in replies} <= {200, 409}, [r.text for r in replies]
    final = jobsite.site.ok("GET", base, jobsite.gc_lead)["status"]
    rebook = jobsite.book(jobsite.gc_lead, "11:00", "11:30").status_code
    assert (final, rebook) in {("cancelled", 201), ("approved", 409)}


def test_the_portal_shows_the_days_approved_windows_and_nothing_else(api, jobsite):
    # Given: an approved delivery with a description and a vendor, and a pending one
    jobsite.book(jobsite.gc_lead, "18:00", "18:30", description="PRIVATE: 40 t of rebar", vendor_name="Secret Vendor")
    jobsite.book(jobsite.gc_member, "18:30", "19:00")
    # When: read without any token
    reply = api.request("GET", f"/portal/{jobsite.job_id}?date={DAY}")
    # Then
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"name", "address", "gates", "deliveries"}
    assert body["gates"] == ["Gate 1"]
    assert all(set(d) == {"start", "end", "location"} for d in body["deliveries"])
    assert {"start": f"{DAY}T18:00:00+13:00", "end": f"{DAY}T18:30:00+13:00", "location": "Gate 1"} in body["deliveries"]
    assert f"{DAY}T18:30:00+13:00" not in [d["start"] for d in body["deliveries"]]
    for secret in ("PRIVATE", "Secret Vendor", jobsite.trade["name"], "trade", "approvals", "@"):
        assert secret not in json.dumps(body)
    assert api.request("GET", f"/portal/{uuid.uuid4().hex}").status_code == 404
    assert api.request("GET", f"/portal/{jobsite.job_id}?date=2026-02-30").status_code == 422


ROUTES = [  # method, path after /jobs/{job_id}, body
    ("GET", "/locations", None), ("POST", "/locations", {"name": "G", "kind": "gate"}),
    ("GET", "/equipment", None), ("POST", "/equipment", {"name": "E"}),
    ("GET", "/deliveries", None), ("POST", "/deliveries", "BOOKING"),
    ("GET", "/deliveries/{d}", None), ("POST", "/deliveries/{d}/approve", None),
    ("POST", "/deliveries/{d}/reject", {"reason": "r"}), ("POST", "/deliveries/{d}/cancel", None),
    ("GET", "/requests", None), ("POST", "/requests", {"title": "t", "description": "d"}),
    ("PATCH", "/requests/{r}", {"status": "accepted"}),
]


@pytest.fixture(scope="module")
def outsiders(api, operator_token, site, jobsite) -> dict[str, str]:
    """Another tenant's Super Admin, and a TMP designer of this tenant allocated to no job."""
    other = Site(api, operator_token)
    _, designer = site.user("tmp_designer")
    return {"other tenant": other.admin, "not allocated": designer}


@pytest.fixture(scope="module")
def on_job(jobsite) -> dict[str, str]:
    """A pending delivery and a customer's job request on the job, for the routes that name them."""
    delivery = jobsite.book(jobsite.gc_member, "20:00", "20:05").json()["delivery_id"]
    customer, customer_token = jobsite.site.account("customer")
    jobsite.site.ok("POST", f"/jobs/{jobsite.job_id}/access", json={"account_id": customer["account_id"]})
    request = jobsite.post("/requests", customer_token, json={"title": "Sweep", "description": "Road"})["request_id"]
    return {"{d}": delivery, "{r}": request}


@pytest.mark.parametrize(("method", "tail", "body"), ROUTES, ids=[f"{m} {t}" for m, t, _ in ROUTES])
def test_other_tenants_and_invisible_jobs_are_404_on_every_route(api, jobsite, on_job, outsiders, method, tail, body):
    # Given
    path = f"/jobs/{jobsite.job_id}{tail}".replace("{d}", on_job["{d}"]).replace("{r}", on_job["{r}"])
    payload = jobsite.booking("21:00", "21:30") if body == "BOOKING" else body
    for who, token in outsiders.items():
        # When
        reply = api.request(method, path, token, json=payload)
        # Then
        assert reply.status_code == 404, (who, reply.status_code, reply.text)


def test_racing_repeats_of_one_idempotency_key_book_once(api, jobsite):
    # Given: one booking sent 10 times at once with the same key
    body = jobsite.booking("22:00", "22:30")
    key = f"race-{uuid.uuid4().hex}"

    def one(_: int) -> requests.Response:
        return requests.post(f"{api.base}/jobs/{jobsite.job_id}/deliveries", json=body, timeout=60,
                             headers={"Authorization": f"Bearer {jobsite.gc_lead}", "Idempotency-Key": key})

    # When
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(one, range(10)))
    # Then: every answer is the first one
    assert {r.status_code for r in replies} == {201}, [(r.status_code, r.text) for r in replies]
    assert len({r.json()["delivery_id"] for r in replies}) == 1


def test_racing_bookings_naming_one_new_vendor_make_one_vendor_account(api, jobsite):
    # Given: 6 bookings of different slots on another day, all naming the same unknown vendor, at once
    name = f"Racing Vendor {uuid.uuid4().hex[:6]}"
    bodies = [{**jobsite.booking(f"0{i}:00", f"0{i}:30"), "start": f"2026-12-08T0{i}:00:00+13:00",
               "end": f"2026-12-08T0{i}:30:00+13:00", "vendor_name": name} for i in range(6)]
    # When
    replies = _race(api, f"/jobs/{jobsite.job_id}/deliveries", [jobsite.gc_member] * 6, bodies)
    # Then: all booked, one vendor account, once on the access list
    assert {r.status_code for r in replies} == {201}, [(r.status_code, r.text) for r in replies]
    assert len({r.json()["vendor_account_id"] for r in replies}) == 1
    vendors = jobsite.site.ok("GET", f"/jobs/{jobsite.job_id}/access")["vendors"]
    assert [v["name"] for v in vendors].count(name) == 1
