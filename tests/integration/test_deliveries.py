"""Deliveries through the delivery_approvals handler: locations and equipment, the approvals
each requester needs, booking without overlap, approve / reject / cancel, events, archived jobs
and out-of-sight callers."""

import json
import uuid
from datetime import timedelta

import boto3
import pytest

from sitegate import clock
from tests.integration.conftest import Identity, call, table_items

FN = "delivery_approvals"
JOB = "job_access"
NO_KEY = {"idempotency-key": ""}
DAY = "2026-11-30"  # a Monday; the tenant is in Pacific/Auckland (+13:00 in summer)


def _ok(reply, *statuses):
    assert reply.status in (statuses or (200, 201, 204)), reply.body
    return reply.body


def _user(admin: Identity, level: str, account_id: str | None = None, **extra) -> Identity:
    tag = uuid.uuid4().hex[:8]
    body = {"email": f"{tag}@co.example", "name": f"{level} {tag}", "level": level, **extra}
    if account_id:
        body["account_id"] = account_id
    user = _ok(call("user_levels", "post_users.json", admin, body=body, headers=NO_KEY))
    return Identity(admin.tenant_id, user["user_id"], user["account_id"])


def _account(admin: Identity, kind: str) -> tuple[dict, Identity]:
    tag = uuid.uuid4().hex[:8]
    account = _ok(call("user_levels", "post_accounts.json", admin, headers=NO_KEY,
                       body={"kind": kind, "name": f"{kind} {tag}", "admin": {"email": f"{tag}@co.example", "name": "Ad"}}))
    users = _ok(call("user_levels", "get_users.json", admin, query={"account_id": account["account_id"]}))["items"]
    return account, Identity(admin.tenant_id, users[0]["user_id"], account["account_id"])


def _role(admin: Identity, job_id: str, who: Identity, role: str) -> None:
    _ok(call(JOB, "put_job_member.json", admin, path={"job_id": job_id, "user_id": who.user_id}, body={"role": role}))


class Site:
    """A job with a gate, a crane, a trade on it, and a lead and a member of the GC and of the trade."""

    def __init__(self, admin: Identity) -> None:
        self.admin = admin
        job = {"job_number": uuid.uuid4().hex[:8], "name": "Quay St tower", "address": "1 Quay St"}
        self.job_id = _ok(call(JOB, "post_jobs.json", admin, headers=NO_KEY, body=job))["job_id"]
        self.gate = self.location("Gate 1", "gate")
        self.crane = self.equipment("Tower crane")
        self.trade, self.trade_admin = _account(admin, "trade_contractor")
        _ok(call(JOB, "post_job_access.json", admin, path={"job_id": self.job_id},
                 body={"account_id": self.trade["account_id"]}, headers=NO_KEY))
        self.gc_lead = _user(admin, "basic_user_plus")
        self.gc_member = _user(admin, "basic_user_plus")
        self.trade_lead = self.trade_admin
        self.trade_member = _user(admin, "manager", self.trade["account_id"], job_ids=[self.job_id])
        for who, role in ((self.gc_lead, "lead"), (self.gc_member, "member"), (self.trade_lead, "lead"),
                          (self.trade_member, "member")):
            _role(admin, self.job_id, who, role)

    def path(self, **more) -> dict:
        return {"job_id": self.job_id, **more}

    def location(self, name: str, kind: str = "drop_zone") -> str:
        return _ok(call(FN, "post_job_locations.json", self.admin, path=self.path(), body={"name": name, "kind": kind},
                        headers=NO_KEY))["location_id"]

    def equipment(self, name: str) -> str:
        return _ok(call(FN, "post_job_equipment.json", self.admin, path=self.path(), body={"name": name},
                        headers=NO_KEY))["equipment_id"]

    def book(self, who: Identity, start: str = "10:00", end: str = "10:30", *, for_trade: bool = False, day: str = DAY,
             **extra):
        body = {"for_account_id": self.trade["account_id"] if for_trade else self.admin.account_id,
                "location_id": self.gate, "start": f"{day}T{start}:00+13:00", "end": f"{day}T{end}:00+13:00", **extra}
        return call(FN, "post_job_deliveries.json", who, path=self.path(), body=body, headers=NO_KEY)

    def act(self, who: Identity, action: str, delivery_id: str, body: dict | None = None):
        return call(FN, f"post_job_delivery_{action}.json", who, path=self.path(delivery_id=delivery_id),
                    body=body if body is not None else ({"reason": "no room"} if action == "reject" else None))

    def get(self, who: Identity, delivery_id: str):
        return call(FN, "get_job_delivery.json", who, path=self.path(delivery_id=delivery_id))


