"""Jobsite alerts over HTTP on the local stack: sent by a GC lead, delivered through SNS -> SQS ->
the notifications function (the local poller) by email and SMS (GET /local/outbox), acknowledged,
and the roll-call seen by the sender only."""

from __future__ import annotations

import time
import uuid

import pytest


def _email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@alerts.example"


@pytest.fixture(scope="module")
def site(api, operator_token):
    email = _email("admin")
    created = api.request("POST", "/tenants", operator_token,
                          json={"name": "GC Ltd", "admin_email": email, "admin_name": "GC Admin"})
    assert created.status_code == 201, created.text
    admin = api.token(email)

    def ok(method: str, path: str, token: str = admin, **kwargs) -> dict:
        reply = api.request(method, path, token, **kwargs)
        assert reply.status_code in (200, 201, 202, 204), (method, path, reply.status_code, reply.text)
        return reply.json() if reply.text else {}

    job = ok("POST", "/jobs", json={"job_number": uuid.uuid4().hex[:6], "name": "Harbour tower"})
    trade = ok("POST", "/accounts", json={"kind": "trade_contractor", "name": "Steel Co",
                                          "admin": {"email": _email("steel"), "name": "Steel admin"}})
    ok("POST", f"/jobs/{job['job_id']}/access", json={"account_id": trade["account_id"]})
    people = {}
    for name, level, account_id, phone in [("lead", "operations_user", None, "+64211111111"),
                                           ("crew", "administrator", trade["account_id"], "+64212222222"),
                                           ("bystander", "administrator", trade["account_id"], None)]:
        body = {"email": _email(name), "name": f"{name.title()} Person", "level": level}
        if account_id:
            body["account_id"] = account_id
        if phone:
            body["phone"] = phone
        user = ok("POST", "/users", json=body)
        people[name] = {**user, "token": api.token(user["email"])}
    ok("PUT", "/me/notification-preferences", people["crew"]["token"], json={"email": True, "sms": True})
    ok("PUT", f"/jobs/{job['job_id']}/members/{people['lead']['user_id']}", json={"role": "lead"})
    ok("PUT", f"/jobs/{job['job_id']}/members/{people['crew']['user_id']}", json={"role": "alerts_only"})
    return {"api": api, "ok": ok, "job_id": job["job_id"], "admin": admin, **people}


def _outbox_to(api, *addresses: str, timeout: float = 20.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        items = [i for i in api.request("GET", "/local/outbox").json()["items"] if i["to"] in addresses]
        if len(items) >= len(addresses) or time.monotonic() > deadline:
            return items
        time.sleep(0.3)


def test_an_alert_reaches_its_recipients_by_email_and_sms_and_is_acknowledged(site):
    api, ok, job_id = site["api"], site["ok"], site["job_id"]
    crew, lead = site["crew"], site["lead"]
    # When: the GC lead sends an alert
    sent = ok("POST", f"/jobs/{job_id}/alerts", lead["token"], json={"message": "Evacuate now: assemble at gate 1"})
    # Then: the lead and the alerts-only crew member are on it (not the bystander without a role)
    assert sent["recipients"] == 2
    delivered = _outbox_to(api, crew["email"], crew["phone"], lead["email"])
    by_channel = {(i["channel"], i["to"]): i for i in delivered}
    assert set(by_channel) == {("email", crew["email"]), ("sms", crew["phone"]), ("email", lead["email"])}
    assert "Harbour tower" in by_channel[("email", crew["email"])]["subject"]
    assert "Evacuate now" in by_channel[("sms", crew["phone"])]["body"]
    assert all(i["sent_at"] for i in delivered)
    # When: the crew member acknowledges, twice
    first = ok("POST", f"/jobs/{job_id}/alerts/{sent['alert_id']}/ack", crew["token"])
    again = ok("POST", f"/jobs/{job_id}/alerts/{sent['alert_id']}/ack", crew["token"])
    # Then: the first time stands, and the sender's roll-call shows it
    assert again == first
    roll = ok("GET", f"/jobs/{job_id}/alerts/{sent['alert_id']}", lead["token"])
    acked = {r["user_id"]: r["acknowledged_at"] for r in roll["recipients"]}
    assert acked == {crew["user_id"]: first["acknowledged_at"], lead["user_id"]: None}


def test_the_roll_call_is_the_senders_only(site):
    api, ok, job_id = site["api"], site["ok"], site["job_id"]
    alert = ok("POST", f"/jobs/{job_id}/alerts", site["lead"]["token"], json={"message": "Crane lift at 2pm"})
    path = f"/jobs/{job_id}/alerts/{alert['alert_id']}"
    # Then: the trade's administrator sees the job but not its alerts; a non-recipient cannot acknowledge
    assert api.request("GET", path, site["bystander"]["token"]).status_code == 403
    assert api.request("GET", f"/jobs/{job_id}/alerts", site["crew"]["token"]).status_code == 403
    assert api.request("POST", f"{path}/ack", site["bystander"]["token"]).status_code == 404
    assert api.request("GET", path, None).status_code == 401


def test_another_tenant_sees_no_alerts(site, api, operator_token):
    # Given: another tenant's super admin
    email = _email("other")
    assert api.request("POST", "/tenants", operator_token,
                       json={"name": "Other Ltd", "admin_email": email, "admin_name": "Other"}).status_code == 201
    other = api.token(email)
    alert = site["ok"]("POST", f"/jobs/{site['job_id']}/alerts", site["lead"]["token"], json={"message": "Test"})
    # When / Then
    for method, path in [("POST", f"/jobs/{site['job_id']}/alerts"), ("GET", f"/jobs/{site['job_id']}/alerts"),
                         ("GET", f"/jobs/{site['job_id']}/alerts/{alert['alert_id']}"),
                         ("POST", f"/jobs/{site['job_id']}/alerts/{alert['alert_id']}/ack")]:
        body = {} if path.endswith("/ack") else {"message": "x"}  # each route's own body: validation comes first
        assert api.request(method, path, other, json=body).status_code == 404, (method, path)
