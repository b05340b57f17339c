"""Job access through the job_access handler: the defects found by trying the API as an
attacker and a new user would, each kept fixed here."""

import uuid
from datetime import UTC, datetime

import pytest

from sitegate import clock
from tests.integration.conftest import Identity, call

JOB = "job_access"
NO_KEY = {"idempotency-key": ""}  # the sample events carry one: every create here is a new one


# ------------------------------------------------------------------ helpers
def _ok(reply, *statuses):
    assert reply.status in (statuses or (200, 201, 204)), reply.body
    return reply.body


def _job(admin: Identity, number: str | None = None, **extra) -> str:
    body = {"job_number": number or uuid.uuid4().hex[:8], "name": "North wharf", **extra}
    return _ok(call(JOB, "post_jobs.json", admin, body=body, headers=NO_KEY))["job_id"]


def _account(admin: Identity, kind: str) -> tuple[dict, Identity]:
    """An account with its master administrator, made by `admin`; returns it and the administrator."""
    tag = uuid.uuid4().hex[:8]
    account = _ok(call("user_levels", "post_accounts.json", admin, headers=NO_KEY,
                       body={"kind": kind, "name": f"{kind} {tag}", "admin": {"email": f"{tag}@co.example", "name": "Ad"}}))
    users = _ok(call("user_levels", "get_users.json", admin, query={"account_id": account["account_id"]}))["items"]
    return account, Identity(admin.tenant_id, users[0]["user_id"], account["account_id"])


def _user(admin: Identity, level: str, account_id: str | None = None, **extra) -> Identity:
    tag = uuid.uuid4().hex[:8]
    body = {"email": f"{tag}@co.example", "name": f"{level} {tag}", "level": level, **extra}
    if account_id:
        body["account_id"] = account_id
    user = _ok(call("user_levels", "post_users.json", admin, body=body, headers=NO_KEY))
    return Identity(admin.tenant_id, user["user_id"], user["account_id"])


def _grant(who: Identity, job_id: str, account_id: str, **extra):
    return call(JOB, "post_job_access.json", who, path={"job_id": job_id}, body={"account_id": account_id, **extra},
                headers=NO_KEY)


def _ticket(admin: Identity, job_id: str, **extra) -> dict:
    body = {"ticket_number": uuid.uuid4().hex[:8], "material": "20MPa concrete", "quantity": "6.5", "unit": "m3",
            "truck": "T-12", "status": "en_route", "eta": "2026-11-23T10:30:00+13:00", **extra}
    return call(JOB, "post_job_tickets.json", admin, path={"job_id": job_id}, body=body, headers=NO_KEY)


def _members(who: Identity, job_id: str) -> dict[str, dict]:
    return {m["user_id"]: m for m in _ok(call(JOB, "get_job_members.json", who, path={"job_id": job_id}))["items"]}


def _fields(reply) -> list[str]:
    return [e["field"] for e in reply.body["errors"]]


# --------------------------------------------------- decimal amounts
@pytest.mark.parametrize(("sent", "answered"), [(7.1, "7.100"), (6.5, "6.500"), ("6.5", "6.500"), (10, "10.000")])
def test_ticket_quantity_is_a_json_number_or_a_decimal_string(super_admin, sent, answered):
    # Given
    job_id = _job(super_admin)
    # When
    reply = _ticket(super_admin, job_id, quantity=sent)
    # Then
    assert reply.status == 201, reply.body
    assert reply.body["quantity"] == answered


@pytest.mark.parametrize("sent", [True, "NaN", "Infinity", -1, "1e3", 1.0001, 0.1 + 0.2])
def test_ticket_quantity_that_is_not_a_plain_decimal_is_422(super_admin, sent):
    # Given
    job_id = _job(super_admin)
    body = {"ticket_number": "T-1", "material": "m", "quantity": 1, "unit": "t", "truck": "T"}
    raw = str(sent) if sent in ("NaN", "Infinity") else None  # JSON's own NaN / Infinity tokens
    text = (__import__("json").dumps(body).replace('"quantity": 1', f'"quantity": {raw}') if raw
            else {**body, "quantity": sent})
    # When
    reply = call(JOB, "post_job_tickets.json", super_admin, path={"job_id": job_id}, body=text)
    # Then
    assert reply.status == 422, reply.body
    assert _fields(reply) == ["quantity"]