@pytest.fixture
def site(super_admin) -> Site:
    return Site(super_admin)


# ---------------------------------------------------------- who needs whom
APPROVALS = [  # requester, booked for a trade?, status, approvals
    ("gc_lead", False, "approved", {"gc": "approved"}),
    ("gc_member", False, "pending", {"gc": "pending"}),
    ("gc_lead", True, "pending", {"gc": "approved", "trade": "pending"}),
    ("gc_member", True, "pending", {"gc": "pending", "trade": "pending"}),
    ("trade_lead", True, "pending", {"gc": "pending", "trade": "approved"}),
    ("trade_member", True, "pending", {"gc": "pending", "trade": "pending"}),
]


@pytest.mark.parametrize(("requester", "for_trade", "status", "approvals"), APPROVALS,
                         ids=[f"{r}-for-{'trade' if t else 'gc'}" for r, t, *_ in APPROVALS])
def test_each_requester_needs_the_approvals_of_the_table(site, requester, for_trade, status, approvals):
    # When
    reply = site.book(getattr(site, requester), for_trade=for_trade)
    # Then
    body = _ok(reply, 201)
    assert (body["status"], body["approvals"]) == (status, approvals)
    assert body["start"] == f"{DAY}T10:00:00+13:00"


def test_trade_member_request_needs_both_leads(site):
    # Given
    delivery = _ok(site.book(site.trade_member, for_trade=True), 201)["delivery_id"]
    # When: the trade lead approves, then the GC lead
    first = _ok(site.act(site.trade_lead, "approve", delivery))
    second = _ok(site.act(site.gc_lead, "approve", delivery))
    # Then
    assert (first["status"], first["approvals"]) == ("pending", {"gc": "pending", "trade": "approved"})
    assert (second["status"], second["approvals"]) == ("approved", {"gc": "approved", "trade": "approved"})


@pytest.mark.parametrize("who", ["gc_member", "trade_member", "trade_lead", "admin"])
def test_only_a_lead_whose_approval_is_pending_approves(site, who):
    # Given: a GC member's request for the GC needs a GC lead
    delivery = _ok(site.book(site.gc_member), 201)["delivery_id"]
    # When
    reply = site.act(getattr(site, who), "approve", delivery)
    # Then: members, other companies' leads and staff without a role are refused
    assert reply.status == 403, reply.body


def test_a_second_approval_by_the_same_lead_is_409(site):
    # Given
    delivery = _ok(site.book(site.trade_member, for_trade=True), 201)["delivery_id"]
    _ok(site.act(site.trade_lead, "approve", delivery))
    # When
    again = site.act(site.trade_lead, "approve", delivery)
    # Then
    assert again.status == 409, again.body


def test_one_rejection_rejects_and_frees_the_slot(site):
    # Given
    delivery = _ok(site.book(site.trade_member, for_trade=True), 201)["delivery_id"]
    assert site.book(site.gc_lead).status == 409
    # When
    rejected = _ok(site.act(site.gc_lead, "reject", delivery, {"reason": "crane is down"}))
    # Then
    assert (rejected["status"], rejected["reason"], rejected["approvals"]["gc"]) == ("rejected", "crane is down", "rejected")
    assert site.book(site.gc_lead).status == 201
    assert site.act(site.trade_lead, "approve", delivery).status == 409


def test_the_requester_or_a_gc_lead_cancels_and_frees_the_slot(site):
    # Given
    mine = _ok(site.book(site.trade_member, for_trade=True), 201)["delivery_id"]
    other = _ok(site.book(site.gc_member, "11:00", "11:30"), 201)["delivery_id"]
    # When
    refused = site.act(site.trade_lead, "cancel", other)
    by_requester = _ok(site.act(site.trade_member, "cancel", mine))
    by_gc_lead = _ok(site.act(site.gc_lead, "cancel", other))
    # Then
    assert refused.status == 403, refused.body
    assert (by_requester["status"], by_gc_lead["status"]) == ("cancelled", "cancelled")
    assert site.book(site.gc_lead, "10:00", "11:30").status == 201
    assert site.act(site.trade_member, "cancel", mine).status == 409


def test_an_approved_delivery_may_be_cancelled_but_not_approved_again(site):
    # Given
    delivery = _ok(site.book(site.gc_lead), 201)["delivery_id"]
    # When
    approve = site.act(site.gc_lead, "approve", delivery)
    cancelled = site.act(site.gc_lead, "cancel", delivery)
    # Then
    assert approve.status == 409, approve.body
    assert cancelled.status == 200, cancelled.body


