"""Domain events end to end, across functions, on the local stack: a delivery booked by a trade
member reaches both leads by email, their approvals reach the requester, an access grant reaches
the account's administrators, and an invoice reaches the tenant's Invoicing and Super Admin users,
each exactly once (delivery_approvals / job_access / billing -> SNS -> SQS -> notifications)."""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest

from tests.e2e.test_job_access import Site


def _email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@flow.example"


def _mail_to(api, address: str, count: int, timeout: float = 25.0) -> list[dict]:
    """Emails sent to `address`, waiting until there are at least `count` (the poller is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        items = [i for i in api.request("GET", "/local/outbox").json()["items"]
                 if i["to"] == address and i["channel"] == "email"]
        if len(items) >= count or time.monotonic() > deadline:
            return items
        time.sleep(0.3)


class Flow:
    def __init__(self, api, operator_token: str) -> None:
        self.api = api
        self.site = Site(api, operator_token)
        site = self.site
        self.job = site.job(uuid.uuid4().hex[:8].upper(), address="5 Wharf Rd")
        self.job_id = self.job["job_id"]
        self.gate = site.ok("POST", f"/jobs/{self.job_id}/locations", json={"name": "North gate", "kind": "gate"})
        trade_admin_email = _email("trade-admin")
        self.trade = site.ok("POST", "/accounts", json={"kind": "trade_contractor", "name": "Harbour Steel",
                                                        "admin": {"email": trade_admin_email, "name": "Tia Admin"}})
        self.trade_admin_email = trade_admin_email
        site.ok("POST", f"/jobs/{self.job_id}/access", json={"account_id": self.trade["account_id"]})
        self.people: dict[str, dict] = {}
        for name, level, account_id in [("gc_lead", "operations_user", None),
                                        ("trade_lead", "administrator", self.trade["account_id"]),
                                        ("trade_member", "manager", self.trade["account_id"])]:
            body = {"email": _email(name), "name": name.replace("_", " ").title(), "level": level}
            if account_id:
                body["account_id"] = account_id
            if level == "manager":
                body["job_ids"] = [self.job_id]
            user = site.ok("POST", "/users", json=body)
            self.people[name] = {**user, "token": api.token(user["email"])}
        for name, role in (("gc_lead", "lead"), ("trade_lead", "lead"), ("trade_member", "member")):
            site.ok("PUT", f"/jobs/{self.job_id}/members/{self.people[name]['user_id']}", json={"role": role})


@pytest.fixture(scope="module")
def flow(api, operator_token) -> Flow:
    return Flow(api, operator_token)


def test_a_trade_members_request_reaches_both_leads_and_their_approvals_reach_the_requester(api, flow):
    # Given
    lead, trade_lead, member = flow.people["gc_lead"], flow.people["trade_lead"], flow.people["trade_member"]
    body = {"for_account_id": flow.trade["account_id"], "location_id": flow.gate["location_id"],
            "start": "2026-12-08T07:00:00+13:00", "end": "2026-12-08T07:45:00+13:00"}
    # When the trade member books
    booked = api.request("POST", f"/jobs/{flow.job_id}/deliveries", member["token"], json=body)
    assert booked.status_code == 201, booked.text
    delivery_id = booked.json()["delivery_id"]
    # Then both leads are asked, by email naming the job, the company and the window
    for person in (lead, trade_lead):
        [mail] = _mail_to(api, person["email"], 1)
        assert flow.job["name"] in mail["body"] and "Harbour Steel" in mail["body"] and "07:00" in mail["body"]
    assert _mail_to(api, member["email"], 1, timeout=1) == []  # nobody hears of their own request
    # When both approve
    for person in (trade_lead, lead):
        reply = api.request("POST", f"/jobs/{flow.job_id}/deliveries/{delivery_id}/approve", person["token"])
        assert reply.status_code == 200, reply.text
    # Then the requester hears that it is approved, once
    mails = _mail_to(api, member["email"], 1)
    assert len(mails) == 1 and "approved" in mails[0]["subject"].lower(), mails
    time.sleep(2)  # a duplicate, if any, would have arrived by now
    assert len(_mail_to(api, member["email"], 1)) == 1
    # ... and neither lead was asked a second time when the other approved
    assert [len(_mail_to(api, p["email"], 1)) for p in (lead, trade_lead)] == [1, 1]


def test_an_access_grant_reaches_the_accounts_administrators(api, flow):
    # Given the trade's master administrator (granted access by the GC admin when the flow was built)
    # Then it was told, once, naming the job
    mails = _mail_to(api, flow.trade_admin_email, 1)
    assert len(mails) == 1 and flow.job["name"] in mails[0]["body"], mails


def test_an_issued_invoice_reaches_the_invoicing_and_super_admin_users_once(api, operator_token):
    # Given a tenant whose Super Admin and an Invoicing user exist in October 2026
    api.request("POST", "/local/clock", json={"now": "2026-10-01T00:00:00+13:00"})
    try:
        site = Site(api, operator_token)
        admin_email = api.request("GET", "/me", site.admin).json()["user"]["email"]
        invoicing = site.ok("POST", "/users", json={"email": _email("inv"), "name": "Ivy Invoicing",
                                                    "level": "invoicing"})
        field = site.ok("POST", "/users", json={"email": _email("field"), "name": "Fred Field",
                                                "level": "basic_user"})
        # When October is billed, twice
        api.request("POST", "/local/clock", json={"now": "2026-11-02T09:00:00+13:00"})
        runs = [api.request("POST", "/local/billing/run", json={"period": "2026-10"}) for _ in range(2)]
    finally:
        api.request("DELETE", "/local/clock")
    # Then one invoice is issued and the two who should hear of it do, once each
    assert [r.status_code for r in runs] == [200, 200], [r.text for r in runs]
    for address in (admin_email, invoicing["email"]):
        mails = _mail_to(api, address, 1)
        assert len(mails) == 1 and "2026-10" in mails[0]["subject"], mails
    assert _mail_to(api, field["email"], 1, timeout=1) == []
    sent = Counter(i["to"] for i in api.request("GET", "/local/outbox").json()["items"]
                   if i["to"] in (admin_email, invoicing["email"]))
    assert set(sent.values()) == {1}


# ------------------------------------------------------------ the outbox stream
def _tenant_with_vendor(api, operator_token) -> tuple[Site, str, dict, str]:
    """A tenant (its id), a vendor account and the vendor's administrator's email, and a job."""
    site = Site(api, operator_token)
    tenant_id = api.request("GET", "/me", site.admin).json()["tenant_id"]
    vendor_email = _email("vendor-admin")
    vendor = site.ok("POST", "/accounts", json={"kind": "vendor", "name": "Quay Supplies",
                                                "admin": {"email": vendor_email, "name": "Val Vendor"}})
    return site, tenant_id, vendor, vendor_email


def _events_of(api, tenant_id: str) -> tuple[list[dict], list[dict]]:
    found = api.request("GET", "/local/events").json()
    return [e for e in found["waiting"] if e["tenant_id"] == tenant_id], found["failures"]


def test_an_event_sns_refused_at_first_reaches_its_people_through_the_table_stream(api, operator_token):
    # Given: SNS refuses the grant's first publication (the fast path, right after the commit)
    site, tenant_id, vendor, vendor_email = _tenant_with_vendor(api, operator_token)
    job = site.job(uuid.uuid4().hex[:8].upper())
    assert api.request("POST", "/local/faults", json={"tenant_id": tenant_id, "refuse_event_publishes": 1}).ok
    try:
        # When
        site.ok("POST", f"/jobs/{job['job_id']}/access", json={"account_id": vendor["account_id"]})
        # Then: the stream publishes it; the administrator is told once, and the outbox is empty
        mails = _mail_to(api, vendor_email, 1)
    finally:
        api.request("DELETE", "/local/faults")
    assert len(mails) == 1 and job["name"] in mails[0]["body"], mails
    assert _events_of(api, tenant_id)[0] == []
    time.sleep(2)
    assert len(_mail_to(api, vendor_email, 1)) == 1


def test_an_event_sns_keeps_refusing_goes_to_the_on_failure_queue_and_stays_in_the_outbox(api, operator_token):
    # Given: SNS refuses every publication of this tenant's events
    site, tenant_id, vendor, vendor_email = _tenant_with_vendor(api, operator_token)
    job = site.job(uuid.uuid4().hex[:8].upper())
    assert api.request("POST", "/local/faults", json={"tenant_id": tenant_id, "refuse_event_publishes": -1}).ok
    try:
        # When
        site.ok("POST", f"/jobs/{job['job_id']}/access", json={"account_id": vendor["account_id"]})
        deadline = time.monotonic() + 25
        while True:  # the mapping retries it, then reports the batch to its on-failure queue
            waiting, failures = _events_of(api, tenant_id)
            if failures or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        api.request("DELETE", "/local/faults")
    # Then: reported, with the batch's place in the stream; nobody told; the event still waits, unexpired
    assert failures and failures[-1]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failures[-1]["DDBStreamBatchInfo"]["batchSize"] >= 1
    assert [e["type"] for e in waiting] == ["access.granted"]
    assert _mail_to(api, vendor_email, 1, timeout=1) == []
