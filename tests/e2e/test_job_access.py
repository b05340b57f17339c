"""The SOP Job Access screen over HTTP (issue: job access): jobs, search, the access
list with access types, customer-code connection, directory, e-tickets, records."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest


def _email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@site.example"


class Site:
    """A tenant with a Super Admin, built through the API."""

    def __init__(self, api, operator_token: str) -> None:
        self.api = api
        admin_email = _email("gc-admin")
        created = api.request("POST", "/tenants", operator_token,
                              json={"name": "GC Ltd", "admin_email": admin_email, "admin_name": "GC Admin"}).json()
        self.owner_account_id = created["owner_account_id"]
        self.admin = api.token(admin_email)

    def ok(self, method: str, path: str, token: str | None = None, **kwargs) -> dict:
        reply = self.api.request(method, path, token or self.admin, **kwargs)
        assert reply.status_code in (200, 201, 204), (method, path, reply.status_code, reply.text)
        return reply.json() if reply.text else {}

    def status(self, method: str, path: str, token: str, **kwargs) -> int:
        return self.api.request(method, path, token, **kwargs).status_code

    def job(self, number: str, **extra) -> dict:
        return self.ok("POST", "/jobs", json={"job_number": number, "name": f"Job {number}", **extra})

    def account(self, kind: str, **extra) -> tuple[dict, str]:
        """An account with its master administrator; returns the account and the admin's token."""
        email = _email(kind)
        account = self.ok("POST", "/accounts", json={"kind": kind, "name": f"{kind} {uuid.uuid4().hex[:4]}",
                                                      "admin": {"email": email, "name": f"{kind} admin"}, **extra})
        return account, self.api.token(email)

    def user(self, level: str, account_id: str | None = None, **extra) -> tuple[dict, str]:
        body = {"email": _email(level), "name": f"{level} person", "level": level, **extra}
        if account_id:
            body["account_id"] = account_id
        user = self.ok("POST", "/users", json=body)
        return user, self.api.token(user["email"])

    def en_route_ticket(self, job_id: str) -> str:
        eta = (datetime.now(UTC) + timedelta(minutes=40)).isoformat()
        return self.ok("POST", f"/jobs/{job_id}/tickets", json={
            "ticket_number": uuid.uuid4().hex[:8], "material": "20MPa concrete", "quantity": "6.5", "unit": "m3",
            "truck": "T-12", "status": "en_route", "eta": eta})["ticket_id"]


@pytest.fixture(scope="module")
def site(api, operator_token) -> Site:
    return Site(api, operator_token)


@pytest.fixture(scope="module")
def job_249819(site) -> dict:
    """Job 249819 with customer code C249; its customer exists before the job does."""
    customer, customer_token = site.account("customer", customer_codes=["C249"])
    job = site.job("249819", customer_code="C249", address="1 Quay St", cost_price="1000.00", charge_price="1500.00")
    return {"job": job, "customer": customer, "customer_token": customer_token}


# -------------------------------------------------------------- access types
FEATURES = {"tickets": ("GET", "/tickets"), "etas": ("GET", "/etas"), "unloading": ("POST", "/unload")}
ACCESS_TYPE_TABLE = {  # docs/DOMAIN.md: unloading, truck ETAs, ticket access
    "ticket_taker": {"unloading": 200, "etas": 200, "tickets": 200},
    "standard": {"unloading": 403, "etas": 200, "tickets": 200},
    "limited": {"unloading": 403, "etas": 403, "tickets": 200},
}


def _feature(site: Site, job_id: str, feature: str, token: str) -> int:
    if feature == "unloading":
        ticket = site.en_route_ticket(job_id)
        return site.status("POST", f"/jobs/{job_id}/tickets/{ticket}/unload", token, json={"accepted": True})
    return site.status("GET", f"/jobs/{job_id}{FEATURES[feature][1]}", token)


@pytest.fixture(scope="module")
def typed_accounts(site, job_249819) -> dict:
    """An inspection firm and a project owner at each access type, each with its administrator's token."""
    tokens = {}
    for kind in ("inspection_firm", "project_owner"):
        for access_type in ACCESS_TYPE_TABLE:
            account, token = site.account(kind)
            site.ok("POST", f"/jobs/{job_249819['job']['job_id']}/access",
                    json={"account_id": account["account_id"], "access_type": access_type})
            tokens[(kind, access_type)] = token
    return tokens