@pytest.mark.parametrize(("who", "for_trade"), [("trade_lead", False), ("gc_member", "other_trade"),
                                                ("trade_member", "other_trade")])
def test_trades_book_only_for_themselves_and_only_trades_on_the_job_are_booked_for(site, super_admin, who, for_trade):
    # Given: another trade, not on the job
    other, _ = _account(super_admin, "trade_contractor")
    body = {"for_account_id": other["account_id"] if for_trade else super_admin.account_id, "location_id": site.gate,
            "start": f"{DAY}T10:00:00+13:00", "end": f"{DAY}T10:30:00+13:00"}
    # When
    reply = call(FN, "post_job_deliveries.json", getattr(site, who), path=site.path(), body=body)
    # Then: a trade may not book for others (403); the GC may not book for a trade not on the job (422)
    assert reply.status == (422 if who.startswith("gc") else 403), reply.body


@pytest.mark.parametrize("role", ["alerts_only", "not_on_jobsite"])
def test_alerts_only_and_not_on_jobsite_see_no_project_pages_and_cannot_request(site, role):
    # Given
    _role(site.admin, site.job_id, site.trade_member, role)
    # When
    book = site.book(site.trade_member, for_trade=True)
    listed = call(FN, "get_job_deliveries.json", site.trade_member, path=site.path(), query={})
    places = call(FN, "get_job_locations.json", site.trade_member, path=site.path())
    # Then
    assert (book.status, listed.status, places.status) == (403, 403, 403)


def test_vendor_members_see_project_pages_but_do_not_request(site, super_admin):
    # Given: a vendor on the job, its administrator promoted to member
    vendor, vendor_admin = _account(super_admin, "vendor")
    _ok(call(JOB, "post_job_access.json", super_admin, path=site.path(), body={"account_id": vendor["account_id"]}))
    _role(super_admin, site.job_id, vendor_admin, "member")
    # When
    listed = call(FN, "get_job_deliveries.json", vendor_admin, path=site.path(), query={})
    book = call(FN, "post_job_deliveries.json", vendor_admin, path=site.path(),
                body={"for_account_id": vendor["account_id"], "location_id": site.gate,
                      "start": f"{DAY}T10:00:00+13:00", "end": f"{DAY}T10:30:00+13:00"})
    # Then
    assert listed.status == 200, listed.body
    assert book.status == 403, book.body


# ----------------------------------------------------------------- booking
def test_overlap_on_the_location_is_409_and_touching_windows_are_allowed(site):
    # Given
    _ok(site.book(site.gc_lead, "10:00", "10:30"), 201)
    # When
    touching = site.book(site.gc_lead, "10:30", "11:00")
    before = site.book(site.gc_lead, "09:30", "10:00")
    overlapping = site.book(site.gc_member, "10:25", "10:35")
    inside = site.book(site.gc_member, "10:05", "10:10")
    # Then
    assert (touching.status, before.status) == (201, 201)
    assert (overlapping.status, inside.status) == (409, 409)


def test_overlap_on_equipment_is_409_even_at_another_location(site):
    # Given
    drop_zone = site.location("North laydown", "laydown")
    _ok(site.book(site.gc_lead, equipment_ids=[site.crane]), 201)
    # When
    clash = site.book(site.gc_lead, location_id=drop_zone, equipment_ids=[site.crane])
    free = site.book(site.gc_lead, location_id=drop_zone)
    # Then
    assert clash.status == 409, clash.body
    assert "Tower crane" in clash.body["message"]
    assert free.status == 201, free.body


def test_windows_held_across_midnight_and_for_24_hours(site):
    # Given: 20:00 to 20:00 the next day, with the crane
    body = {"start": f"{DAY}T20:00:00+13:00", "end": "2026-12-01T20:00:00+13:00", "equipment_ids": [site.crane]}
    _ok(call(FN, "post_job_deliveries.json", site.gc_lead, path=site.path(),
             body={"for_account_id": site.admin.account_id, "location_id": site.gate, **body}), 201)
    # When
    next_morning = site.book(site.gc_lead, "06:00", "06:30", day="2026-12-01")
    after = site.book(site.gc_lead, "20:00", "20:30", day="2026-12-01")
    # Then
    assert next_morning.status == 409
    assert after.status == 201


