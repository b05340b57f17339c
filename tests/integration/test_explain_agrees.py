"""Explain answers what the routes do: every (staff level or account kind and level) x project role x action
cell, asked both ways, through GET /jobs/{id}/explain and through the action's own route, agrees.

One job holds a person per cell: each staff level, and each account level of each connected kind (a guest
sponsored by the customer), in each project role. An action's route "allows" when it does not answer
403 or 404 (a second unload of a ticket is 409: the policy let it through); alerts.receive is whether the
person is on an alert's roll-call."""

import uuid
from collections import Counter

from sitegate.policy import ACCOUNT_LEVEL_ORDER, JOB_ACTIONS, STAFF_LEVEL_ORDER
from tests.integration.conftest import Identity, call
from tests.integration.test_job_access import NO_KEY, _account, _grant, _job, _ok, _user

JOB, DELIVERIES, ALERTS = "job_access", "delivery_approvals", "notifications"
ROLES = ["lead", "member", "alerts_only", "not_on_jobsite"]
KINDS = {"customer": {}, "inspection_firm": {"access_type": "ticket_taker"}, "project_owner": {"access_type": "limited"},
         "trade_contractor": {}, "vendor": {}, "guest_contractor": {}}
ALLOCATED = {"basic_user", "tmp_designer"}
DAY = "2027-01-11"  # a Monday


def _people(admin: Identity, job_id: str) -> dict[tuple[str, str, str], Identity]:
    """One person per (kind, level, role): staff of the owner account (kind `staff`) and users of each kind."""
    people: dict[tuple[str, str, str], Identity] = {}
    for level in STAFF_LEVEL_ORDER:
        for role in ROLES:
            extra = {"job_ids": [job_id]} if level in ALLOCATED else {}
            people[("staff", level, role)] = _user(admin, level, **extra)
    customer_admin: Identity | None = None
    accounts = {}
    for kind, grant in KINDS.items():
        if kind == "guest_contractor":  # sponsored by the customer, put on the job by its administrator
            assert customer_admin is not None
            guest = _ok(call("user_levels", "post_accounts.json", customer_admin, headers=NO_KEY,
                             body={"kind": kind, "name": f"guest {uuid.uuid4().hex[:6]}"}))
            accounts[kind] = guest["account_id"]
            _ok(_grant(customer_admin, job_id, guest["account_id"]))
        else:
            account, administrator = _account(admin, kind)
            accounts[kind] = account["account_id"]
            _ok(_grant(admin, job_id, account["account_id"], **grant))
            if kind == "customer":
                customer_admin = administrator
        for level in ACCOUNT_LEVEL_ORDER:
            for role in ROLES:
                extra = {} if level == "administrator" else {"job_ids": [job_id]}
                people[(kind, level, role)] = _user(admin, level, accounts[kind], **extra)
    for (_, _, role), who in people.items():
        if role != "not_on_jobsite":
            _ok(call(JOB, "put_job_member.json", admin, path={"job_id": job_id, "user_id": who.user_id},
                     body={"role": role}))
    return people