@pytest.mark.parametrize(("kind", "access_type", "feature", "expected"), [
    pytest.param(kind, access_type, feature, code, id=f"{kind}-{access_type}-{feature}-{code}")
    for kind in ("inspection_firm", "project_owner")
    for access_type, row in ACCESS_TYPE_TABLE.items() for feature, code in row.items()
])
def test_access_type_cell(site, job_249819, typed_accounts, kind, access_type, feature, expected):
    token = typed_accounts[(kind, access_type)]
    assert _feature(site, job_249819["job"]["job_id"], feature, token) == expected


@pytest.mark.parametrize(("feature", "expected"), [("tickets", 200), ("etas", 200), ("unloading", 403)])
def test_customer_gets_tickets_and_etas_not_unloading(site, job_249819, feature, expected):
    assert _feature(site, job_249819["job"]["job_id"], feature, job_249819["customer_token"]) == expected


@pytest.mark.parametrize("feature", ["tickets", "etas", "unloading"])
def test_trade_contractor_gets_no_ticket_features(site, job_249819, feature):
    trade, token = site.account("trade_contractor")
    site.ok("POST", f"/jobs/{job_249819['job']['job_id']}/access", json={"account_id": trade["account_id"]})
    assert site.status("GET", f"/jobs/{job_249819['job']['job_id']}", token) == 403  # no role: the portal only
    assert _feature(site, job_249819["job"]["job_id"], feature, token) == 403


def test_etas_list_only_en_route_tickets_with_eta(site, job_249819):
    job_id = job_249819["job"]["job_id"]
    site.ok("POST", f"/jobs/{job_id}/tickets", json={"ticket_number": "LOADED1", "material": "AP20", "quantity": "10",
                                                     "unit": "t", "truck": "T-1"})
    site.en_route_ticket(job_id)
    etas = site.ok("GET", f"/jobs/{job_id}/etas", job_249819["customer_token"])["items"]
    assert etas and all(t["status"] == "en_route" and t["eta"] for t in etas)


def test_unloading_happens_once(site, job_249819, typed_accounts):
    job_id = job_249819["job"]["job_id"]
    token = typed_accounts[("project_owner", "ticket_taker")]
    ticket = site.en_route_ticket(job_id)
    first = site.ok("POST", f"/jobs/{job_id}/tickets/{ticket}/unload", token, json={"accepted": False, "notes": "slump"})
    assert first["status"] == "rejected"
    assert site.status("POST", f"/jobs/{job_id}/tickets/{ticket}/unload", token, json={"accepted": True}) == 409


@pytest.mark.parametrize(("kind", "body", "field"), [
    ("inspection_firm", {}, "access_type"),
    ("project_owner", {}, "access_type"),
    ("trade_contractor", {"access_type": "limited"}, "access_type"),
    ("customer", {"access_type": "standard"}, "access_type"),
    ("vendor", {"expires_at": "2020-01-01T00:00:00+00:00"}, "expires_at"),
])
def test_access_type_required_or_refused(site, job_249819, kind, body, field):
    account, _ = site.account(kind)
    reply = site.api.request("POST", f"/jobs/{job_249819['job']['job_id']}/access", site.admin,
                             json={"account_id": account["account_id"], **body})
    assert reply.status_code == 422, reply.text
    assert [e["field"] for e in reply.json()["errors"]] == [field]


# -------------------------------------------------- the access list screen
def test_access_list_shows_six_panels_with_who_and_how(site, job_249819, typed_accounts):
    panels = site.ok("GET", f"/jobs/{job_249819['job']['job_id']}/access")
    assert set(panels) >= {"customers", "inspection_firms", "project_owners", "trade_contractors", "vendors",
                           "guest_contractors"}
    customer = next(e for e in panels["customers"] if e["account_id"] == job_249819["customer"]["account_id"])
    assert (customer["source"], customer["granted_by"]) == ("customer_code", "system")
    assert {e["access_type"] for e in panels["inspection_firms"]} >= {"ticket_taker", "standard", "limited"}
    assert all(e["source"] == "manual" and e["granted_at"] for e in panels["project_owners"])


def test_customer_code_added_later_connects_existing_jobs_and_removal_disconnects(site):
    job = site.job("555001", customer_code="LATE1")
    customer, token = site.account("customer")
    assert site.status("GET", f"/jobs/{job['job_id']}", token) == 404
    site.ok("PATCH", f"/accounts/{customer['account_id']}", json={"customer_codes": ["LATE1"]})
    assert site.status("GET", f"/jobs/{job['job_id']}", token) == 200
    site.ok("PATCH", f"/accounts/{customer['account_id']}", json={"customer_codes": []})
    assert site.status("GET", f"/jobs/{job['job_id']}", token) == 404


