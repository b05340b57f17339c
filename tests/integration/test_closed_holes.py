"""Holes an outside attack found in who gets what on a job, each kept closed here: vendors named on
bookings, what trade and vendor users without a role see, who reads the access list, records and job
requests, one comparison form of vendor names, and archived jobs' pending deliveries."""

import json

import boto3
import pytest

from tests.integration.conftest import Identity, call
from tests.integration.test_deliveries import FN, JOB, NO_KEY, Site, _account, _ok, _role, _user


@pytest.fixture
def site(super_admin) -> Site:
    return Site(super_admin)


def _access_ids(who: Identity, site: Site) -> set[str]:
    access = _ok(call(JOB, "get_job_access.json", who, path=site.path()))
    return {entry["account_id"] for panel in access.values() for entry in panel}


def _put_on_job(site: Site, account_id: str) -> None:
    _ok(call(JOB, "post_job_access.json", site.admin, path=site.path(), body={"account_id": account_id},
             headers=NO_KEY), 201)


def _record(site: Site) -> None:
    _ok(call(JOB, "post_job_records.json", site.admin, path=site.path(), headers=NO_KEY,
             body={"type": "time", "date": "2026-11-30", "hours": "7.5", "note": "overtime for the pour"}), 201)


def _job_data_statuses(who: Identity, site: Site) -> dict[str, int]:
    """What `who` gets from every job page beyond the portal."""
    return {
        "job": call(JOB, "get_job.json", who, path=site.path()).status,
        "access": call(JOB, "get_job_access.json", who, path=site.path()).status,
        "records": call(JOB, "get_job_records.json", who, path=site.path()).status,
        "members": call(JOB, "get_job_members.json", who, path=site.path()).status,
        "deliveries": call(FN, "get_job_deliveries.json", who, path=site.path()).status,
        "requests": call(FN, "get_job_requests.json", who, path=site.path()).status,
        "new_request": call(FN, "post_job_requests.json", who, path=site.path(), headers=NO_KEY,
                            body={"title": "Sweep", "description": "Mud"}).status,
    }


def _refused(statuses: dict[str, int]) -> bool:
    return all(status in (403, 404) for status in statuses.values())


# ------------------------------------------------------- 1. a removal stands
def test_a_removed_vendor_does_not_come_back_through_a_booking(site, super_admin):
    # Given: a vendor on the job with a promoted lead, then removed by staff
    vendor, vendor_admin = _account(super_admin, "vendor")
    _put_on_job(site, vendor["account_id"])
    _role(super_admin, site.job_id, vendor_admin, "lead")
    _ok(call(JOB, "delete_job_access.json", super_admin, path=site.path(account_id=vendor["account_id"])), 204)
    # When: a trade member books naming it by id, then by name
    by_id = site.book(site.trade_member, for_trade=True, vendor_account_id=vendor["account_id"])
    by_name = site.book(site.trade_member, "11:00", "11:30", for_trade=True, vendor_name=vendor["name"].upper())
    # Then: by id it is not on the list (422); by name it is named on the delivery but not put back
    assert by_id.status == 422, by_id.body
    assert [e["field"] for e in by_id.body["errors"]] == ["vendor_account_id"]
    assert _ok(by_name, 201)["vendor_account_id"] == vendor["account_id"]
    assert vendor["account_id"] not in _access_ids(super_admin, site)
    assert _refused(_job_data_statuses(vendor_admin, site))


def test_staff_granting_a_removed_vendor_again_lifts_the_removal(site, super_admin):
    # Given
    vendor, _ = _account(super_admin, "vendor")
    _put_on_job(site, vendor["account_id"])
    _ok(call(JOB, "delete_job_access.json", super_admin, path=site.path(account_id=vendor["account_id"])), 204)
    # When: staff put it back, and a booking names it
    _put_on_job(site, vendor["account_id"])
    booked = site.book(site.gc_member, vendor_account_id=vendor["account_id"])
    # Then
    assert _ok(booked, 201)["vendor_account_id"] == vendor["account_id"]
    assert vendor["account_id"] in _access_ids(super_admin, site)