@pytest.mark.parametrize(("sent", "answered"), [(7.5, "7.50"), ("7.5", "7.50"), (8, "8.00"), (0.25, "0.25")])
def test_record_hours_are_a_json_number_or_a_decimal_string(super_admin, sent, answered):
    # Given
    job_id = _job(super_admin)
    # When
    reply = call(JOB, "post_job_records.json", super_admin, path={"job_id": job_id},
                 body={"type": "time", "date": "2026-11-20", "hours": sent})
    # Then
    assert reply.status == 201, reply.body
    assert reply.body["hours"] == answered


# ------------------------------------------------------------- ETAs
def test_etas_are_soonest_instant_first_whatever_the_offsets(super_admin):
    # Given: 10:30+13:00 is 21:30 UTC the day before, long before 09:00+00:00
    job_id = _job(super_admin)
    late = _ok(_ticket(super_admin, job_id, eta="2026-11-23T09:00:00+00:00"))
    early = _ok(_ticket(super_admin, job_id, eta="2026-11-23T10:30:00+13:00"))
    # When
    etas = _ok(call(JOB, "get_job_etas.json", super_admin, path={"job_id": job_id}))["items"]
    # Then
    assert [t["ticket_id"] for t in etas] == [early["ticket_id"], late["ticket_id"]]


def _etas(who: Identity, job_id: str) -> list[str]:
    return [t["ticket_id"] for t in _ok(call(JOB, "get_job_etas.json", who, path={"job_id": job_id}))["items"]]


def test_an_unloaded_or_rejected_ticket_leaves_the_etas(super_admin):
    # Given: three trucks on the road
    job_id = _job(super_admin)
    unloaded, rejected, still = (_ok(_ticket(super_admin, job_id, eta=f"2026-11-23T1{n}:00:00+13:00"))["ticket_id"]
                                 for n in range(3))
    assert _etas(super_admin, job_id) == [unloaded, rejected, still]
    # When: one is accepted, one turned away
    for ticket_id, accepted in ((unloaded, True), (rejected, False)):
        _ok(call(JOB, "post_job_ticket_unload.json", super_admin, path={"job_id": job_id, "ticket_id": ticket_id},
                 body={"accepted": accepted}))
    # Then: only the truck still on the road is listed
    assert _etas(super_admin, job_id) == [still]


def test_a_loaded_ticket_that_goes_en_route_appears_and_a_new_eta_moves_it(super_admin):
    # Given: a loaded ticket (no eta yet) and a truck already on the road
    job_id = _job(super_admin)
    loaded = _ok(_ticket(super_admin, job_id, status="loaded", eta=None))["ticket_id"]
    on_road = _ok(_ticket(super_admin, job_id, eta="2026-11-23T10:00:00+13:00"))["ticket_id"]
    assert _etas(super_admin, job_id) == [on_road]
    # When: the loaded one leaves, due after the other
    path = {"job_id": job_id, "ticket_id": loaded}
    _ok(call(JOB, "patch_job_ticket.json", super_admin, path=path,
             body={"status": "en_route", "eta": "2026-11-23T11:00:00+13:00"}))
    # Then: it is listed, with its eta ...
    etas = _ok(call(JOB, "get_job_etas.json", super_admin, path={"job_id": job_id}))["items"]
    assert [(t["ticket_id"], t["eta"]) for t in etas] == [(on_road, "2026-11-23T10:00:00+13:00"),
                                                          (loaded, "2026-11-23T11:00:00+13:00")]
    # ... and an earlier eta moves it ahead (its place in the index follows its eta)
    _ok(call(JOB, "patch_job_ticket.json", super_admin, path=path, body={"eta": "2026-11-23T09:00:00+13:00"}))
    assert _etas(super_admin, job_id) == [loaded, on_road]