@pytest.mark.parametrize(("start", "end", "field"), [
    ("2026-11-30T10:02:00+13:00", "2026-11-30T10:30:00+13:00", "start"),
    ("2026-11-30T10:00:00+13:00", "2026-11-30T10:30:30+13:00", "end"),
    ("2026-11-30T10:30:00+13:00", "2026-11-30T10:00:00+13:00", "end"),
    ("2026-11-30T10:00:00+13:00", "2026-11-30T10:00:00+13:00", "end"),
    ("2026-11-30T10:00:00+13:00", "2026-12-01T10:05:00+13:00", "end"),
    ("2026-11-30T10:00:00", "2026-11-30T10:30:00+13:00", "start"),
    ("9999-12-31T23:00:00+00:00", "9999-12-31T23:55:00+00:00", "end"),
    ("0001-01-01T00:00:00+00:00", "0001-01-01T01:00:00+00:00", "start"),  # shown west of UTC: before year 1
])
def test_bad_windows_are_422_naming_the_field(site, start, end, field):
    # When
    reply = call(FN, "post_job_deliveries.json", site.gc_lead, path=site.path(),
                 body={"for_account_id": site.admin.account_id, "location_id": site.gate, "start": start, "end": end})
    # Then
    assert reply.status == 422, reply.body
    assert [e["field"] for e in reply.body["errors"]] == [field]


@pytest.mark.parametrize(("extra", "field"), [
    ({"location_id": "nope"}, "location_id"), ({"equipment_ids": ["nope"]}, "equipment_ids"),
    ({"for_account_id": "nope"}, "for_account_id"), ({"vendor_account_id": "nope"}, "vendor_account_id"),
    ({"vendor_account_id": "x", "vendor_name": "Y"}, "vendor_name"),
])
def test_bad_references_are_422_naming_the_field(site, extra, field):
    # When
    reply = site.book(site.gc_lead, **extra)
    # Then
    assert reply.status == 422, reply.body
    assert [e["field"] for e in reply.body["errors"]] == [field]


def test_times_are_shown_in_the_tenants_time_zone(site):
    # When: booked in UTC
    reply = call(FN, "post_job_deliveries.json", site.gc_lead, path=site.path(),
                 body={"for_account_id": site.admin.account_id, "location_id": site.gate,
                       "start": "2026-11-29T21:00:00Z", "end": "2026-11-29T21:30:00+00:00"})
    # Then
    body = _ok(reply, 201)
    assert (body["start"], body["end"]) == ("2026-11-30T10:00:00+13:00", "2026-11-30T10:30:00+13:00")


def test_list_by_day_and_status(site):
    # Given: one today (approved), one pending, one the next day, one rejected
    a = _ok(site.book(site.gc_lead, "08:00", "09:00"), 201)["delivery_id"]
    b = _ok(site.book(site.gc_member, "09:00", "09:30"), 201)["delivery_id"]
    _ok(site.book(site.gc_lead, "08:00", "09:00", day="2026-12-01"), 201)
    c = _ok(site.book(site.gc_member, "12:00", "12:30"), 201)["delivery_id"]
    _ok(site.act(site.gc_lead, "reject", c))
    # When
    day = _ok(call(FN, "get_job_deliveries.json", site.gc_member, path=site.path(), query={"date": DAY}))
    pending = _ok(call(FN, "get_job_deliveries.json", site.gc_member, path=site.path(),
                       query={"date": DAY, "status": "pending"}))
    everything = _ok(call(FN, "get_job_deliveries.json", site.gc_member, path=site.path(), query={}))
    # Then
    assert [d["delivery_id"] for d in day["items"]] == [a, b, c]
    assert [d["delivery_id"] for d in pending["items"]] == [b]
    assert len(everything["items"]) == 4


@pytest.mark.parametrize("query", [{"date": "2026-02-30"}, {"date": "30/11/2026"}, {"status": "lost"},
                                   {"cursor": "bogus"}, {"date": "9999-12-31"}, {"date": "0001-01-01"}])
def test_bad_list_queries_are_422(site, query):
    reply = call(FN, "get_job_deliveries.json", site.gc_lead, path=site.path(), query=query)
    assert reply.status == 422, reply.body


def test_list_pages_with_a_cursor(site):
    # Given
    for hour in ("06", "07", "08"):
        _ok(site.book(site.gc_lead, f"{hour}:00", f"{hour}:30"), 201)
    # When
    first = _ok(call(FN, "get_job_deliveries.json", site.gc_lead, path=site.path(), query={"limit": "2"}))
    second = _ok(call(FN, "get_job_deliveries.json", site.gc_lead, path=site.path(),
                      query={"limit": "2", "cursor": first["next_cursor"]}))
    # Then
    assert len(first["items"]) == 2 and first["next_cursor"]
    assert [d["start"][11:16] for d in second["items"]] == ["08:00"]



