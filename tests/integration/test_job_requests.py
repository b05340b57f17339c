"""Job requests through the delivery_approvals handler: who makes them, who sees which, and the
moves staff with job.edit make."""

import uuid

import pytest

from sitegate.data import core
from tests.integration.conftest import Identity, call
from tests.integration.test_deliveries import NO_KEY, Site, _account, _ok, _role, _user

FN = "delivery_approvals"
JOB = "job_access"


class Jobsite:
    """A job with a customer on it: its administrator, a manager and two basic users of the job,
    and a second customer with its own basic user."""

    def __init__(self, admin: Identity) -> None:
        self.admin = admin
        self.job_id = _ok(call(JOB, "post_jobs.json", admin, headers=NO_KEY,
                               body={"job_number": uuid.uuid4().hex[:8], "name": "Depot"}))["job_id"]
        self.other_job = _ok(call(JOB, "post_jobs.json", admin, headers=NO_KEY,
                                  body={"job_number": uuid.uuid4().hex[:8], "name": "Elsewhere"}))["job_id"]
        self.customer, self.customer_admin = _account(admin, "customer")
        self.rival, self.rival_admin = _account(admin, "customer")
        for account in (self.customer, self.rival):
            for job in (self.job_id, self.other_job):
                _ok(call(JOB, "post_job_access.json", admin, path={"job_id": job},
                         body={"account_id": account["account_id"]}, headers=NO_KEY))
        cid = self.customer["account_id"]
        self.manager = _user(admin, "manager", cid, job_ids=[self.job_id])
        self.elsewhere_manager = _user(admin, "manager", cid, job_ids=[self.other_job])
        self.basic = _user(admin, "basic", cid, job_ids=[self.job_id])
        self.basic_2 = _user(admin, "basic", cid, job_ids=[self.job_id])
        self.rival_basic = _user(admin, "basic", self.rival["account_id"], job_ids=[self.job_id])
        self.editor = _user(admin, "operations_user")
        self.viewer = _user(admin, "view_user")

    def create(self, who: Identity, title: str = "Sweep"):
        return call(FN, "post_job_requests.json", who, path={"job_id": self.job_id},
                    body={"title": title, "description": "Mud by gate 2"}, headers=NO_KEY)

    def titles(self, who: Identity) -> list[str]:
        reply = _ok(call(FN, "get_job_requests.json", who, path={"job_id": self.job_id}))
        return sorted(r["title"] for r in reply["items"])

    def move(self, who: Identity, request_id: str, status: str):
        return call(FN, "patch_job_request.json", who, path={"job_id": self.job_id, "request_id": request_id},
                    body={"status": status})


@pytest.fixture
def jobsite(super_admin) -> Jobsite:
    return Jobsite(super_admin)


def test_account_users_of_the_job_make_requests_staff_do_not(jobsite):
    # When
    made = [jobsite.create(w).status for w in (jobsite.customer_admin, jobsite.manager, jobsite.basic)]
    staff = jobsite.create(jobsite.editor)
    # Then
    assert made == [201, 201, 201]
    assert staff.status == 403, staff.body
    assert _ok(jobsite.create(jobsite.basic), 201)["status"] == "open"


def test_each_level_sees_the_requests_docs_say(jobsite):
    # Given
    for who, title in ((jobsite.basic, "b1"), (jobsite.basic_2, "b2"), (jobsite.manager, "m"),
                       (jobsite.rival_basic, "rival")):
        _ok(jobsite.create(who, title), 201)
    # Then: basic users their own; managers and administrators their account's; staff all of the job
    assert jobsite.titles(jobsite.basic) == ["b1"]
    assert jobsite.titles(jobsite.manager) == ["b1", "b2", "m"]
    assert jobsite.titles(jobsite.customer_admin) == ["b1", "b2", "m"]
    assert jobsite.titles(jobsite.rival_admin) == ["rival"]
    assert jobsite.titles(jobsite.viewer) == ["b1", "b2", "m", "rival"]


def test_a_manager_of_another_job_sees_nothing_of_this_one(jobsite):
    _ok(jobsite.create(jobsite.basic), 201)
    reply = call(FN, "get_job_requests.json", jobsite.elsewhere_manager, path={"job_id": jobsite.job_id})
    assert reply.status == 404, reply.body


@pytest.mark.parametrize(("moves", "statuses"), [
    (["accepted", "done"], [200, 200]),
    (["declined"], [200]),
    (["accepted", "declined"], [200, 200]),
    (["done"], [409]),
    (["accepted", "accepted"], [200, 409]),
    (["declined", "accepted"], [200, 409]),
    (["accepted", "done", "declined"], [200, 200, 409]),
    (["open"], [409]),
])
def test_staff_with_job_edit_move_requests_open_accepted_done_or_declined(jobsite, moves, statuses):
    # Given
    request = _ok(jobsite.create(jobsite.basic), 201)["request_id"]
    # When
    replies = [jobsite.move(jobsite.editor, request, status) for status in moves]
    # Then
    assert [r.status for r in replies] == statuses