def test_an_expiry_less_than_a_second_away_is_refused_not_stored_already_over(super_admin):
    # Given: entries are stored to the second, so half a second ahead would be stored as now
    clock.freeze(datetime(2026, 11, 23, 9, tzinfo=UTC))
    job_id = _job(super_admin)
    vendor, _ = _account(super_admin, "vendor")
    # When
    soon = _grant(super_admin, job_id, vendor["account_id"], expires_at="2026-11-23T09:00:00.500000+00:00")
    later = _grant(super_admin, job_id, vendor["account_id"], expires_at="2026-11-23T09:00:01+00:00")
    # Then
    assert (soon.status, _fields(soon)) == (422, ["expires_at"])
    assert later.status == 201, later.body


# ------------------------------------------------- times out of range
@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_times_past_the_calendar_in_utc_are_422_naming_the_field(super_admin, when):
    # Given
    job_id = _job(super_admin)
    vendor, _ = _account(super_admin, "vendor")
    # When
    grant = _grant(super_admin, job_id, vendor["account_id"], expires_at=when)
    ticket = _ticket(super_admin, job_id, eta=when)
    # Then
    assert (grant.status, _fields(grant)) == (422, ["expires_at"])
    assert (ticket.status, _fields(ticket)) == (422, ["eta"])


# --------------------------------------------------------- job numbers
def test_job_numbers_are_unique_whatever_their_case_and_search_ignores_case(super_admin):
    # Given
    _job(super_admin, "abc520")
    # When
    again = call(JOB, "post_jobs.json", super_admin, body={"job_number": "ABC520", "name": "Again"})
    found = _ok(call(JOB, "get_jobs.json", super_admin, query={"q": "AbC5"}))["items"]
    # Then: one number, kept as typed
    assert again.status == 409, again.body
    assert [j["job_number"] for j in found] == ["abc520"]


# ------------------------------------------------------------ deletion
def test_deleting_a_job_takes_it_out_of_the_job_ids_that_carried_it(super_admin):
    # Given: staff allocated to the job and a customer manager assigned to it
    job_id = _job(super_admin)
    keep = _job(super_admin)
    customer, _ = _account(super_admin, "customer")
    _ok(_grant(super_admin, job_id, customer["account_id"]))
    _ok(_grant(super_admin, keep, customer["account_id"]))
    staff = _user(super_admin, "basic_user", job_ids=[job_id, keep])
    manager = _user(super_admin, "manager", customer["account_id"], job_ids=[job_id, keep])
    # When
    _ok(call(JOB, "delete_job.json", super_admin, path={"job_id": job_id}))
    # Then
    for who in (staff, manager):
        user = _ok(call("user_levels", "get_user.json", super_admin, path={"user_id": who.user_id}))
        assert user["job_ids"] == [keep]
        renamed = call("user_levels", "patch_user.json", super_admin, path={"user_id": who.user_id}, body={"name": "Re"})
        assert renamed.status == 200, renamed.body


# ------------------------------------------------------- archived jobs
WRITES = [  # event, path parameters beyond the job, body
    ("patch_job.json", (), {"name": "x"}),
    ("post_job_tickets.json", (), None),
    ("patch_job_ticket.json", ("ticket_id",), {"status": "loaded"}),
    ("post_job_ticket_unload.json", ("ticket_id",), {"accepted": True}),
    ("post_job_records.json", (), {"type": "time", "date": "2026-11-20", "hours": 1}),
    ("put_job_member.json", ("user_id",), {"role": "member"}),
    ("post_job_access.json", (), "grant"),
    ("delete_job_access.json", ("account_id",), None),
]


@pytest.mark.parametrize(("event", "params", "body"), [pytest.param(*w, id=w[0].removesuffix(".json")) for w in WRITES])
def test_an_archived_job_takes_no_writes_and_stays_readable(super_admin, event, params, body):
    # Given: an archived job with a ticket en route, a vendor on its list and a staff member
    job_id = _job(super_admin)
    ticket = _ok(_ticket(super_admin, job_id))
    vendor, _ = _account(super_admin, "vendor")
    _ok(_grant(super_admin, job_id, vendor["account_id"]))
    other, _ = _account(super_admin, "trade_contractor")
    ids = {"job_id": job_id, "ticket_id": ticket["ticket_id"], "user_id": super_admin.user_id,
           "account_id": vendor["account_id"]}
    _ok(call(JOB, "post_job_archive.json", super_admin, path={"job_id": job_id}))
    # When
    reply = call(JOB, event, super_admin, path={p: ids[p] for p in ("job_id", *params)},
                 body={"account_id": other["account_id"]} if body == "grant" else body)
    # Then
    assert reply.status == 409, reply.body
    assert "archived" in reply.body["message"]
    assert _ok(call(JOB, "get_job.json", super_admin, path={"job_id": job_id}))["status"] == "archived"


