"""Every cell of the level tables, enforced at the API (issue: user levels).

For each staff level and each account level, every user-management, client,
settings and resources action goes over HTTP to the local stack. Expected codes
come from docs/DOMAIN.md: 2xx where the level has the capability, 403 where the
caller can see the target but lacks the capability, 404 where the level may not
even see the target (docs/API.md: invisible objects are 404, never 403).
"""

import uuid
from dataclasses import dataclass, field

import pytest

STAFF = ["view_user", "basic_user", "basic_user_plus", "tmp_designer", "tmp_designer_plus", "operations_user",
         "invoicing", "super_admin"]
OK, NO, HIDDEN = "allow", "deny", "hidden"


def _expect(allowed: set[str], visible: set[str] | None = None) -> dict[str, str]:
    """Per staff level: allow if in `allowed`, else deny if it sees the target (`visible`), else hidden."""
    visible = set(STAFF) if visible is None else visible
    return {level: OK if level in allowed else NO if level in visible else HIDDEN for level in STAFF}


RESOURCE_VIEWERS = {"operations_user", "invoicing", "super_admin"}
# action -> expected outcome per staff level (docs/DOMAIN.md staff table)
STAFF_TABLE = {
    "user.add": _expect({"operations_user", "super_admin"}),
    "user.view": _expect(RESOURCE_VIEWERS, visible=set()),
    "user.edit": _expect({"operations_user", "super_admin"}, RESOURCE_VIEWERS),
    "user.disable": _expect({"operations_user", "super_admin"}, RESOURCE_VIEWERS),
    "user.enable": _expect({"operations_user", "super_admin"}, RESOURCE_VIEWERS),
    "user.reset_password": _expect({"operations_user", "super_admin"}, RESOURCE_VIEWERS),
    "user.delete": _expect({"super_admin"}, RESOURCE_VIEWERS),
    "client.add": _expect({"operations_user", "invoicing", "super_admin"}),
    "client.edit": _expect({"operations_user", "invoicing", "super_admin"}, RESOURCE_VIEWERS),
    "client.archive": _expect({"super_admin"}, RESOURCE_VIEWERS),
    "settings.view": _expect({"operations_user", "invoicing", "super_admin"}),
    "settings.edit_normal": _expect({"operations_user", "invoicing", "super_admin"}),
    "settings.edit_sensitive": _expect({"invoicing", "super_admin"}),
    "resources.view": _expect(RESOURCE_VIEWERS),
    "resources.edit": _expect(RESOURCE_VIEWERS),
}
STATUS = {OK: {200, 201, 204}, NO: {403}, HIDDEN: {404}}


def _email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@acme.example"


@dataclass
class Tenant:
    api: object
    admin: str  # super admin token
    tokens: dict[str, str]
    owner_account_id: str
    jobs: list[str] = field(default_factory=list)  # job ids of J1 and J2

    def call(self, method: str, path: str, token: str, **kwargs):
        return self.api.request(method, path, token, **kwargs)

    def make_user(self, level: str = "basic_user", account_id: str | None = None, **extra) -> dict:
        body = {"email": _email(level), "name": f"{level} user", "level": level, **extra}
        if account_id:
            body["account_id"] = account_id
        reply = self.call("POST", "/users", self.admin, json=body)
        assert reply.status_code == 201, reply.text
        return reply.json()

    def make_account(self, kind: str = "customer", **extra) -> dict:
        reply = self.call("POST", "/accounts", self.admin, json={"kind": kind, "name": f"{kind} {uuid.uuid4().hex[:6]}",
                                                                 **extra})
        assert reply.status_code == 201, reply.text
        return reply.json()