@pytest.mark.parametrize("who", ["viewer", "customer_admin", "basic"])
def test_only_job_edit_moves_requests(jobsite, who):
    request = _ok(jobsite.create(jobsite.basic), 201)["request_id"]
    assert jobsite.move(getattr(jobsite, who), request, "accepted").status == 403


def test_moving_an_unknown_request_is_404_and_a_bad_status_422(jobsite):
    assert jobsite.move(jobsite.editor, "0" * 32, "accepted").status == 404
    request = _ok(jobsite.create(jobsite.basic), 201)["request_id"]
    assert jobsite.move(jobsite.editor, request, "finished").status == 422


@pytest.mark.parametrize("body", [{"title": "", "description": "d"}, {"title": "t"}, {"title": "t", "description": "d", "x": 1},
                                  {"title": "t" * 201, "description": "d"}])
def test_bad_requests_are_422(jobsite, body):
    reply = call(FN, "post_job_requests.json", jobsite.basic, path={"job_id": jobsite.job_id}, body=body)
    assert reply.status == 422, reply.body


def test_the_dashboard_counts_open_requests_and_pending_deliveries(jobsite, super_admin):
    # Given: two open requests, one accepted; on another job a pending delivery and an approved one
    first = _ok(jobsite.create(jobsite.basic), 201)["request_id"]
    _ok(jobsite.create(jobsite.basic), 201)
    accepted = _ok(jobsite.create(jobsite.manager), 201)["request_id"]
    _ok(jobsite.move(jobsite.editor, accepted, "accepted"))
    site = Site(super_admin)
    pending = _ok(site.book(site.gc_member), 201)["delivery_id"]
    _ok(site.book(site.gc_lead, "11:00", "11:30"), 201)
    allocated = _user(super_admin, "tmp_designer", job_ids=[jobsite.job_id])
    # When
    everything = _dashboard(super_admin)
    mine = _dashboard(allocated)
    _ok(jobsite.move(jobsite.editor, first, "declined"))
    _ok(site.act(site.gc_lead, "approve", pending))
    after = _dashboard(super_admin)
    # Then
    assert (everything["pending_deliveries"], everything["open_requests"]) == (1, 2)
    assert (mine["pending_deliveries"], mine["open_requests"]) == (0, 2)
    assert (after["pending_deliveries"], after["open_requests"]) == (0, 1)


def _dashboard(who: Identity) -> dict:
    return _ok(call("user_levels", "get_dashboard.json", who))


class ManyJobs:
    """PER_JOB_COUNTS + 2 jobs, and one more that is no one's here, each with a gate, a GC member who
    books (pending) and a customer whose administrator asks (open); what lies on which job is `add`ed."""

    def __init__(self, admin: Identity) -> None:
        self.admin = admin
        self.member = _user(admin, "basic_user_plus")
        self.customer, self.asker = _account(admin, "customer")
        self.jobs, self.gates = [], {}
        for _ in range(core.PER_JOB_COUNTS + 3):
            job_id = _ok(call(JOB, "post_jobs.json", admin, headers=NO_KEY,
                              body={"job_number": uuid.uuid4().hex[:8], "name": "Depot"}))["job_id"]
            _role(admin, job_id, self.member, "member")
            _role(admin, job_id, admin, "lead")
            _ok(call(JOB, "post_job_access.json", admin, path={"job_id": job_id},
                     body={"account_id": self.customer["account_id"]}, headers=NO_KEY))
            self.gates[job_id] = _ok(call(FN, "post_job_locations.json", admin, path={"job_id": job_id},
                                          body={"name": "Gate 1", "kind": "gate"}, headers=NO_KEY))["location_id"]
            self.jobs.append(job_id)
        self.other = self.jobs.pop()

    def add(self, job_id: str, pending: int = 0, approved: int = 0, open_: int = 0, declined: int = 0) -> None:
        for n in range(pending + approved):  # the member books (pending); a lead approves some
            body = {"for_account_id": self.admin.account_id, "location_id": self.gates[job_id],
                    "start": f"2026-11-30T{8 + n:02d}:00:00+13:00", "end": f"2026-11-30T{8 + n:02d}:30:00+13:00"}
            delivery = _ok(call(FN, "post_job_deliveries.json", self.member, path={"job_id": job_id}, body=body,
                                headers=NO_KEY), 201)["delivery_id"]
            if n >= pending:
                _ok(call(FN, "post_job_delivery_approve.json", self.admin,
                         path={"job_id": job_id, "delivery_id": delivery}))
        for n in range(open_ + declined):
            request = _ok(call(FN, "post_job_requests.json", self.asker, path={"job_id": job_id},
                               body={"title": "Sweep", "description": "Mud"}, headers=NO_KEY), 201)["request_id"]
            if n >= open_:
                _ok(call(FN, "patch_job_request.json", self.admin, path={"job_id": job_id, "request_id": request},
                         body={"status": "declined"}))