# ------------------------------------------------------ staff on tickets
@pytest.mark.parametrize("level", ["view_user", "basic_user", "basic_user_plus"])
def test_staff_who_can_view_a_job_see_its_tickets_and_etas_but_do_not_unload(super_admin, level):
    # Given
    job_id = _job(super_admin)
    ticket = _ok(_ticket(super_admin, job_id))
    staff = _user(super_admin, level, job_ids=[job_id] if level == "basic_user" else [])
    path = {"job_id": job_id}
    # Then
    assert call(JOB, "get_job_tickets.json", staff, path=path).status == 200
    assert len(_ok(call(JOB, "get_job_etas.json", staff, path=path))["items"]) == 1
    unload = call(JOB, "post_job_ticket_unload.json", staff, path={**path, "ticket_id": ticket["ticket_id"]},
                  body={"accepted": True})
    assert unload.status == 403, unload.body


def test_allocated_staff_see_no_tickets_of_other_jobs(super_admin):
    job_id = _job(super_admin)
    staff = _user(super_admin, "basic_user", job_ids=[_job(super_admin)])
    assert call(JOB, "get_job_tickets.json", staff, path={"job_id": job_id}).status == 404


# ------------------------------------------------------------- directory
def test_directory_lists_only_people_who_can_reach_the_job(super_admin):
    # Given: a trade on the job with a basic user assigned here and one assigned elsewhere,
    # and staff allocated here and elsewhere
    job_id, elsewhere = _job(super_admin), _job(super_admin)
    trade, _ = _account(super_admin, "trade_contractor")
    _ok(_grant(super_admin, job_id, trade["account_id"]))
    _ok(_grant(super_admin, elsewhere, trade["account_id"]))
    here = _user(super_admin, "basic", trade["account_id"], job_ids=[job_id])
    away = _user(super_admin, "basic", trade["account_id"], job_ids=[elsewhere])
    staff_here = _user(super_admin, "basic_user", job_ids=[job_id])
    staff_away = _user(super_admin, "basic_user", job_ids=[elsewhere])
    viewer = _user(super_admin, "view_user")
    # When
    listed = _members(super_admin, job_id)
    # Then
    assert {here.user_id, staff_here.user_id, viewer.user_id, super_admin.user_id} <= set(listed)
    assert not {away.user_id, staff_away.user_id} & set(listed)


@pytest.mark.parametrize("who", ["away", "staff_away"])  # nobody at all: 404, test_found_by_attack
def test_a_role_is_given_only_to_someone_who_can_reach_the_job(super_admin, who):
    # Given
    job_id, elsewhere = _job(super_admin), _job(super_admin)
    trade, _ = _account(super_admin, "trade_contractor")
    _ok(_grant(super_admin, elsewhere, trade["account_id"]))
    _ok(_grant(super_admin, job_id, trade["account_id"]))
    people = {"away": lambda: _user(super_admin, "basic", trade["account_id"], job_ids=[elsewhere]).user_id,
              "staff_away": lambda: _user(super_admin, "basic_user", job_ids=[elsewhere]).user_id}
    # When
    reply = call(JOB, "put_job_member.json", super_admin, path={"job_id": job_id, "user_id": people[who]()},
                 body={"role": "member"})
    # Then
    assert reply.status == 422, reply.body
    assert _fields(reply) == ["user_id"]


