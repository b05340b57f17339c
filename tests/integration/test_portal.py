"""The public portal: no token; the job's name, address, gates and the day's approved windows, and
nothing else."""

import json

import pytest

from sitegate import clock
from tests.integration.conftest import call
from tests.integration.test_deliveries import DAY, FN, JOB, Site, _ok


@pytest.fixture
def site(super_admin) -> Site:
    return Site(super_admin)


def _portal(job_id: str, **query):
    return call(FN, "get_portal.json", None, path={"job_id": job_id}, query=query)


def test_the_portal_shows_only_approved_windows_of_the_day_and_the_gates(site):
    # Given: an approved delivery at a drop zone with a description and a vendor, a pending one, a
    # rejected one, one the next day, and one that started the day before and runs into this one
    drop = site.location("North laydown", "laydown")
    approved = _ok(site.book(site.gc_lead, "10:00", "10:30", location_id=drop, description="SECRET rebar",
                             vendor_name="Hidden Vendor Ltd"), 201)
    _ok(site.book(site.gc_member, "11:00", "11:30"), 201)
    rejected = _ok(site.book(site.gc_member, "12:00", "12:30"), 201)["delivery_id"]
    _ok(site.act(site.gc_lead, "reject", rejected, {"reason": "SECRET reason"}))
    _ok(site.book(site.gc_lead, "10:00", "10:30", day="2026-12-01"), 201)
    overnight = call(FN, "post_job_deliveries.json", site.gc_lead, path=site.path(),
                     body={"for_account_id": site.admin.account_id, "location_id": site.gate,
                           "start": "2026-11-29T22:00:00+13:00", "end": f"{DAY}T06:00:00+13:00"})
    _ok(overnight, 201)
    # When
    reply = _portal(site.job_id, date=DAY)
    # Then
    body = _ok(reply)
    assert body == {"name": "Quay St tower", "address": "1 Quay St", "gates": ["Gate 1"], "deliveries": [
        {"start": "2026-11-29T22:00:00+13:00", "end": f"{DAY}T06:00:00+13:00", "location": "Gate 1"},
        {"start": approved["start"], "end": approved["end"], "location": "North laydown"}]}
    text = json.dumps(body)
    for secret in ("SECRET", "Hidden Vendor", site.trade["name"], site.gc_lead.user_id, "GC", "approvals"):
        assert secret not in text


def test_the_portal_day_defaults_to_today_in_the_tenants_time_zone(site):
    # Given: 23:30 UTC on the 29th is 12:30 on the 30th in Auckland
    from datetime import UTC, datetime

    clock.freeze(datetime(2026, 11, 29, 23, 30, tzinfo=UTC))
    _ok(site.book(site.gc_lead, "10:00", "10:30"), 201)
    # When
    reply = _portal(site.job_id)
    # Then
    assert [d["start"] for d in _ok(reply)["deliveries"]] == [f"{DAY}T10:00:00+13:00"]


@pytest.mark.parametrize("job_id", ["0" * 32, "no#such", "x" * 200])
def test_an_unknown_job_is_404(resources, job_id):
    assert _portal(job_id).status == 404


def test_a_deleted_job_is_404(site, super_admin):
    # Given
    assert _portal(site.job_id).status == 200
    # When
    _ok(call(JOB, "delete_job.json", super_admin, path=site.path()))
    # Then
    assert _portal(site.job_id).status == 404


@pytest.mark.parametrize("date", ["2026-13-01", "tomorrow", "2026-11-30T00:00", "9999-12-31", "0001-01-01"])
def test_a_bad_date_is_422(site, date):
    reply = _portal(site.job_id, date=date)
    assert reply.status == 422, reply.body