@pytest.fixture(scope="module")
def tenant(api, operator_token) -> Tenant:
    admin_email = _email("owner")
    created = api.request("POST", "/tenants", operator_token,
                          json={"name": "Table Co", "admin_email": admin_email, "admin_name": "Owner"})
    assert created.status_code == 201, created.text
    t = Tenant(api, api.token(admin_email), {}, created.json()["owner_account_id"])
    t.jobs = [t.call("POST", "/jobs", t.admin, json={"job_number": n, "name": f"Job {n}"}).json()["job_id"]
              for n in ("100001", "100002")]
    for level in STAFF:
        user = t.make_user(level, job_ids=t.jobs[:1] if level in ("basic_user", "tmp_designer") else [])
        t.tokens[level] = api.token(user["email"])
    return t


def _do(t: Tenant, action: str, token: str):
    """Perform `action` as `token` against fresh targets made by the Super Admin."""
    if action == "user.add":
        return t.call("POST", "/users", token, json={"email": _email("new"), "name": "New", "level": "basic_user_plus"})
    if action == "user.view":
        return t.call("GET", f"/users/{t.make_user()['user_id']}", token)
    if action == "user.edit":
        return t.call("PATCH", f"/users/{t.make_user()['user_id']}", token, json={"name": "Renamed"})
    if action == "user.disable":
        return t.call("POST", f"/users/{t.make_user()['user_id']}/disable", token)
    if action == "user.enable":
        target = t.make_user()["user_id"]
        assert t.call("POST", f"/users/{target}/disable", t.admin).status_code == 200
        return t.call("POST", f"/users/{target}/enable", token)
    if action == "user.reset_password":
        return t.call("POST", f"/users/{t.make_user()['user_id']}/reset-password", token)
    if action == "user.delete":
        return t.call("DELETE", f"/users/{t.make_user()['user_id']}", token)
    if action == "client.add":
        return t.call("POST", "/accounts", token, json={"kind": "inspection_firm", "name": "Inspect Ltd"})
    if action == "client.edit":
        return t.call("PATCH", f"/accounts/{t.make_account()['account_id']}", token, json={"name": "Renamed"})
    if action == "client.archive":
        return t.call("POST", f"/accounts/{t.make_account()['account_id']}/archive", token)
    if action == "settings.view":
        return t.call("GET", "/settings", token)
    if action == "settings.edit_normal":
        return t.call("PUT", "/settings/job_booking_fields", token, json={"value": ["po_number"]})
    if action == "settings.edit_sensitive":
        return t.call("PUT", "/settings/system_settings", token, json={"value": {"gst": "0.15"}})
    if action == "resources.view":
        return t.call("GET", "/vehicles", token)
    if action == "resources.edit":
        return t.call("POST", "/vehicles", token, json={"name": "Truck", "registration": uuid.uuid4().hex[:8]})
    raise AssertionError(action)


@pytest.mark.parametrize(("level", "action", "expected"), [
    pytest.param(level, action, row[level], id=f"{level}-{action}-{row[level].upper()}")
    for action, row in STAFF_TABLE.items() for level in STAFF
])
def test_staff_level_cell(tenant, level, action, expected):
    reply = _do(tenant, action, tenant.tokens[level])
    assert reply.status_code in STATUS[expected], reply.text


def test_operations_user_sees_only_normal_settings(tenant):
    reply = tenant.call("GET", "/settings", tenant.tokens["operations_user"])
    assert "system_settings" not in reply.json()
    assert "job_booking_fields" in reply.json()
    assert "system_settings" in tenant.call("GET", "/settings", tenant.tokens["invoicing"]).json()


def test_levels_endpoint_reflects_the_same_table(tenant):
    catalog = {row["level"]: row["capabilities"] for row in tenant.call("GET", "/levels", tenant.admin).json()["staff"]}
    assert catalog["operations_user"]["settings.edit"] == "normal"
    assert "user.delete" not in catalog["operations_user"]
    assert catalog["basic_user"]["job.view"] == "allocated"
    assert "user.add" not in catalog["invoicing"]