def test_a_filtered_list_is_never_an_empty_page_while_more_follow(site):
    # Given: six deliveries, only the last two approved (GC leads' own bookings are approved at once)
    for hour in ("06", "07", "08", "09"):
        _ok(site.book(site.gc_member, f"{hour}:00", f"{hour}:30"), 201)
    for hour in ("10", "11"):
        _ok(site.book(site.gc_lead, f"{hour}:00", f"{hour}:30"), 201)
    # When: paging the approved ones one at a time
    starts, cursor, pages = [], None, 0
    while True:
        query = {"status": "approved", "limit": "1", **({"cursor": cursor} if cursor else {})}
        page = _ok(call(FN, "get_job_deliveries.json", site.gc_lead, path=site.path(), query=query))
        pages += 1
        assert page["items"] or not page["next_cursor"], page  # no empty page with more to come
        starts += [d["start"][11:16] for d in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    # Then: every approved delivery, once each, in start order
    assert starts == ["10:00", "11:00"]
    assert pages <= 3


# ---------------------------------------------------------------- vendors
def test_an_unknown_vendor_joins_the_directory_as_a_vendor_account(site, super_admin):
    # When
    _ok(site.book(site.gc_member, vendor_name="Rebar Supplies Ltd"), 201)
    again = _ok(site.book(site.gc_member, "11:00", "11:30", vendor_name="rebar supplies ltd"), 201)
    # Then: one vendor account, on the job's access list, reused by name
    access = _ok(call(JOB, "get_job_access.json", super_admin, path=site.path()))
    vendors = [v for v in access["vendors"] if v["name"] == "Rebar Supplies Ltd"]
    assert len(vendors) == 1
    assert again["vendor_account_id"] == vendors[0]["account_id"]


def test_a_known_vendor_never_on_the_job_named_by_name_is_put_on_its_access_list(site, super_admin):
    # Given
    vendor, _ = _account(super_admin, "vendor")
    # When
    body = _ok(site.book(site.trade_lead, for_trade=True, vendor_name=vendor["name"]), 201)
    # Then
    access = _ok(call(JOB, "get_job_access.json", super_admin, path=site.path()))
    assert body["vendor_account_id"] == vendor["account_id"]
    assert vendor["account_id"] in {v["account_id"] for v in access["vendors"]}


def test_a_known_vendor_put_on_the_job_by_a_booking_is_announced_like_any_grant(site, super_admin, resources):
    # Given
    vendor, _ = _account(super_admin, "vendor")
    sqs = boto3.client("sqs")
    while sqs.receive_message(QueueUrl=resources.queue_url, MaxNumberOfMessages=10).get("Messages"):
        pass  # the setup's own events
    # When
    _ok(site.book(site.gc_member, vendor_name=vendor["name"]), 201)
    # Then: one access.granted for the vendor, beside the delivery's own event
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=resources.queue_url,
                                                                 MaxNumberOfMessages=10).get("Messages", [])]
    assert sorted(b["type"] for b in bodies) == ["access.granted", "delivery.requested"]
    assert [b["data"]["account_id"] for b in bodies if b["type"] == "access.granted"] == [vendor["account_id"]]


def test_naming_a_vendor_whose_access_expired_does_not_give_it_back(site, super_admin):
    # Given: the vendor had access to the job until an hour ago
    vendor, _ = _account(super_admin, "vendor")
    until = (clock.now() + timedelta(minutes=10)).isoformat()
    _ok(call(JOB, "post_job_access.json", super_admin, path=site.path(), headers=NO_KEY,
             body={"account_id": vendor["account_id"], "expires_at": until}), 201)
    clock.freeze(clock.now() + timedelta(hours=1))
    # When
    _ok(site.book(site.gc_member, vendor_account_id=vendor["account_id"]), 201)
    # Then: it is named on the delivery, and its entry still ends when it did
    access = _ok(call(JOB, "get_job_access.json", super_admin, path=site.path()))
    [entry] = [v for v in access["vendors"] if v["account_id"] == vendor["account_id"]]
    assert entry["expires_at"] is not None


def test_a_vendor_account_id_of_another_kind_is_422(site):
    reply = site.book(site.gc_lead, vendor_account_id=site.trade["account_id"])
    assert reply.status == 422, reply.body