# ---------------------------------------- 2. a booking puts no tenant vendor on a job by id
def test_a_vendor_account_id_must_be_on_the_jobs_access_list(site, super_admin):
    # Given: a vendor of the tenant that nobody put on this job, and a staff time record on the job
    vendor, vendor_admin = _account(super_admin, "vendor")
    _record(site)
    # When
    reply = site.book(site.trade_member, for_trade=True, vendor_account_id=vendor["account_id"])
    # Then: 422, nothing changed, and the vendor's administrator reaches nothing of the job
    assert reply.status == 422, reply.body
    assert [e["field"] for e in reply.body["errors"]] == ["vendor_account_id"]
    assert vendor["account_id"] not in _access_ids(super_admin, site)
    assert _job_data_statuses(vendor_admin, site) == dict.fromkeys(_job_data_statuses(vendor_admin, site), 404)


# ----------------------------------- 3. trade and vendor users without a role see only the portal
def test_plot_users_without_a_lead_or_member_role_see_no_job_data(site, super_admin):
    # Given: an alerts_only trade manager, and a vendor put on the job by a booking (not promoted)
    _record(site)
    alerts_only = _user(super_admin, "manager", site.trade["account_id"], job_ids=[site.job_id])
    _role(super_admin, site.job_id, alerts_only, "alerts_only")
    booked = _ok(site.book(site.gc_member, vendor_name="Quarry Direct"), 201)
    users = _ok(call("user_levels", "get_users.json", super_admin, query={"account_id": booked["vendor_account_id"]}))
    assert users["items"] == []  # a vendor made by a booking has no users yet: give it one
    vendor_admin = _user(super_admin, "administrator", booked["vendor_account_id"])
    # When
    seen = {"alerts_only": _job_data_statuses(alerts_only, site), "vendor": _job_data_statuses(vendor_admin, site)}
    # Then: refused everywhere, though both are in the directory
    assert all(_refused(statuses) for statuses in seen.values()), seen
    listed = {m["user_id"]: m["role"] for m in _ok(call(JOB, "get_job_members.json", super_admin,
                                                         path=site.path()))["items"]}
    assert (listed[alerts_only.user_id], listed[vendor_admin.user_id]) == ("alerts_only", "not_on_jobsite")


def test_trade_members_see_project_pages_but_not_records_requests_or_the_whole_access_list(site, super_admin):
    # Given: a staff time record; the trade's administrator is its lead
    _record(site)
    # When
    member = _job_data_statuses(site.trade_member, site)
    lead_access = _access_ids(site.trade_lead, site)
    # Then
    assert member == {"job": 200, "access": 403, "records": 403, "members": 200, "deliveries": 200,
                      "requests": 403, "new_request": 403}
    assert lead_access == {site.trade["account_id"]}  # its own entry only


def test_a_plot_administrators_job_search_lists_only_jobs_it_has_a_role_on(site, super_admin):
    # Given: the trade is on a second job where its administrator has no role
    other = Site(super_admin)
    _ok(call(JOB, "post_job_access.json", super_admin, path=other.path(), headers=NO_KEY,
             body={"account_id": site.trade["account_id"]}), 201)
    # When
    found = _ok(call(JOB, "get_jobs.json", site.trade_lead, query={"q": ""}))["items"]
    # Then
    assert [j["job_id"] for j in found] == [site.job_id]