# ------------------------------------------------------------ escalation
@pytest.mark.parametrize(("body", "why"), [
    ({"level": "invoicing"}, "operations users lack financial.view, so cannot give invoicing"),
    ({"level": "super_admin"}, "nobody below Super Admin gives Super Admin"),
])
def test_operations_user_cannot_create_above_itself(tenant, body, why):
    reply = tenant.call("POST", "/users", tenant.tokens["operations_user"],
                        json={"email": _email("esc"), "name": "Esc", **body})
    assert reply.status_code == 403, why


def test_operations_user_cannot_promote_to_super_admin(tenant):
    target = tenant.make_user()["user_id"]
    reply = tenant.call("PATCH", f"/users/{target}", tenant.tokens["operations_user"], json={"level": "super_admin"})
    assert reply.status_code == 403
    assert tenant.call("GET", f"/users/{target}", tenant.admin).json()["level"] == "basic_user"


def test_operations_user_cannot_disable_a_super_admin(tenant):
    target = tenant.make_user("super_admin")["user_id"]
    reply = tenant.call("POST", f"/users/{target}/disable", tenant.tokens["operations_user"])
    assert reply.status_code == 403


def test_master_super_admin_cannot_be_disabled_by_another_super_admin(tenant, api):
    me = tenant.call("GET", "/me", tenant.admin).json()["user"]
    other = api.token(tenant.make_user("super_admin")["email"])
    assert tenant.call("POST", f"/users/{me['user_id']}/disable", other).status_code == 403
    assert tenant.call("PATCH", f"/users/{me['user_id']}", other, json={"level": "view_user"}).status_code == 403


# -------------------------------------------------------- live tokens
def test_disabled_user_is_refused_with_a_live_token_and_back_after_enable(tenant, api):
    user = tenant.make_user("basic_user_plus")
    token = api.token(user["email"])
    assert tenant.call("GET", "/me", token).status_code == 200
    assert tenant.call("POST", f"/users/{user['user_id']}/disable", tenant.admin).json()["status"] == "disabled"
    assert tenant.call("GET", "/me", token).status_code == 403
    assert api.request("POST", "/local/token", json={"email": user["email"]}).status_code in (403, 404)
    assert tenant.call("POST", f"/users/{user['user_id']}/enable", tenant.admin).json()["status"] == "active"
    assert tenant.call("GET", "/me", api.token(user["email"])).status_code == 200


def test_deleted_user_is_refused_and_its_record_kept(tenant, api):
    user = tenant.make_user("basic_user_plus")
    token = api.token(user["email"])
    assert tenant.call("DELETE", f"/users/{user['user_id']}", tenant.admin).status_code == 204
    assert tenant.call("GET", "/me", token).status_code == 403
    assert tenant.call("GET", f"/users/{user['user_id']}", tenant.admin).json()["status"] == "deleted"
    # the email is free again
    again = tenant.call("POST", "/users", tenant.admin, json={"email": user["email"], "name": "Back", "level": "view_user"})
    assert again.status_code == 201


def test_archived_account_users_lose_access_at_once(tenant, api):
    account = tenant.make_account("inspection_firm", admin={"email": _email("insp"), "name": "Inspector"})
    admin_token = api.token(tenant.call("GET", f"/users?account_id={account['account_id']}", tenant.admin)
                            .json()["items"][0]["email"])
    assert tenant.call("GET", "/me", admin_token).status_code == 200
    assert tenant.call("POST", f"/accounts/{account['account_id']}/archive", tenant.admin).json()["status"] == "archived"
    assert tenant.call("GET", "/me", admin_token).status_code == 403


# ------------------------------------------------------------ validation
def test_duplicate_email_in_tenant_is_409(tenant):
    user = tenant.make_user()
    reply = tenant.call("POST", "/users", tenant.admin, json={"email": user["email"].upper(), "name": "Dup",
                                                               "level": "view_user"})
    assert reply.status_code == 409