# ------------------------------------------------------ locations, equipment
def test_locations_and_equipment_are_managed_by_gc_leads_and_job_edit(site):
    # When
    by_gc_lead = call(FN, "post_job_locations.json", site.gc_lead, path=site.path(), body={"name": "Hoist A", "kind": "hoist"})
    by_member = call(FN, "post_job_locations.json", site.gc_member, path=site.path(), body={"name": "Hoist B", "kind": "hoist"})
    by_trade_lead = call(FN, "post_job_equipment.json", site.trade_lead, path=site.path(), body={"name": "Forklift"})
    same_name = call(FN, "post_job_locations.json", site.admin, path=site.path(), body={"name": "gate  1", "kind": "gate"})
    listed = _ok(call(FN, "get_job_locations.json", site.trade_member, path=site.path()))
    # Then
    assert (by_gc_lead.status, by_member.status, by_trade_lead.status, same_name.status) == (201, 403, 403, 409)
    assert {p["name"] for p in listed["items"]} == {"Gate 1", "Hoist A"}


@pytest.mark.parametrize("body", [{"name": "X", "kind": "roof"}, {"name": "", "kind": "gate"}, {"kind": "gate"},
                                  {"name": "X", "kind": "gate", "extra": 1}])
def test_bad_locations_are_422(site, body):
    assert call(FN, "post_job_locations.json", site.admin, path=site.path(), body=body).status == 422