class Routes:
    """Each action through its own route, as `who`."""

    def __init__(self, admin: Identity, job_id: str, trade_account_id: str, people: dict) -> None:
        self.admin, self.job_id, self.n = admin, job_id, 0
        path = {"job_id": job_id}
        self.location = _ok(call(DELIVERIES, "post_job_locations.json", admin, path=path, headers=NO_KEY,
                                 body={"name": "Gate 1", "kind": "gate"}))["location_id"]
        ticket = {"ticket_number": uuid.uuid4().hex[:8], "material": "20MPa", "quantity": "6", "unit": "m3",
                  "truck": "T-1", "status": "en_route", "eta": f"{DAY}T10:00:00+13:00"}
        self.ticket = _ok(call(JOB, "post_job_tickets.json", admin, path=path, body=ticket, headers=NO_KEY))["ticket_id"]
        # A delivery for the trade still needing both approvals: booked by a GC member
        gc_member = people[("staff", "super_admin", "member")]
        self.delivery = _ok(call(DELIVERIES, "post_job_deliveries.json", gc_member, path=path, headers=NO_KEY,
                                 body={"for_account_id": trade_account_id, "location_id": self.location,
                                       "start": f"{DAY}T07:00:00+13:00", "end": f"{DAY}T07:30:00+13:00"}))["delivery_id"]
        # An alert sent after every role is set: its roll-call is who receives the job's alerts
        alert = _ok(call(ALERTS, "post_alerts.json", admin, path=path, body={"message": "Roll-call"}, headers=NO_KEY),
                    202)
        self.recipients: set[str] = set()
        cursor: str | None = ""
        while cursor is not None:  # the roll-call is a cursor page
            roll = _ok(call(ALERTS, "get_alert.json", admin, path={**path, "alert_id": alert["alert_id"]},
                            query={"limit": "200", **({"cursor": cursor} if cursor else {})}))
            self.recipients |= {r["user_id"] for r in roll["recipients"]}
            cursor = roll["next_cursor"]

    def allows(self, action: str, who: Identity) -> bool:
        if action == "alerts.receive":
            return who.user_id in self.recipients
        reply = getattr(self, action.replace(".", "_"))(who, {"job_id": self.job_id})
        assert reply.status < 500, (action, reply.body)
        return reply.status not in (403, 404)

    def job_view(self, who, path):
        return call(JOB, "get_job.json", who, path=path)

    def job_edit(self, who, path):
        return call(JOB, "patch_job.json", who, path=path, body={"name": "North wharf"})

    def tickets_view(self, who, path):
        return call(JOB, "get_job_tickets.json", who, path=path)

    def tickets_etas(self, who, path):
        return call(JOB, "get_job_etas.json", who, path=path)

    def tickets_unload(self, who, path):
        return call(JOB, "post_job_ticket_unload.json", who, path={**path, "ticket_id": self.ticket},
                    body={"accepted": True})

    def records_view(self, who, path):
        return call(JOB, "get_job_records.json", who, path=path)

    def records_create(self, who, path):
        return call(JOB, "post_job_records.json", who, path=path, headers=NO_KEY,
                    body={"type": "time", "date": DAY, "hours": 1})

    def project_view(self, who, path):
        return call(JOB, "get_job_members.json", who, path=path)

    def deliveries_request(self, who, path):
        self.n += 1  # a window of its own, so no booking clashes with another
        start = f"{DAY}T{8 + self.n // 12:02d}:{self.n % 12 * 5:02d}:00+13:00"
        end = f"{DAY}T{8 + (self.n + 1) // 12:02d}:{(self.n + 1) % 12 * 5:02d}:00+13:00"
        return call(DELIVERIES, "post_job_deliveries.json", who, path=path, headers=NO_KEY,
                    body={"for_account_id": who.account_id, "location_id": self.location, "start": start, "end": end})

    def deliveries_approve(self, who, path):
        return call(DELIVERIES, "post_job_delivery_approve.json", who, path={**path, "delivery_id": self.delivery})

    def alerts_send(self, who, path):
        return call(ALERTS, "post_alerts.json", who, path=path, body={"message": "Test"}, headers=NO_KEY)

    def requests_create(self, who, path):
        return call(DELIVERIES, "post_job_requests.json", who, path=path, headers=NO_KEY,
                    body={"title": "Extra pour", "description": "Level 3"})

    def access_manage(self, who, path):
        return call(JOB, "get_job_access.json", who, path=path)


def test_explain_and_the_routes_agree_on_every_cell(super_admin):
    # Given a person in every cell
    job_id = _job(super_admin)
    people = _people(super_admin, job_id)
    trade_account = people[("trade_contractor", "administrator", "lead")].account_id
    routes = Routes(super_admin, job_id, trade_account, people)
    # When each is asked both ways
    disagreements, allowed = [], Counter()
    for (kind, level, role), who in people.items():
        for action in JOB_ACTIONS:
            explained = _ok(call(JOB, "get_job_explain.json", super_admin, path={"job_id": job_id},
                                 query={"action": action, "user_id": who.user_id}))
            by_route = routes.allows(action, who)
            allowed[action] += by_route
            if explained["allowed"] != by_route:
                disagreements.append((kind, level, role, action, explained["rule"], by_route))
    # Then they agree everywhere, and every action is both allowed and denied somewhere (the cells differ)
    assert disagreements == []
    assert all(0 < allowed[action] < len(people) for action in JOB_ACTIONS), allowed