def test_same_email_in_another_tenant_is_fine(tenant, api, operator_token):
    user = tenant.make_user()
    other = api.request("POST", "/tenants", operator_token,
                        json={"name": "Other", "admin_email": user["email"], "admin_name": "Same Person"})
    assert other.status_code == 201


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "X", "level": "view_user"}, "email"),
    ({"email": "bad", "name": "X", "level": "view_user"}, "email"),
    ({"email": "a@b.example", "name": "X", "level": "grand_poobah"}, "level"),
    ({"email": "a@b.example", "name": "X", "level": "administrator"}, "level"),  # an account level for staff
    ({"email": "a@b.example", "name": "X", "level": "view_user", "phone": "021 555"}, "phone"),
    ({"email": "a@b.example", "name": "X", "level": "view_user", "tenant_id": "t"}, "tenant_id"),
    ({"email": "a@b.example", "name": "X", "level": "view_user", "job_ids": ["bad id!"]}, "job_ids.0"),
    ({"email": "a@b.example", "name": "X", "level": "basic_user", "job_ids": ["no-such-job"]}, "job_ids"),
])
def test_bad_user_body_is_422_naming_the_field(tenant, body, field):
    reply = tenant.call("POST", "/users", tenant.admin, json=body)
    assert reply.status_code == 422, reply.text
    assert field in [e["field"] for e in reply.json()["errors"]]


def test_customer_codes_only_on_customers_and_unique(tenant):
    code = uuid.uuid4().hex[:8]
    assert tenant.call("POST", "/accounts", tenant.admin, json={"kind": "vendor", "name": "V",
                                                                "customer_codes": [code]}).status_code == 422
    tenant.make_account("customer", customer_codes=[code])
    assert tenant.call("POST", "/accounts", tenant.admin, json={"kind": "customer", "name": "C2",
                                                                "customer_codes": [code]}).status_code == 409
    assert tenant.call("POST", "/accounts", tenant.admin, json={"kind": "owner", "name": "O"}).status_code == 422


# ----------------------------------------------------------- cross-tenant
def test_other_tenants_ids_answer_404(tenant, api, operator_token):
    email = _email("b-admin")
    other = api.request("POST", "/tenants", operator_token, json={"name": "B", "admin_email": email,
                                                                  "admin_name": "B"}).json()
    b = api.token(email)
    b_user = api.request("POST", "/users", b, json={"email": _email("b"), "name": "B user", "level": "view_user"}).json()
    for method, path, body in [("GET", f"/users/{b_user['user_id']}", None),
                               ("PATCH", f"/users/{b_user['user_id']}", {"name": "x"}),
                               ("POST", f"/users/{b_user['user_id']}/disable", None),
                               ("DELETE", f"/users/{b_user['user_id']}", None),
                               ("GET", f"/accounts/{other['owner_account_id']}", None),
                               ("PATCH", f"/accounts/{other['owner_account_id']}", {"name": "x"}),
                               ("POST", "/users", {"email": _email("x"), "name": "x", "level": "view_user",
                                                   "account_id": other["owner_account_id"]})]:
        reply = tenant.call(method, path, tenant.admin, json=body)
        assert reply.status_code == 404, (method, path, reply.text)
    assert api.request("GET", f"/users/{b_user['user_id']}", b).json()["status"] == "active"


# ------------------------------------------------------- account levels
ACCOUNT_LEVELS = ["administrator", "manager", "basic"]


@pytest.fixture(scope="module")
def customer(tenant, api) -> dict:
    """A customer with its master administrator, a second administrator, a manager and a basic user."""
    master_email = _email("master")
    account = tenant.make_account("customer", admin={"email": master_email, "name": "Master"})
    aid = account["account_id"]
    for job_id in tenant.jobs:  # the customer is on J1 and J2; its manager and basic user on J1 only
        assert tenant.call("POST", f"/jobs/{job_id}/access", tenant.admin, json={"account_id": aid}).status_code == 201
    users = {"master": tenant.call("GET", f"/users?account_id={aid}", tenant.admin).json()["items"][0]}
    users["administrator"] = tenant.make_user("administrator", aid)
    users["manager"] = tenant.make_user("manager", aid, job_ids=tenant.jobs[:1], can_create_guests=True)
    users["basic"] = tenant.make_user("basic", aid, job_ids=tenant.jobs[:1])
    tokens = {name: api.token(user["email"]) for name, user in users.items()}
    return {"account_id": aid, "users": users, "tokens": tokens}