def test_customer_administrators_see_records_and_only_their_own_entry(super_admin):
    # Given: a customer and an inspection firm on the job, a staff record
    site = Site(super_admin)
    customer, customer_admin = _account(super_admin, "customer")
    firm, firm_admin = _account(super_admin, "inspection_firm")
    _put_on_job(site, customer["account_id"])
    _ok(call(JOB, "post_job_access.json", super_admin, path=site.path(), headers=NO_KEY,
             body={"account_id": firm["account_id"], "access_type": "standard"}), 201)
    _record(site)
    # When
    records = call(JOB, "get_job_records.json", customer_admin, path=site.path())
    firm_records = call(JOB, "get_job_records.json", firm_admin, path=site.path())
    firm_request = call(FN, "post_job_requests.json", firm_admin, path=site.path(), headers=NO_KEY,
                        body={"title": "Sweep", "description": "Mud"})
    # Then
    assert [r["note"] for r in _ok(records)["items"]] == ["overtime for the pour"]
    assert (firm_records.status, firm_request.status) == (403, 403)
    assert _access_ids(customer_admin, site) == {customer["account_id"]}
    assert _access_ids(firm_admin, site) == {firm["account_id"]}


def test_staff_who_only_view_the_job_do_not_read_its_access_list_but_gc_leads_do(site, super_admin):
    # Given
    viewer = _user(super_admin, "view_user")
    # When
    viewer_reply = call(JOB, "get_job_access.json", viewer, path=site.path())
    gc_lead = _access_ids(site.gc_lead, site)
    # Then
    assert viewer_reply.status == 403
    assert site.trade["account_id"] in gc_lead


def test_gc_leads_put_vendors_on_their_job_and_trade_members_do_not(site, super_admin):
    # Given
    vendor, _ = _account(super_admin, "vendor")
    body = {"account_id": vendor["account_id"]}
    # When
    by_trade = call(JOB, "post_job_access.json", site.trade_member, path=site.path(), body=body, headers=NO_KEY)
    by_gc_member = call(JOB, "post_job_access.json", site.gc_member, path=site.path(), body=body, headers=NO_KEY)
    by_gc_lead = call(JOB, "post_job_access.json", site.gc_lead, path=site.path(), body=body, headers=NO_KEY)
    # Then: to those who may not manage the list, a vendor off the job is out of sight (404)
    assert (by_trade.status, by_gc_member.status, by_gc_lead.status) == (404, 404, 201)
    assert _ok(by_gc_lead)["granted_by"] == site.gc_lead.user_id


# ------------------------------------------------------------- 4. one name, one vendor
FULL_WIDTH = "\uff36\uff45\uff4e\uff44\uff4f\uff52 \uff2f\uff4e\uff45"  # "Vendor One" in full-width letters


@pytest.mark.parametrize("variant", ["Vendor  One", "vendor one", "VENDOR ONE", FULL_WIDTH, "Ven\u200bdor One",
                                     " Vendor\u00a0One "])
def test_spacing_case_composition_and_zero_width_variants_name_one_vendor(site, variant):
    # Given
    first = _ok(site.book(site.gc_member, vendor_name="Vendor One"), 201)
    # When
    again = site.book(site.gc_member, "11:00", "11:30", vendor_name=variant)
    # Then
    assert _ok(again, 201)["vendor_account_id"] == first["vendor_account_id"]


def test_naming_an_archived_vendor_is_422_and_makes_no_new_one(site, super_admin):
    # Given
    vendor, _ = _account(super_admin, "vendor")
    _ok(call("user_levels", "post_account_archive.json", super_admin, path={"account_id": vendor["account_id"]}))
    before = _ok(call("user_levels", "get_accounts.json", super_admin, query={"kind": "vendor"}))["items"]
    # When
    reply = site.book(site.gc_member, vendor_name=f"  {vendor['name'].lower()} ")
    # Then
    assert reply.status == 422, reply.body
    assert [e["field"] for e in reply.body["errors"]] == ["vendor_name"]
    after = _ok(call("user_levels", "get_accounts.json", super_admin, query={"kind": "vendor"}))["items"]
    assert len(after) == len(before)