def test_the_dashboard_of_a_user_on_many_jobs_counts_its_jobs_and_no_others(super_admin, dynamodb_calls):
    # Given: pending deliveries and open requests on the first ten jobs, on the two past them and on a job
    # of no one here, and an approved delivery and a declined request that count nowhere
    site = ManyJobs(super_admin)
    first, last = site.jobs[0], site.jobs[core.PER_JOB_COUNTS - 1]
    site.add(first, pending=1, approved=1, open_=1, declined=1)
    site.add(last, pending=1)
    site.add(site.jobs[-2], pending=1, open_=2)
    site.add(site.jobs[-1], open_=1)
    site.add(site.other, pending=1, open_=1)
    few = _user(super_admin, "tmp_designer", job_ids=site.jobs[:core.PER_JOB_COUNTS])
    many = _user(super_admin, "tmp_designer", job_ids=site.jobs)
    # When
    dynamodb_calls.clear()
    on_few = _dashboard(few)
    few_queries = dynamodb_calls["Query"]
    dynamodb_calls.clear()
    on_many = _dashboard(many)
    many_queries = dynamodb_calls["Query"]
    # Then: exactly what lies on each user's jobs, counted per job for ten, by one walk of each list past ten
    assert on_few == {"active_jobs": core.PER_JOB_COUNTS, "pending_deliveries": 2, "open_requests": 1}
    assert on_many == {"active_jobs": core.PER_JOB_COUNTS + 2, "pending_deliveries": 3, "open_requests": 4}
    assert (few_queries, many_queries) == (2 * core.PER_JOB_COUNTS, 2)
    assert _dashboard(super_admin) | {"active_jobs": 0} == {"active_jobs": 0, "pending_deliveries": 4,
                                                           "open_requests": 5}


def test_an_archived_job_takes_no_request_writes_but_lists_them(jobsite, super_admin):
    # Given
    request = _ok(jobsite.create(jobsite.basic), 201)["request_id"]
    _ok(call(JOB, "post_job_archive.json", super_admin, path={"job_id": jobsite.job_id}))
    # When
    created = jobsite.create(jobsite.basic)
    moved = jobsite.move(jobsite.editor, request, "accepted")
    # Then
    assert (created.status, moved.status) == (409, 409)
    assert jobsite.titles(jobsite.basic) == ["Sweep"]


def test_a_repeated_idempotency_key_makes_one_request(jobsite):
    # Given
    key = {"idempotency-key": f"k-{uuid.uuid4().hex}"}
    body = {"title": "Sweep", "description": "Road"}
    # When
    first = call(FN, "post_job_requests.json", jobsite.basic, path={"job_id": jobsite.job_id}, body=body, headers=key)
    again = call(FN, "post_job_requests.json", jobsite.basic, path={"job_id": jobsite.job_id}, body=body, headers=key)
    # Then
    assert (first.status, again.status, first.body) == (201, 201, again.body)
    assert jobsite.titles(jobsite.basic) == ["Sweep"]


def test_archiving_a_job_declines_its_open_requests_and_keeps_accepted_ones(jobsite, super_admin):
    # Given: an open and an accepted request on the job, and an open one on another job
    open_ = _ok(jobsite.create(jobsite.basic, "Open one"), 201)["request_id"]
    accepted = _ok(jobsite.create(jobsite.basic, "Accepted one"), 201)["request_id"]
    _ok(jobsite.move(jobsite.editor, accepted, "accepted"))
    elsewhere = call(FN, "post_job_requests.json", jobsite.customer_admin, path={"job_id": jobsite.other_job},
                     body={"title": "Elsewhere", "description": "x"}, headers=NO_KEY)
    _ok(elsewhere, 201)
    before = _dashboard(super_admin)["open_requests"]
    # When
    _ok(call(JOB, "post_job_archive.json", super_admin, path={"job_id": jobsite.job_id}))
    # Then: nothing stays open on the archived job, nor counted; the other job's request is untouched
    listed = _ok(call(FN, "get_job_requests.json", super_admin, path={"job_id": jobsite.job_id}))["items"]
    assert {r["request_id"]: r["status"] for r in listed} == {open_: "declined", accepted: "accepted"}
    assert _dashboard(super_admin)["open_requests"] == before - 1