def _account_do(t: Tenant, c: dict, action: str, token: str):
    aid = c["account_id"]
    j1, j2 = t.jobs
    if action == "add_administrator":
        return t.call("POST", "/users", token, json={"email": _email("a"), "name": "A", "level": "administrator"})
    if action == "add_manager":
        return t.call("POST", "/users", token, json={"email": _email("m"), "name": "M", "level": "manager",
                                                     "job_ids": [j1]})
    if action == "add_basic_on_own_job":
        return t.call("POST", "/users", token, json={"email": _email("b"), "name": "B", "level": "basic",
                                                     "job_ids": [j1]})
    if action == "add_basic_on_other_job":
        return t.call("POST", "/users", token, json={"email": _email("b"), "name": "B", "level": "basic",
                                                     "job_ids": [j2]})
    if action == "add_staff_user":
        return t.call("POST", "/users", token, json={"email": _email("s"), "name": "S", "level": "view_user",
                                                     "account_id": t.owner_account_id})
    if action == "view_basic_user":
        return t.call("GET", f"/users/{t.make_user('basic', aid, job_ids=[j1])['user_id']}", token)
    if action == "edit_basic_user":
        return t.call("PATCH", f"/users/{t.make_user('basic', aid, job_ids=[j1])['user_id']}", token,
                      json={"name": "Renamed"})
    if action == "disable_basic_user":
        return t.call("POST", f"/users/{t.make_user('basic', aid, job_ids=[j1])['user_id']}/disable", token)
    if action == "reset_basic_user":
        return t.call("POST", f"/users/{t.make_user('basic', aid, job_ids=[j1])['user_id']}/reset-password", token)
    if action == "delete_basic_user":
        return t.call("DELETE", f"/users/{t.make_user('basic', aid, job_ids=[j1])['user_id']}", token)
    if action == "disable_master":
        return t.call("POST", f"/users/{c['users']['master']['user_id']}/disable", token)
    if action == "demote_master":
        return t.call("PATCH", f"/users/{c['users']['master']['user_id']}", token, json={"level": "basic",
                                                                                        "job_ids": [j1]})
    if action == "create_guest_contractor":
        return t.call("POST", "/accounts", token, json={"kind": "guest_contractor", "name": "Guest Sparky"})
    if action == "create_customer":
        return t.call("POST", "/accounts", token, json={"kind": "customer", "name": "Another"})
    if action == "view_staff_user":
        return t.call("GET", f"/users/{t.make_user()['user_id']}", token)
    if action == "settings":
        return t.call("GET", "/settings", token)
    if action == "vehicles":
        return t.call("GET", "/vehicles", token)
    raise AssertionError(action)