def test_removing_an_account_cuts_its_users_off_at_once(site, job_249819):
    account, token = site.account("inspection_firm")
    job_id = job_249819["job"]["job_id"]
    site.ok("POST", f"/jobs/{job_id}/access", json={"account_id": account["account_id"], "access_type": "limited"})
    assert site.status("GET", f"/jobs/{job_id}/tickets", token) == 200
    assert site.status("DELETE", f"/jobs/{job_id}/access/{account['account_id']}", site.admin) == 204
    assert site.status("GET", f"/jobs/{job_id}", token) == 404
    assert site.status("GET", f"/jobs/{job_id}/tickets", token) == 404


def test_expired_access_grants_nothing(site, job_249819, api):
    account, token = site.account("project_owner")
    job_id = job_249819["job"]["job_id"]
    expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    site.ok("POST", f"/jobs/{job_id}/access", json={"account_id": account["account_id"], "access_type": "standard",
                                                    "expires_at": expires})
    assert site.status("GET", f"/jobs/{job_id}", token) == 200
    try:
        api.request("POST", "/local/clock", json={"now": (datetime.now(UTC) + timedelta(hours=2)).isoformat()})
        assert site.status("GET", f"/jobs/{job_id}", token) == 404
    finally:
        api.request("DELETE", "/local/clock")


# ------------------------------------------------------------ jobs, search
def test_typing_249_suggests_matching_jobs_in_number_order(site, job_249819):
    for number in ("249619", "249519", "300001"):
        site.job(number)
    numbers = [j["job_number"] for j in site.ok("GET", "/jobs?q=249")["items"]]
    assert numbers == ["249519", "249619", "249819"]
    assert [j["job_number"] for j in site.ok("GET", "/jobs?q=2498")["items"]] == ["249819"]


def test_search_pages_in_order(site, job_249819):
    first = site.ok("GET", "/jobs?q=2&limit=2")
    second = site.ok("GET", f"/jobs?q=2&limit=2&cursor={first['next_cursor']}")
    numbers = [j["job_number"] for j in first["items"] + second["items"]]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers))


def test_duplicate_job_number_is_409(site):
    site.job("777001")
    assert site.status("POST", "/jobs", site.admin, json={"job_number": "777001", "name": "Again"}) == 409


def test_financial_fields_only_with_financial_view(site, job_249819):
    job_id = job_249819["job"]["job_id"]
    assert site.ok("GET", f"/jobs/{job_id}")["charge_price"] == "1500.00"
    _, ops = site.user("operations_user")
    assert site.ok("GET", f"/jobs/{job_id}", ops).get("charge_price") is None
    _, invoicing = site.user("invoicing")
    assert site.ok("GET", f"/jobs/{job_id}", invoicing)["cost_price"] == "1000.00"


def test_allocated_staff_see_only_their_jobs(site, job_249819):
    other = site.job("249001")
    _, basic = site.user("basic_user", job_ids=[other["job_id"]])
    assert [j["job_number"] for j in site.ok("GET", "/jobs?q=249", basic)["items"]] == ["249001"]
    assert site.status("GET", f"/jobs/{job_249819['job']['job_id']}", basic) == 404
    _, plus = site.user("basic_user_plus")
    assert "249819" in [j["job_number"] for j in site.ok("GET", "/jobs?q=249", plus)["items"]]


def test_tmp_designer_is_allocated_to_the_job_it_adds_and_edits_only_those(site, job_249819):
    _, designer = site.user("tmp_designer")
    mine = site.ok("POST", "/jobs", designer, json={"job_number": "880001", "name": "Designed"})
    assert site.ok("GET", f"/jobs/{mine['job_id']}", designer)["job_number"] == "880001"
    assert site.ok("PATCH", f"/jobs/{mine['job_id']}", designer, json={"name": "Redesigned"})["name"] == "Redesigned"
    assert site.status("PATCH", f"/jobs/{job_249819['job']['job_id']}", designer, json={"name": "x"}) == 404
    _, designer_plus = site.user("tmp_designer_plus")
    assert site.status("PATCH", f"/jobs/{mine['job_id']}", designer_plus, json={"name": "Plus"}) == 200
    assert site.status("POST", f"/jobs/{mine['job_id']}/archive", designer_plus) == 403