def test_contact_details_only_for_gc_leads_and_job_editors(super_admin):
    # Given: a trade lead, a GC lead who is not an editor, and a GC member
    job_id = _job(super_admin)
    trade, trade_admin = _account(super_admin, "trade_contractor")
    _ok(_grant(super_admin, job_id, trade["account_id"]))
    gc_lead, gc_member = _user(super_admin, "basic_user_plus"), _user(super_admin, "basic_user_plus")
    for who, role in ((trade_admin, "lead"), (gc_lead, "lead"), (gc_member, "member")):
        _ok(call(JOB, "put_job_member.json", super_admin, path={"job_id": job_id, "user_id": who.user_id},
                 body={"role": role}))
    # When
    seen = {who: _members(who, job_id) for who in (super_admin, gc_lead, gc_member, trade_admin)}
    # Then
    for who in (super_admin, gc_lead):
        assert seen[who][trade_admin.user_id]["email"], who
    for who in (gc_member, trade_admin):
        assert all(m["email"] is None and m["phone"] is None for m in seen[who].values()), who
        assert seen[who][trade_admin.user_id]["name"] and seen[who][trade_admin.user_id]["role"] == "lead"


# ------------------------------------------------------------------ guests
@pytest.fixture
def sponsored(super_admin):
    """A job with a customer on it whose administrator made a guest contractor and granted it the job."""
    job_id = _job(super_admin)
    customer, sponsor_admin = _account(super_admin, "customer")
    _ok(_grant(super_admin, job_id, customer["account_id"]))
    guest, guest_admin = _account(sponsor_admin, "guest_contractor")
    _ok(_grant(sponsor_admin, job_id, guest["account_id"]))
    assert call(JOB, "get_job.json", guest_admin, path={"job_id": job_id}).status == 200
    return {"job_id": job_id, "customer": customer, "sponsor_admin": sponsor_admin, "guest": guest,
            "guest_admin": guest_admin}


def test_guests_grant_no_access(super_admin, sponsored):
    # Given: a vendor the guest's administrator tries to bring onto the job
    vendor, _ = _account(super_admin, "vendor")
    # When
    reply = _grant(sponsored["guest_admin"], sponsored["job_id"], vendor["account_id"])
    # Then
    assert reply.status in (403, 404), reply.body


def test_a_guest_loses_the_job_when_its_sponsor_is_removed_from_it(super_admin, sponsored):
    # When
    _ok(call(JOB, "delete_job_access.json", super_admin,
             path={"job_id": sponsored["job_id"], "account_id": sponsored["customer"]["account_id"]}))
    # Then
    assert call(JOB, "get_job.json", sponsored["guest_admin"], path={"job_id": sponsored["job_id"]}).status == 404
    assert sponsored["guest_admin"].user_id not in _members(super_admin, sponsored["job_id"])


def test_a_guest_loses_the_job_when_its_sponsor_is_archived(super_admin, sponsored):
    # When
    _ok(call("user_levels", "post_account_archive.json", super_admin,
             path={"account_id": sponsored["customer"]["account_id"]}))
    # Then
    assert call(JOB, "get_job.json", sponsored["guest_admin"], path={"job_id": sponsored["job_id"]}).status == 404


def test_a_guest_loses_the_job_when_its_sponsors_entry_expires(super_admin):
    # Given: the sponsor's entry expires in an hour
    from datetime import UTC, datetime, timedelta

    from sitegate import clock

    clock.freeze(datetime(2026, 11, 23, 9, tzinfo=UTC))
    job_id = _job(super_admin)
    customer, sponsor_admin = _account(super_admin, "customer")
    _ok(_grant(super_admin, job_id, customer["account_id"], expires_at="2026-11-23T10:00:00+00:00"))
    guest, guest_admin = _account(sponsor_admin, "guest_contractor")
    _ok(_grant(sponsor_admin, job_id, guest["account_id"]))
    assert call(JOB, "get_job.json", guest_admin, path={"job_id": job_id}).status == 200
    # When
    clock.freeze(datetime(2026, 11, 23, 9, tzinfo=UTC) + timedelta(hours=2))
    # Then
    assert call(JOB, "get_job.json", guest_admin, path={"job_id": job_id}).status == 404


def test_the_sponsor_removes_its_guests_entry(sponsored):
    # When
    reply = call(JOB, "delete_job_access.json", sponsored["sponsor_admin"],
                 path={"job_id": sponsored["job_id"], "account_id": sponsored["guest"]["account_id"]})
    # Then
    assert reply.status == 204, reply.body
    assert call(JOB, "get_job.json", sponsored["guest_admin"], path={"job_id": sponsored["job_id"]}).status == 404