# action -> expected per account level (docs/DOMAIN.md "Account levels")
ACCOUNT_TABLE = {
    "add_administrator": {"administrator": OK, "manager": NO, "basic": NO},
    "add_manager": {"administrator": OK, "manager": NO, "basic": NO},
    "add_basic_on_own_job": {"administrator": OK, "manager": OK, "basic": NO},
    "add_basic_on_other_job": {"administrator": OK, "manager": NO, "basic": NO},
    "add_staff_user": {"administrator": HIDDEN, "manager": HIDDEN, "basic": HIDDEN},
    "view_basic_user": {"administrator": OK, "manager": OK, "basic": HIDDEN},
    "edit_basic_user": {"administrator": OK, "manager": NO, "basic": HIDDEN},
    "disable_basic_user": {"administrator": OK, "manager": NO, "basic": HIDDEN},
    "reset_basic_user": {"administrator": OK, "manager": NO, "basic": HIDDEN},
    "delete_basic_user": {"administrator": OK, "manager": NO, "basic": HIDDEN},
    "disable_master": {"administrator": NO, "manager": NO, "basic": HIDDEN},
    "demote_master": {"administrator": NO, "manager": NO, "basic": HIDDEN},
    "create_guest_contractor": {"administrator": OK, "manager": OK, "basic": NO},
    "create_customer": {"administrator": NO, "manager": NO, "basic": NO},
    "view_staff_user": {"administrator": HIDDEN, "manager": HIDDEN, "basic": HIDDEN},
    "settings": {"administrator": NO, "manager": NO, "basic": NO},
    "vehicles": {"administrator": NO, "manager": NO, "basic": NO},
}


@pytest.mark.parametrize(("level", "action", "expected"), [
    pytest.param(level, action, row[level], id=f"{level}-{action}-{row[level].upper()}")
    for action, row in ACCOUNT_TABLE.items() for level in ACCOUNT_LEVELS
])
def test_account_level_cell(tenant, customer, level, action, expected):
    reply = _account_do(tenant, customer, action, customer["tokens"][level])
    assert reply.status_code in STATUS[expected], reply.text


def test_manager_without_guest_flag_cannot_create_guests(tenant, customer, api):
    manager = tenant.make_user("manager", customer["account_id"], job_ids=tenant.jobs[:1])
    reply = tenant.call("POST", "/accounts", api.token(manager["email"]), json={"kind": "guest_contractor", "name": "G"})
    assert reply.status_code == 403


def test_administrator_adds_guest_technicians_to_its_guest_contractor(tenant, customer):
    token = customer["tokens"]["administrator"]
    guest = tenant.call("POST", "/accounts", token, json={"kind": "guest_contractor", "name": "Guest Plumbing"}).json()
    granted = tenant.call("POST", f"/jobs/{tenant.jobs[0]}/access", token, json={"account_id": guest["account_id"]})
    assert granted.status_code == 201, granted.text
    tech = tenant.call("POST", "/users", token, json={"email": _email("tech"), "name": "Tech", "level": "basic",
                                                      "job_ids": tenant.jobs[:1], "account_id": guest["account_id"]})
    assert tech.status_code == 201, tech.text
    listed = tenant.call("GET", "/accounts", token).json()["items"]
    assert {a["account_id"] for a in listed} >= {customer["account_id"], guest["account_id"]}
    # another customer's administrator cannot reach that guest
    other = tenant.make_account("customer", admin={"email": _email("other"), "name": "Other"})
    other_admin = tenant.call("GET", f"/users?account_id={other['account_id']}", tenant.admin).json()["items"][0]
    assert other_admin["is_master"] is True


def test_first_administrator_of_account_is_master(tenant, customer):
    assert customer["users"]["master"]["is_master"] is True
    assert customer["users"]["administrator"]["is_master"] is False


def test_basic_user_lists_only_itself(tenant, customer):
    items = tenant.call("GET", "/users", customer["tokens"]["basic"]).json()["items"]
    assert [u["user_id"] for u in items] == [customer["users"]["basic"]["user_id"]]


def test_notification_preferences_need_a_phone_for_sms(tenant, api):
    user = tenant.make_user("view_user")
    token = api.token(user["email"])
    assert tenant.call("PUT", "/me/notification-preferences", token, json={"email": True, "sms": True}).status_code == 422
    assert tenant.call("PATCH", f"/users/{user['user_id']}", tenant.admin, json={"phone": "+64215550100"}).status_code == 200
    reply = tenant.call("PUT", "/me/notification-preferences", token, json={"email": False, "sms": True})
    assert reply.json() == {"email": False, "sms": True}
    assert tenant.call("GET", "/me", token).json()["user"]["notifications"] == {"email": False, "sms": True}