def test_account_levels_narrow_the_jobs(site):
    jobs = [site.job(n, customer_code="NARROW") for n in ("660001", "660002")]
    customer, admin = site.account("customer", customer_codes=["NARROW"])
    _, manager = site.user("manager", customer["account_id"], job_ids=[jobs[0]["job_id"]])
    _, basic = site.user("basic", customer["account_id"], job_ids=[jobs[1]["job_id"]])
    assert [j["job_number"] for j in site.ok("GET", "/jobs?q=66", admin)["items"]] == ["660001", "660002"]
    assert [j["job_number"] for j in site.ok("GET", "/jobs?q=66", manager)["items"]] == ["660001"]
    assert [j["job_number"] for j in site.ok("GET", "/jobs?q=66", basic)["items"]] == ["660002"]
    assert site.status("GET", f"/jobs/{jobs[1]['job_id']}", manager) == 404


def test_archived_job_is_read_only_and_deleted_job_is_gone(site):
    job = site.job("990001")
    _, ops = site.user("operations_user")
    assert site.status("POST", f"/jobs/{job['job_id']}/archive", ops) == 403
    assert site.ok("POST", f"/jobs/{job['job_id']}/archive")["status"] == "archived"
    assert site.status("PATCH", f"/jobs/{job['job_id']}", site.admin, json={"name": "x"}) == 409
    assert site.status("DELETE", f"/jobs/{job['job_id']}", site.admin) == 204
    assert site.status("GET", f"/jobs/{job['job_id']}", site.admin) == 404
    site.job("990001")  # the number is free again


# --------------------------------------------------------------- directory
def test_directory_promotes_without_reentering_and_trade_leads_set_own(site):
    job = site.job("440001")
    trade, trade_admin = site.account("trade_contractor")
    other_trade, _ = site.account("trade_contractor")
    for account in (trade, other_trade):
        site.ok("POST", f"/jobs/{job['job_id']}/access", json={"account_id": account["account_id"]})
    worker, worker_token = site.user("basic", trade["account_id"], job_ids=[job["job_id"]])
    members = {m["user_id"]: m for m in site.ok("GET", f"/jobs/{job['job_id']}/members")["items"]}
    assert members[worker["user_id"]]["role"] == "not_on_jobsite"
    assert members[worker["user_id"]]["company_type"] == "trade"
    assert {m["company_type"] for m in members.values()} >= {"gc", "trade"}
    # not_on_jobsite users see no project pages
    assert site.status("GET", f"/jobs/{job['job_id']}/members", worker_token) == 403
    lead = next(m for m in members.values() if m["account_id"] == trade["account_id"] and m["user_id"] != worker["user_id"])
    site.ok("PUT", f"/jobs/{job['job_id']}/members/{lead['user_id']}", json={"role": "lead"})
    # the trade lead promotes its own worker, but nobody of another trade
    promoted = site.ok("PUT", f"/jobs/{job['job_id']}/members/{worker['user_id']}", trade_admin, json={"role": "member"})
    assert (promoted["role"], promoted["name"]) == ("member", worker["name"])
    assert promoted["email"] is None  # contact details are for GC leads and job.edit staff, not trade leads
    assert site.status("GET", f"/jobs/{job['job_id']}/members", worker_token) == 200
    others = [m for m in members.values() if m["account_id"] == other_trade["account_id"]]
    assert site.status("PUT", f"/jobs/{job['job_id']}/members/{others[0]['user_id']}", trade_admin,
                       json={"role": "member"}) == 403
    # a GC lead who is not an editor may set anyone's role
    gc_user, gc_token = site.user("basic_user_plus")
    site.ok("PUT", f"/jobs/{job['job_id']}/members/{gc_user['user_id']}", json={"role": "lead"})
    assert site.status("PUT", f"/jobs/{job['job_id']}/members/{others[0]['user_id']}", gc_token,
                       json={"role": "alerts_only"}) == 200


# ------------------------------------------------------------------ records
def test_records_by_staff_read_by_account_administrators_and_managers(site):
    job = site.job("330001", customer_code="REC1")
    customer, admin = site.account("customer", customer_codes=["REC1"])
    _, manager = site.user("manager", customer["account_id"], job_ids=[job["job_id"]])
    _, basic = site.user("basic", customer["account_id"], job_ids=[job["job_id"]])
    _, field = site.user("basic_user", job_ids=[job["job_id"]])
    _, viewer = site.user("view_user")
    body = {"type": "time", "date": "2026-11-20", "hours": "7.5", "note": "traffic control"}
    assert site.status("POST", f"/jobs/{job['job_id']}/records", field, json=body) == 201
    assert site.status("POST", f"/jobs/{job['job_id']}/records", viewer, json=body) == 403
    assert site.status("POST", f"/jobs/{job['job_id']}/records", site.admin,
                       json={**body, "type": "equipment"}) == 422  # names no equipment
    assert len(site.ok("GET", f"/jobs/{job['job_id']}/records", admin)["items"]) == 1
    assert len(site.ok("GET", f"/jobs/{job['job_id']}/records", manager)["items"]) == 1
    assert site.status("GET", f"/jobs/{job['job_id']}/records", basic) == 403