# -------------------------------------------- 7. archiving a job cancels its pending deliveries
def test_archiving_a_job_cancels_its_pending_deliveries_each_with_its_event(site, super_admin, resources):
    # Given: two pending deliveries and an approved one
    pending = [_ok(site.book(site.gc_member, start, end), 201)["delivery_id"]
               for start, end in (("10:00", "10:30"), ("11:00", "11:30"))]
    approved = _ok(site.book(site.gc_lead, "12:00", "12:30"), 201)["delivery_id"]
    sqs = boto3.client("sqs")
    while sqs.receive_message(QueueUrl=resources.queue_url, MaxNumberOfMessages=10).get("Messages"):
        pass  # the setup's own events
    # When
    _ok(call(JOB, "post_job_archive.json", super_admin, path=site.path()))
    # Then: each pending one is cancelled with reason "job archived"; the approved one stands
    states = {d: _ok(site.get(super_admin, d)) for d in [*pending, approved]}
    assert [(states[d]["status"], states[d].get("reason")) for d in pending] == [("cancelled", "job archived")] * 2
    assert states[approved]["status"] == "approved"
    bodies = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=resources.queue_url,
                                                                 MaxNumberOfMessages=10).get("Messages", [])]
    assert sorted(b["data"]["delivery_id"] for b in bodies if b["type"] == "delivery.cancelled") == sorted(pending)
    assert _ok(call("user_levels", "get_dashboard.json", super_admin))["pending_deliveries"] == 0


def test_archiving_a_job_with_more_pending_deliveries_than_one_transaction_holds_cancels_them_all(site, super_admin):
    # Given: 55 pending deliveries (the job and 49 cancellations fill one transaction)
    gates = [site.location(f"Bay {n}") for n in range(11)]
    for gate in gates:
        for hour in range(10, 15):
            body = {"for_account_id": site.admin.account_id, "location_id": gate,
                    "start": f"2026-11-30T{hour}:00:00+13:00", "end": f"2026-11-30T{hour}:30:00+13:00"}
            _ok(call(FN, "post_job_deliveries.json", site.gc_member, path=site.path(), body=body, headers=NO_KEY), 201)
    # When
    _ok(call(JOB, "post_job_archive.json", super_admin, path=site.path()))
    # Then
    listed = _ok(call(FN, "get_job_deliveries.json", super_admin, path=site.path(), query={"limit": "200"}))["items"]
    assert len(listed) == 55
    assert {d["status"] for d in listed} == {"cancelled"}


def test_a_guest_a_trade_sponsors_gets_no_more_of_the_job_than_the_trade(site, super_admin):
    # Given: the trade's lead sponsors a guest onto the job; the trade's administrator (no role) gives it a user
    guest = _ok(call("user_levels", "post_accounts.json", site.trade_lead, headers=NO_KEY,
                     body={"kind": "guest_contractor", "name": "Trade Guest", "admin": {"email": "tg@co.example",
                                                                                         "name": "TG"}}), 201)
    _put_on_job_by(site, site.trade_lead, guest["account_id"])
    guest_user = _user(site.trade_admin, "administrator", guest["account_id"])
    # When
    seen = _job_data_statuses(guest_user, site)
    found = _ok(call(JOB, "get_jobs.json", guest_user, query={"q": ""}))["items"]
    # Then: like its sponsor's users without a role, the guest sees only the portal
    assert _refused(seen), seen
    assert found == []


def _put_on_job_by(site: Site, who: Identity, account_id: str) -> None:
    _ok(call(JOB, "post_job_access.json", who, path=site.path(), body={"account_id": account_id}, headers=NO_KEY), 201)


def test_archiving_reads_again_and_retries_when_a_delivery_changed_meanwhile(site, super_admin, monkeypatch):
    # Given: a pending delivery, and a first archive transaction that loses a race
    from sitegate.data import core
    from sitegate.errors import Conflict

    pending = _ok(site.book(site.gc_member), 201)["delivery_id"]
    real_write, calls = core.write, []

    def lose_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise Conflict("changed by someone else meanwhile; read it again")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(core, "write", lose_once)
    # When
    reply = call(JOB, "post_job_archive.json", super_admin, path=site.path())
    # Then
    assert _ok(reply)["status"] == "archived"
    assert _ok(site.get(super_admin, pending))["status"] == "cancelled"
    assert len(calls) == 2
