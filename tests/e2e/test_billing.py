"""Billing over HTTP on the local stack: the seed's worked example reproduced through the API
with the test clock and `POST /local/billing/run`, racing runs, the CSV and the preview."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest


@pytest.fixture
def clock(api) -> Iterator:
    def set_to(now: str) -> None:
        assert api.request("POST", "/local/clock", json={"now": now}).status_code == 200

    yield set_to
    api.request("DELETE", "/local/clock")


def test_the_worked_example_through_the_api(api, operator_token, clock):
    # Given: a tenant in August 2026 (Auckland): 10 field and 3 office users all September ...
    clock("2026-08-20T09:00:00+12:00")
    mark = uuid.uuid4().hex[:8]
    admin_email = f"ada-{mark}@acme.example"
    made = api.request("POST", "/tenants", operator_token, json={"name": f"Acme {mark}", "admin_email": admin_email,
                                                                 "admin_name": "Ada Admin"})
    assert made.status_code == 201, made.text
    ada = api.token(admin_email)

    def add(level: str, n: int) -> str:
        reply = api.request("POST", "/users", ada, json={"email": f"{level}-{n}-{mark}@acme.example",
                                                         "name": f"{level} {n}", "level": level})
        assert reply.status_code == 201, reply.text
        return reply.json()["user_id"]

    [add("basic_user", n) for n in range(10)]
    [add("tmp_designer", n) for n in range(2)]
    office_20 = add("operations_user", 0)
    # ... 2 more field users for 5 days, 1 more office user for 20 days
    clock("2026-09-10T09:00:00+12:00")
    field_5 = [add("basic_user_plus", 0), add("view_user", 0)]
    clock("2026-09-14T17:00:00+12:00")
    for user_id in field_5:
        assert api.request("POST", f"/users/{user_id}/disable", ada).status_code == 200
    clock("2026-09-20T10:00:00+12:00")
    assert api.request("POST", f"/users/{office_20}/disable", ada).status_code == 200

    # When: the schedule fires on October 1st, twice at once
    clock("2026-10-01T12:00:00Z")
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: api.request("POST", "/local/billing/run", json={"period": "2026-09"}), range(2)))

    # Then: one invoice, the seed's numbers exactly
    assert [r.status_code for r in runs] == [200, 200], [r.text for r in runs]
    assert all(r.json()["tenants"] == r.json()["billed"] >= 1 for r in runs), [r.text for r in runs]
    listed = api.request("GET", "/invoices", ada)
    assert listed.status_code == 200, listed.text
    listing = listed.json()["items"]
    assert [(i["period"], i["total"], i["status"]) for i in listing] == [("2026-09", "608.93", "draft")]
    invoice = api.request("GET", "/invoices/2026-09", ada).json()
    assert [(ln["tier"], ln["user_days"], ln["quantity"], ln["unit_price"], ln["amount"]) for ln in invoice["lines"]] == [
        ("field", 310, "10.33", "30.00", "309.90"), ("office", 110, "3.66", "60.00", "219.60")]
    assert (invoice["subtotal"], invoice["gst"], invoice["total"]) == ("529.50", "79.43", "608.93")
    days = api.request("GET", "/invoices/2026-09/days.csv", ada)
    assert days.status_code == 200
    assert days.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(days.text)))
    assert (sum(r["tier"] == "field" for r in rows), sum(r["tier"] == "office" for r in rows)) == (310, 110)
    # and a third run issues nothing more
    again = api.request("POST", "/local/billing/run", json={"period": "2026-09"})
    assert (again.status_code, again.json()["failed"]) == (200, 0), again.text
    assert len(api.request("GET", "/invoices", ada).json()["items"]) == 1

    # The preview is this month so far (October 2nd in Auckland), not the invoice of a period "preview"
    preview = api.request("GET", "/invoices/preview", ada)
    assert preview.status_code == 200, preview.text
    assert (preview.json()["status"], preview.json()["period"], preview.json()["through"]) == (
        "preview", "2026-10", "2026-10-02")

    # A user without financial.view is refused; a bad period is 422
    field_token = api.token(f"basic_user-0-{mark}@acme.example")
    assert api.request("GET", "/invoices", field_token).status_code == 403
    assert api.request("GET", "/invoices/preview", field_token).status_code == 403
    assert api.request("GET", "/invoices/2026-13", ada).status_code == 422
    assert api.request("GET", "/invoices/2026-13/days.csv", ada).status_code == 422
    assert api.request("GET", "/invoices", None).status_code == 401


@pytest.mark.parametrize("body", [{"period": "2026-13"}, {"period": "abc"}, {"period": 202609}, {"period": ""},
                                  {"period": "9999-12"}, {"period": "0000-01"}, {"period": "0001-01"}])
def test_a_billing_run_with_a_bad_period_is_422(api, body):
    reply = api.request("POST", "/local/billing/run", json=body)
    assert reply.status_code == 422, reply.text
    assert reply.json()["errors"][0]["field"] == "period"


@pytest.mark.parametrize("body", ["[1]", "not json", '"2026-09"'])
def test_a_billing_run_with_a_body_that_is_not_an_object_is_422(api, body):
    reply = api.request("POST", "/local/billing/run", data=body, headers={"Content-Type": "application/json"})
    assert reply.status_code == 422, reply.text
    assert reply.json()["errors"][0]["field"] == "body"