# -------------------------------------------------------------- cross-tenant
def test_other_tenants_job_ids_are_404_on_every_route(site, job_249819, api, operator_token):
    other = Site(api, operator_token)
    job_id = job_249819["job"]["job_id"]
    ticket = site.en_route_ticket(job_id)
    account_id = job_249819["customer"]["account_id"]
    for method, path, body in [
        ("GET", f"/jobs/{job_id}", None), ("PATCH", f"/jobs/{job_id}", {"name": "x"}),
        ("POST", f"/jobs/{job_id}/archive", None), ("DELETE", f"/jobs/{job_id}", None),
        ("GET", f"/jobs/{job_id}/access", None), ("POST", f"/jobs/{job_id}/access", {"account_id": account_id}),
        ("DELETE", f"/jobs/{job_id}/access/{account_id}", None), ("GET", f"/jobs/{job_id}/members", None),
        ("PUT", f"/jobs/{job_id}/members/x", {"role": "member"}),
        ("POST", f"/jobs/{job_id}/tickets", {"ticket_number": "X", "material": "m", "quantity": "1", "unit": "t",
                                             "truck": "T"}),
        ("PATCH", f"/jobs/{job_id}/tickets/{ticket}", {"status": "loaded"}), ("GET", f"/jobs/{job_id}/tickets", None),
        ("GET", f"/jobs/{job_id}/etas", None), ("POST", f"/jobs/{job_id}/tickets/{ticket}/unload", {"accepted": True}),
        ("POST", f"/jobs/{job_id}/records", {"type": "time", "date": "2026-11-20", "hours": "1"}),
        ("GET", f"/jobs/{job_id}/records", None),
    ]:
        assert other.status(method, path, other.admin, json=body) == 404, (method, path)
    assert site.ok("GET", f"/jobs/{job_id}")["status"] == "active"
    assert "249819" not in [j["job_number"] for j in other.ok("GET", "/jobs?q=249")["items"]]


def test_dashboard_counts_visible_active_jobs(site):
    _, designer = site.user("tmp_designer")
    before = site.ok("GET", "/dashboard")["active_jobs"]
    site.ok("POST", "/jobs", designer, json={"job_number": "120001", "name": "Counted"})
    assert site.ok("GET", "/dashboard")["active_jobs"] == before + 1
    assert site.ok("GET", "/dashboard", designer)["active_jobs"] == 1
    _, field = site.user("basic_user_plus")
    assert site.status("GET", "/dashboard", field) == 403


def test_repeated_grant_with_idempotency_key_returns_first_entry(site, job_249819):
    account, _ = site.account("vendor")
    body = {"account_id": account["account_id"]}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    path = f"/jobs/{job_249819['job']['job_id']}/access"
    first = site.api.request("POST", path, site.admin, json=body, headers=dict(headers))
    again = site.api.request("POST", path, site.admin, json=body, headers=dict(headers))
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert site.status("POST", path, site.admin, json=body) == 409  # without the key it is a duplicate


def test_any_editor_of_the_job_manages_its_access_list(site):
    # TMP Designer Plus has job.edit on every job but does not see the client list
    job = site.job("450001")
    firm, _ = site.account("inspection_firm")
    _, designer_plus = site.user("tmp_designer_plus")
    _, viewer = site.user("view_user")
    body = {"account_id": firm["account_id"], "access_type": "standard"}
    assert site.status("POST", f"/jobs/{job['job_id']}/access", viewer, json=body) == 404  # may not see the firm
    assert site.status("POST", f"/jobs/{job['job_id']}/access", designer_plus, json=body) == 201
    assert site.status("GET", f"/accounts/{firm['account_id']}", designer_plus) == 404
    assert site.status("DELETE", f"/jobs/{job['job_id']}/access/{firm['account_id']}", viewer) == 403
    assert site.status("DELETE", f"/jobs/{job['job_id']}/access/{firm['account_id']}", designer_plus) == 204


def test_prices_are_set_only_by_those_who_may_see_them(site):
    _, designer = site.user("tmp_designer")
    body = {"job_number": "560001", "name": "Priced", "charge_price": "10.00"}
    assert site.status("POST", "/jobs", designer, json=body) == 403
    assert site.status("POST", "/jobs", designer, json={**body, "charge_price": None}) == 201