# --------------------------------------------------------- events, archive
def _outbox_and_topic(resources) -> list[dict]:
    sqs = boto3.client("sqs")
    found = []
    while True:
        messages = sqs.receive_message(QueueUrl=resources.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        found += [json.loads(m["Body"]) for m in messages]


def test_every_state_change_publishes_one_event(site, resources):
    # Given
    _outbox_and_topic(resources)
    delivery = _ok(site.book(site.trade_member, for_trade=True), 201)["delivery_id"]
    _ok(site.act(site.trade_lead, "approve", delivery))
    _ok(site.act(site.gc_lead, "reject", delivery, {"reason": "gate closed"}))
    other = _ok(site.book(site.gc_member), 201)["delivery_id"]
    _ok(site.act(site.gc_member, "cancel", other))
    # When
    published = [e for e in _outbox_and_topic(resources) if e["type"].startswith("delivery.")]
    # Then
    assert [(e["type"], e["data"]["awaiting"]) for e in published] == [
        ("delivery.requested", ["gc", "trade"]), ("delivery.approved", ["gc"]), ("delivery.rejected", []),
        ("delivery.requested", ["gc"]), ("delivery.cancelled", [])]
    assert published[2]["data"]["reason"] == "gate closed"
    assert published[1]["data"]["by"] == site.trade_lead.user_id
    assert published[0]["data"]["start"] == f"{DAY}T10:00:00+13:00"
    assert len({e["event_id"] for e in published}) == 5
    assert not [i for i in table_items() if i.get("entity") == "OutboxEvent"]


def test_an_archived_job_takes_no_delivery_writes(site, super_admin):
    # Given
    delivery = _ok(site.book(site.gc_member), 201)["delivery_id"]
    _ok(call(JOB, "post_job_archive.json", super_admin, path=site.path()))
    # When
    statuses = [site.book(site.gc_lead, "12:00", "12:30").status, site.act(site.gc_lead, "approve", delivery).status,
                site.act(site.gc_lead, "reject", delivery).status, site.act(site.gc_member, "cancel", delivery).status,
                call(FN, "post_job_locations.json", super_admin, path=site.path(), body={"name": "G9", "kind": "gate"}).status,
                call(FN, "post_job_equipment.json", super_admin, path=site.path(), body={"name": "Crane 9"}).status]
    # Then: refused, and still readable
    assert statuses == [409] * 6
    assert site.get(site.gc_member, delivery).status == 200


def test_idempotency_key_repeats_return_the_first_booking(site):
    # Given
    body = {"for_account_id": site.admin.account_id, "location_id": site.gate,
            "start": f"{DAY}T10:00:00+13:00", "end": f"{DAY}T10:30:00+13:00"}
    key = {"idempotency-key": f"k-{uuid.uuid4().hex}"}
    # When
    first = call(FN, "post_job_deliveries.json", site.gc_lead, path=site.path(), body=body, headers=key)
    again = call(FN, "post_job_deliveries.json", site.gc_lead, path=site.path(), body=body, headers=key)
    # Then
    assert (first.status, again.status) == (201, 201)
    assert first.body == again.body


# ---------------------------------------------------------- out of sight
ROUTES = [  # event, extra path params, body
    ("get_job_locations.json", {}, None), ("post_job_locations.json", {}, {"name": "G", "kind": "gate"}),
    ("get_job_equipment.json", {}, None), ("post_job_equipment.json", {}, {"name": "E"}),
    ("post_job_deliveries.json", {}, "BOOKING"), ("get_job_deliveries.json", {}, None),
    ("get_job_delivery.json", {"delivery_id": "D"}, None), ("post_job_delivery_approve.json", {"delivery_id": "D"}, None),
    ("post_job_delivery_reject.json", {"delivery_id": "D"}, {"reason": "r"}),
    ("post_job_delivery_cancel.json", {"delivery_id": "D"}, {}),
    ("post_job_requests.json", {}, {"title": "t", "description": "d"}), ("get_job_requests.json", {}, None),
    ("patch_job_request.json", {"request_id": "R"}, {"status": "accepted"}),
]


@pytest.mark.parametrize(("event", "extra", "body"), ROUTES, ids=[r[0].removesuffix(".json") for r in ROUTES])
def test_other_tenants_and_invisible_jobs_are_404_on_every_route(site, operator, event, extra, body):
    # Given: a delivery and a request on the job; another tenant's Super Admin; a staff user not allocated to it
    delivery = _ok(site.book(site.gc_member), 201)["delivery_id"]
    customer, customer_admin = _account(site.admin, "customer")  # job requests are the customers'
    _ok(call(JOB, "post_job_access.json", site.admin, path=site.path(), body={"account_id": customer["account_id"]},
             headers=NO_KEY), 201)
    request = _ok(call(FN, "post_job_requests.json", customer_admin, path=site.path(),
                       body={"title": "Sweep", "description": "Road"}), 201)["request_id"]
    other = _ok(call("user_levels", "post_tenants.json", operator, headers=NO_KEY,
                     body={"name": "Other", "admin_email": f"{uuid.uuid4().hex[:6]}@o.example", "admin_name": "O"}), 201)
    stranger = Identity(other["tenant_id"], other["admin_user_id"], other["owner_account_id"])
    unallocated = _user(site.admin, "tmp_designer")
    ids = {"delivery_id": delivery, "request_id": request}
    if body == "BOOKING":
        body = {"for_account_id": site.admin.account_id, "location_id": site.gate,
                "start": f"{DAY}T12:00:00+13:00", "end": f"{DAY}T12:30:00+13:00"}
    for who in (stranger, unallocated):
        # When
        reply = call(FN, event, who, path=site.path(**{k: ids[k] for k in extra}), body=body, headers=NO_KEY)
        # Then
        assert reply.status == 404, (who, reply.body)


def test_an_unknown_delivery_is_404(site):
    assert site.get(site.gc_lead, "0" * 32).status == 404
    assert site.act(site.gc_lead, "approve", "0" * 32).status == 404


# ------------------------------------------------- found by trying it as an attacker
def test_cancel_takes_no_body_at_all(site):
    # Given
    delivery = _ok(site.book(site.gc_member), 201)["delivery_id"]
    # When: no body, as a client sends a bare POST
    reply = call(FN, "post_job_delivery_cancel.json", site.gc_member, path=site.path(delivery_id=delivery), body="")
    # Then
    assert reply.status == 200, reply.body


@pytest.mark.parametrize("cursor_key", [
    {"PK": "T#x#JOB#y", "SK": "DELIVERY#z", "GSI1PK": "WRONG", "GSI1SK": "a"},
    {"PK": "T#x#JOB#y", "SK": "DELIVERY#z", "GSI1PK": "OWN", "GSI1SK": ""},
    {"PK": "", "SK": "", "GSI1PK": "OWN", "GSI1SK": "a"},
])
def test_forged_list_cursors_are_422_never_500(site, cursor_key):
    import base64

    from sitegate import keys

    # Given: cursors naming this list's partition with impossible keys, or another list
    own = keys.job_deliveries(site.admin.tenant_id, site.job_id)
    forged = {k: (own if v == "OWN" else v) for k, v in cursor_key.items()}
    cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
    # When
    deliveries = call(FN, "get_job_deliveries.json", site.gc_lead, path=site.path(), query={"cursor": cursor})
    requests_ = call(FN, "get_job_requests.json", site.admin, path=site.path(), query={"cursor": cursor})
    # Then
    assert (deliveries.status, requests_.status) == (422, 422), (deliveries.body, requests_.body)


def test_racing_approvals_by_one_lead_count_once(site):
    from concurrent.futures import ThreadPoolExecutor

    # Given: a trade member's request; the GC lead approves it from 6 clients at once (one handler, in threads)
    delivery = _ok(site.book(site.trade_member, for_trade=True), 201)["delivery_id"]
    # When
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(lambda _: site.act(site.gc_lead, "approve", delivery).status, range(6)))
    # Then
    assert statuses == [200] + [409] * 5
    assert _ok(site.get(site.gc_lead, delivery))["approvals"] == {"gc": "approved", "trade": "pending"}


@pytest.mark.parametrize("extra", [{"equipment_ids": ["e"] * 11}, {"description": "x" * 1001},
                                   {"vendor_name": "   "}, {"override": "yes"}, {"start": 1795424400},
                                   {"recurrence": {"freq": "daily", "until": "2026-12-31"}}])
def test_more_bad_bookings_are_422(site, extra):
    reply = site.book(site.gc_lead, **extra)
    assert reply.status == 422, reply.body


def test_equipment_of_another_job_cannot_be_booked(site, super_admin):
    # Given: a crane on another job
    elsewhere = Site(super_admin)
    # When
    reply = site.book(site.gc_lead, equipment_ids=[elsewhere.crane])
    # Then
    assert reply.status == 422, reply.body
    assert [e["field"] for e in reply.body["errors"]] == ["equipment_ids"]


def test_a_delivery_of_another_job_is_404(site, super_admin):
    # Given
    elsewhere = Site(super_admin)
    theirs = _ok(elsewhere.book(elsewhere.gc_member), 201)["delivery_id"]
    # When: addressed through this job, where the caller is a GC lead
    reply = site.act(site.gc_lead, "approve", theirs)
    # Then
    assert reply.status == 404, reply.body


def test_the_function_may_publish_events_and_write_the_table_and_nothing_more():
    from local.template import load_template

    # Given
    statements = load_template()["Resources"]["DeliveryApprovalsFunction"]["Properties"]["Policies"][0]["Statement"]
    # When
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    publish = next(s for s in statements if s["Action"] == "sns:Publish")
    # Then: what TransactWriteItems' conditional puts, the reads and the outbox need; SNS on the topic only
    assert actions == {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                       "dynamodb:DeleteItem", "sns:Publish"}
    assert publish["Resource"] == {"Ref": "EventsTopic"}


@pytest.mark.parametrize("role", [None, "alerts_only"])
def test_staff_who_only_view_the_job_see_project_pages_only_as_lead_or_member(site, role):
    # Given: a View User (sees every job, edits none) who is not a lead or member of this one
    viewer = _user(site.admin, "view_user")
    if role:
        _role(site.admin, site.job_id, viewer, role)
    delivery = _ok(site.book(site.gc_lead), 201)["delivery_id"]
    pages = [("get_job_members.json", JOB, site.path()), ("get_job_locations.json", FN, site.path()),
             ("get_job_deliveries.json", FN, site.path()), ("get_job_delivery.json", FN, site.path(delivery_id=delivery))]
    # When / Then: no project pages (the job itself stays visible)
    assert [call(fn, event, viewer, path=path).status for event, fn, path in pages] == [403] * 4
    assert call(JOB, "get_job.json", viewer, path=site.path()).status == 200
    # When promoted to member / Then
    _role(site.admin, site.job_id, viewer, "member")
    assert [call(fn, event, viewer, path=path).status for event, fn, path in pages] == [200] * 4


@pytest.mark.parametrize("cut_off", ["removed", "archived"])
def test_a_delivery_for_a_trade_no_longer_on_the_job_cannot_be_approved_only_cancelled(site, super_admin, cut_off):
    # Given: a trade member's request, approved by the trade lead; then the trade leaves the job
    delivery = _ok(site.book(site.trade_member, for_trade=True), 201)["delivery_id"]
    _ok(site.act(site.trade_lead, "approve", delivery))
    if cut_off == "removed":
        _ok(call(JOB, "delete_job_access.json", super_admin,
                 path={"job_id": site.job_id, "account_id": site.trade["account_id"]}), 204)
    else:
        _ok(call("user_levels", "post_account_archive.json", super_admin,
                 path={"account_id": site.trade["account_id"]}))
    # When
    approved = site.act(site.gc_lead, "approve", delivery)
    cancelled = site.act(site.gc_lead, "cancel", delivery)
    # Then: found by attacking the stack (the approval went through and held the slot)
    assert approved.status == 409, approved.body
    assert cancelled.status == 200 and cancelled.body["status"] == "cancelled", cancelled.body
