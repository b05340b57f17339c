"""Why, and who can: explanations, the access report and access reviews through the job_access handler."""

import csv
import hashlib
import io
import json
import uuid
from datetime import UTC, datetime

import pytest

from sitegate import clock
from tests.integration.conftest import Identity, call
from tests.integration.test_job_access import NO_KEY, _account, _grant, _job, _ok, _user

JOB = "job_access"


def _explain(who: Identity, job_id: str, action: str, user_id: str | None = None):
    query = {"action": action, **({"user_id": user_id} if user_id else {})}
    return call(JOB, "get_job_explain.json", who, path={"job_id": job_id}, query=query)


def _report(who: Identity, job_id: str, **query):
    return call(JOB, "get_job_access_report.json", who, path={"job_id": job_id}, query=query)


def _role(who: Identity, job_id: str, user_id: str, role: str):
    return _ok(call(JOB, "put_job_member.json", who, path={"job_id": job_id, "user_id": user_id}, body={"role": role}))


def _open(who: Identity, job_id: str, reviewer: str, due: str = "2026-12-31"):
    return call(JOB, "post_access_reviews.json", who, body={"job_id": job_id, "reviewer_user_id": reviewer, "due": due},
                headers=NO_KEY)


def _decide(who: Identity, review_id: str, item_id: str, decision: str, note: str | None = None):
    body = {"item_id": item_id, "decision": decision, **({"note": note} if note else {})}
    return call(JOB, "post_access_review_decisions.json", who, path={"review_id": review_id}, body=body)


def _review(who: Identity, review_id: str, event: str = "get_access_review.json"):
    return call(JOB, event, who, path={"review_id": review_id})


@pytest.fixture
def site(super_admin):
    """A job with a customer (its administrator and an unassigned basic user), a trade with a lead, and staff."""
    clock.freeze(datetime(2026, 12, 1, 9, tzinfo=UTC))
    job_id = _job(super_admin)
    customer, customer_admin = _account(super_admin, "customer")
    elsewhere = _job(super_admin)
    _ok(_grant(super_admin, elsewhere, customer["account_id"]))
    unassigned = _user(super_admin, "basic", customer["account_id"], job_ids=[elsewhere])
    trade, trade_admin = _account(super_admin, "trade_contractor")
    _ok(_grant(super_admin, job_id, customer["account_id"], expires_at="2026-12-10T00:00:00+00:00"))
    _ok(_grant(super_admin, job_id, trade["account_id"]))
    _role(super_admin, job_id, trade_admin.user_id, "lead")
    ops = _user(super_admin, "operations_user")
    basic_staff = _user(super_admin, "basic_user")
    return {"job_id": job_id, "customer": customer, "customer_admin": customer_admin, "unassigned": unassigned,
            "trade": trade, "trade_lead": trade_admin, "ops": ops, "basic_staff": basic_staff}


# ------------------------------------------------------------------ explain
def test_explain_names_the_rule_and_the_facts_in_order(super_admin, site):
    # When
    reply = _explain(super_admin, site["job_id"], "tickets.view", site["customer_admin"].user_id)
    # Then
    body = _ok(reply)
    assert (body["allowed"], body["rule"]) == (True, "access-type-allows")
    assert [f["fact"] for f in body["path"]] == ["user", "account", "entry", "assignment", "role"]
    entry = body["path"][2]
    assert (entry["value"], entry["expires_at"], entry["granted_by"]) == (
        "live", "2026-12-10T00:00:00+00:00", super_admin.user_id)


def test_a_denial_names_the_missing_fact(super_admin, site):
    # Given the customer's entry has expired
    clock.freeze(datetime(2026, 12, 11, tzinfo=UTC))
    # When
    body = _ok(_explain(super_admin, site["job_id"], "job.view", site["customer_admin"].user_id))
    # Then
    assert (body["allowed"], body["rule"]) == (False, "grant-expired")
    assert f"{site['customer']['name']}'s entry expired on 2026-12-10" in body["reason"]
    assert body["path"][2]["value"] == "expired"


def test_an_unassigned_basic_user_is_told_it_is_not_assigned(super_admin, site):
    body = _ok(_explain(super_admin, site["job_id"], "job.view", site["unassigned"].user_id))
    assert (body["allowed"], body["rule"]) == (False, "job-not-assigned")
    assert body["path"][3] == {"fact": "assignment", "value": "not assigned"}


def test_anyone_asks_about_itself_but_only_editors_and_gc_leads_about_others(super_admin, site):
    job_id = site["job_id"]
    # A customer administrator about itself: yes; about someone else: 403
    assert _ok(_explain(site["customer_admin"], job_id, "records.view"))["allowed"] is True
    other = _explain(site["customer_admin"], job_id, "job.view", site["ops"].user_id)
    assert other.status == 403 and other.body["rule"] == "explain-others"
    # A trade lead (not the GC's) about others: 403
    assert _explain(site["trade_lead"], job_id, "job.view", site["ops"].user_id).status == 403
    # Staff with job.edit about anyone: yes
    assert _explain(site["ops"], job_id, "job.view", site["trade_lead"].user_id).status == 200


@pytest.mark.parametrize(("query", "status"), [
    ({"action": "job.fly"}, 422), ({}, 422), ({"action": "job.view", "user_id": "nobody"}, 404),
    ({"action": "job.view", "user_id": "a#b"}, 422),
])
def test_explain_refuses_bad_questions(super_admin, site, query, status):
    reply = call(JOB, "get_job_explain.json", super_admin, path={"job_id": site["job_id"]}, query=query)
    assert reply.status == status, reply.body


def test_explain_about_someone_whose_company_is_not_on_the_job_is_404(super_admin, site):
    # Given a customer never put on the job
    _, stranger = _account(super_admin, "customer")
    # Then the job's editors learn nothing about it here (about its staff and its entries' users, they do)
    reply = _explain(super_admin, site["job_id"], "job.view", stranger.user_id)
    assert reply.status == 404 and "not on this job" in reply.body["message"]


def test_explain_about_a_user_of_another_tenant_is_404(super_admin, operator, site):
    other = Identity(**{**_other_tenant(operator).__dict__})
    reply = _explain(super_admin, site["job_id"], "job.view", other.user_id)
    assert reply.status == 404


def _other_tenant(operator: Identity) -> Identity:
    reply = call("user_levels", "post_tenants.json", operator, headers=NO_KEY,
                 body={"name": "Other", "admin_email": f"{uuid.uuid4().hex[:8]}@other.example", "admin_name": "O"})
    assert reply.status == 201, reply.body
    return Identity(reply.body["tenant_id"], reply.body["admin_user_id"], reply.body["owner_account_id"])


def test_a_job_of_another_tenant_is_404_to_explain_and_report(super_admin, operator, site):
    stranger = _other_tenant(operator)
    assert _explain(stranger, site["job_id"], "job.view").status == 404
    assert _report(stranger, site["job_id"]).status == 404


# ------------------------------------------------------------------ the access report
def test_the_report_lists_who_can_reach_the_job_with_actions_and_paths(super_admin, site):
    body = _ok(_report(super_admin, site["job_id"]))
    rows = {r["user_id"]: r for r in body["items"]}
    assert site["unassigned"].user_id not in rows  # a basic user not assigned to the job
    assert site["basic_staff"].user_id not in rows  # a basic_user not allocated to it
    lead = rows[site["trade_lead"].user_id]
    assert (lead["kind"], lead["role"]) == ("trade_contractor", "lead")
    assert "deliveries.approve" in lead["actions"] and "tickets.view" not in lead["actions"]
    assert lead["paths"]["project.view"].startswith("role-allows")
    admin = rows[site["customer_admin"].user_id]
    assert set(admin["actions"]) >= {"job.view", "tickets.view", "records.view", "requests.create"}
    assert set(admin["paths"]) == set(admin["actions"])


def test_a_later_instant_leaves_out_entries_expiring_before_it(super_admin, site):
    body = _ok(_report(super_admin, site["job_id"], at="2026-12-20T00:00:00Z"))
    assert body["at"] == "2026-12-20T00:00:00+00:00"
    assert site["customer_admin"].user_id not in {r["user_id"] for r in body["items"]}
    assert site["trade_lead"].user_id in {r["user_id"] for r in body["items"]}


def test_a_past_instant_leaves_out_entries_granted_after_it(super_admin, site):
    body = _ok(_report(super_admin, site["job_id"], at="2026-11-30T00:00:00Z"))
    kinds = {r["kind"] for r in body["items"]}
    assert kinds == {"owner"}  # the customer and the trade were put on the job on 2026-12-01


def test_the_report_as_csv_has_one_row_per_person(super_admin, site):
    reply = _report(super_admin, site["job_id"], format="csv")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.body)))
    as_json = _ok(_report(super_admin, site["job_id"]))["items"]
    assert [r["user_id"] for r in rows] == [r["user_id"] for r in as_json]
    assert rows[0]["actions"].split() == as_json[0]["actions"]


def test_the_report_is_for_editors_and_gc_leads_only(site):
    assert _report(site["customer_admin"], site["job_id"]).status == 403
    assert _report(site["trade_lead"], site["job_id"]).status == 403
    assert _report(site["ops"], site["job_id"]).status == 200
    assert _report(site["ops"], site["job_id"], at="yesterday").status == 422


# ------------------------------------------------------------------ access reviews
def test_a_review_snapshots_the_report_and_lists_every_entry_and_role(super_admin, site):
    # When
    body = _ok(_open(super_admin, site["job_id"], site["ops"].user_id), 201)
    # Then
    assert body["status"] == "open" and body["overdue"] is False and body["undecided"] == len(body["items"])
    kinds = {(i["kind"], i["account_id"], i["user_id"]) for i in body["items"]}
    assert ("entry", site["customer"]["account_id"], None) in kinds
    assert ("role", site["trade"]["account_id"], site["trade_lead"].user_id) in kinds
    assert all(i["decision"] is None for i in body["items"])


def test_nobody_decides_their_own_grant(super_admin, site):
    # Given the super admin granted every entry, and reviews them (ops opened the review)
    review = _ok(_open(site["ops"], site["job_id"], super_admin.user_id), 201)
    entry = f"entry-{site['customer']['account_id']}"
    # When the reviewer decides its own grant
    reply = _decide(super_admin, review["review_id"], entry, "keep")
    # Then
    assert reply.status == 403 and reply.body["rule"] == "review-own-grant"


def test_the_reviewers_own_grants_go_to_the_creator(super_admin, site):
    # Given a review by the super admin for ops, who granted nothing, and one for the super admin by ops
    review = _ok(_open(site["ops"], site["job_id"], super_admin.user_id), 201)
    entry = f"entry-{site['customer']['account_id']}"
    # Then the creator (ops) decides what the reviewer granted; a stranger cannot even see the review
    assert _decide(super_admin, review["review_id"], entry, "keep").status == 403
    assert _ok(_decide(site["ops"], review["review_id"], entry, "keep", note="still delivering"))["decided_by"] == \
        site["ops"].user_id
    assert _decide(site["customer_admin"], review["review_id"], entry, "keep").status == 404
    assert _review(site["customer_admin"], review["review_id"]).status == 404


def test_closing_carries_out_the_revocations_and_yields_evidence(super_admin, site):
    # Given a review by the super admin for ops, every item decided
    job_id = site["job_id"]
    review = _ok(_open(super_admin, job_id, site["ops"].user_id), 201)
    review_id = review["review_id"]
    assert _review(site["ops"], review_id, "post_access_review_close.json").status == 409  # undecided items
    for item in review["items"]:
        revoke = item["account_id"] == site["customer"]["account_id"]
        _ok(_decide(site["ops"], review_id, item["item_id"], "revoke" if revoke else "keep"))
    # When
    closed = _ok(_review(site["ops"], review_id, "post_access_review_close.json"))
    # Then the customer is off the job, its administrator no longer reaches it
    assert (closed["status"], closed["revoked"]) == ("closed", 1)
    assert call(JOB, "get_job.json", site["customer_admin"], path={"job_id": job_id}).status == 404
    # And the evidence hashes to what the close said
    evidence = _ok(_review(super_admin, review_id, "get_access_review_evidence.json"))
    canonical = json.dumps(evidence["document"], sort_keys=True, separators=(",", ":")).encode()
    assert hashlib.sha256(canonical).hexdigest() == evidence["sha256"] == closed["evidence_sha256"]
    assert evidence["document"]["revoked"] == [{"item_id": f"entry-{site['customer']['account_id']}", "kind": "entry",
                                                "account_id": site["customer"]["account_id"], "user_id": None,
                                                "role": None, "outcome": "revoked"}]
    assert len(evidence["document"]["snapshot"]["items"]) == len(review["items"]) or evidence["document"]["snapshot"]
    # And the revocation is in the audit trail
    audit = _ok(call("user_levels", "get_audit.json", super_admin, query={"action": "access.revoke"}))["items"]
    assert [e["target"]["id"] for e in audit] == [site["customer"]["account_id"]]
    # And a closed review takes no more decisions, and closes once
    item = review["items"][0]["item_id"]
    assert _decide(site["ops"], review_id, item, "keep").status == 409
    assert _review(site["ops"], review_id, "post_access_review_close.json").status == 409


def test_a_review_past_its_due_is_overdue(super_admin, site):
    review = _ok(_open(super_admin, site["job_id"], site["ops"].user_id, due="2026-12-02"), 201)
    clock.freeze(datetime(2026, 12, 3, 12, tzinfo=UTC))  # 2026-12-04 in Auckland
    assert _ok(_review(site["ops"], review["review_id"]))["overdue"] is True


@pytest.mark.parametrize(("body", "field"), [
    ({"due": "2026-11-01"}, "due"), ({"due": "soon"}, "due"), ({"reviewer_user_id": "nobody"}, "reviewer_user_id"),
])
def test_a_review_with_a_bad_due_or_reviewer_is_422(super_admin, site, body, field):
    full = {"job_id": site["job_id"], "reviewer_user_id": site["ops"].user_id, "due": "2026-12-31", **body}
    reply = call(JOB, "post_access_reviews.json", super_admin, body=full, headers=NO_KEY)
    assert reply.status == 422, reply.body
    assert field in json.dumps(reply.body)


def test_a_reviewer_must_be_staff_who_see_the_job(super_admin, site):
    reply = _open(super_admin, site["job_id"], site["customer_admin"].user_id)
    assert reply.status == 422 and "not staff" in json.dumps(reply.body)
    reply = _open(super_admin, site["job_id"], site["basic_staff"].user_id)
    assert reply.status == 422 and "not allocated" in json.dumps(reply.body)


def test_only_staff_with_job_edit_open_reviews(super_admin, site):
    assert _open(site["trade_lead"], site["job_id"], site["ops"].user_id).status == 403
    assert _open(site["customer_admin"], site["job_id"], site["ops"].user_id).status == 403


# ------------------------------------------------------------------ found by attacking the stack
def test_a_decision_made_while_the_review_closes_is_carried_out_not_lost(super_admin, site, monkeypatch):
    # Given a review whose only entry is kept, and a decision to revoke it landing between the close's read
    # and its write (found racing closes against decisions: the close answered 200 and the revoke was lost)
    from sitegate import access_reviews
    from sitegate.data import review_store

    job_id = site["job_id"]
    review = _ok(_open(super_admin, job_id, site["ops"].user_id), 201)
    for item in review["items"]:
        _ok(_decide(site["ops"], review["review_id"], item["item_id"], "keep"))
    entry = f"entry-{site['customer']['account_id']}"
    read, raced = review_store.read_review, []

    def read_then_race(tenant_id: str, review_id: str):
        found = read(tenant_id, review_id)
        if not raced:
            raced.append(_ok(_decide(site["ops"], review_id, entry, "revoke")))
        return found

    monkeypatch.setattr(access_reviews.review_store, "read_review", read_then_race)
    # When
    closed = _ok(_review(site["ops"], review["review_id"], "post_access_review_close.json"))
    # Then the close read again and carried the revoke out; the evidence says so and hashes as the close said
    assert closed["revoked"] == 1
    assert call(JOB, "get_job.json", site["customer_admin"], path={"job_id": job_id}).status == 404
    monkeypatch.setattr(access_reviews.review_store, "read_review", read)
    evidence = _ok(_review(super_admin, review["review_id"], "get_access_review_evidence.json"))
    assert evidence["sha256"] == closed["evidence_sha256"]
    assert [r["outcome"] for r in evidence["document"]["revoked"]] == ["revoked"]


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "2028-01-01T00:00:00",
                                "1700000000", "2026-12-03", "2026-13-01T00:00:00Z"])
def test_an_access_report_at_an_instant_without_offset_or_outside_the_calendar_is_422(super_admin, site, at):
    reply = _report(super_admin, site["job_id"], at=at)
    assert reply.status == 422, reply.body
    assert "at" in json.dumps(reply.body)


@pytest.mark.parametrize(("body", "field"), [({"due": "2027-01-01T00:00:00Z"}, "due"), ({"due": 20270101}, "due")])
def test_a_due_that_is_not_a_plain_date_is_422(super_admin, site, body, field):
    full = {"job_id": site["job_id"], "reviewer_user_id": site["ops"].user_id, **body}
    reply = call(JOB, "post_access_reviews.json", super_admin, body=full, headers=NO_KEY)
    assert reply.status == 422 and field in json.dumps(reply.body), reply.body


@pytest.mark.parametrize("note", ["a\u0000b", "a\u001bb", "a\tb", "a\u202eb"])
def test_a_decisions_note_follows_the_text_rule(super_admin, site, note):
    review = _ok(_open(site["ops"], site["job_id"], super_admin.user_id), 201)
    entry = f"entry-{site['trade']['account_id']}"
    reply = _decide(site["ops"], review["review_id"], entry, "keep", note=note)
    assert reply.status == 422, reply.body


def test_a_reviewer_who_can_no_longer_view_the_job_may_not_judge_it(super_admin, site):
    # Given a tmp_designer allocated to the job reviews it, then is moved to another job
    designer = _user(super_admin, "tmp_designer", job_ids=[site["job_id"]])
    review = _ok(_open(super_admin, site["job_id"], designer.user_id), 201)
    other_job = _job(super_admin)
    _ok(call("user_levels", "patch_user.json", super_admin, path={"user_id": designer.user_id},
             body={"job_ids": [other_job]}))
    # Then deciding and closing are refused
    entry = f"entry-{site['trade']['account_id']}"
    reply = _decide(designer, review["review_id"], entry, "revoke")
    assert reply.status == 403 and reply.body["rule"] == "staff-allocation"
    assert _review(designer, review["review_id"], "post_access_review_close.json").status == 403


def test_the_reviewer_is_not_who_opens_the_review_nor_decides_its_own_role(super_admin, site):
    reply = _open(super_admin, site["job_id"], super_admin.user_id)
    assert reply.status == 422 and "someone other" in json.dumps(reply.body)
    _role(super_admin, site["job_id"], site["ops"].user_id, "member")
    review = _ok(_open(super_admin, site["job_id"], site["ops"].user_id), 201)
    reply = _decide(site["ops"], review["review_id"], f"role-{site['ops'].user_id}", "keep")
    assert reply.status == 403 and reply.body["rule"] == "review-own-access"


def test_the_report_lists_everyone_the_directory_does_actions_or_not(super_admin, site):
    # A vendor's user without a role reaches the job (the directory) but may take none of the actions
    vendor, vendor_admin = _account(super_admin, "vendor")
    _ok(_grant(super_admin, site["job_id"], vendor["account_id"]))
    members = _ok(call(JOB, "get_job_members.json", super_admin, path={"job_id": site["job_id"]}))["items"]
    rows = {r["user_id"]: r for r in _ok(_report(super_admin, site["job_id"]))["items"]}
    assert {m["user_id"] for m in members} == set(rows)
    assert rows[vendor_admin.user_id]["role"] == "not_on_jobsite"


def test_an_entry_granted_at_a_later_test_clock_still_counts_now(super_admin, site):
    # Granted with the clock moved ahead, then the clock set back: the report of now (no `at`) lists it, as the
    # directory does; only a past `at` given explicitly leaves out what was granted after it
    vendor, vendor_admin = _account(super_admin, "vendor")
    clock.freeze(datetime(2026, 12, 5, tzinfo=UTC))
    _ok(_grant(super_admin, site["job_id"], vendor["account_id"]))
    clock.freeze(datetime(2026, 12, 1, 10, tzinfo=UTC))
    assert vendor_admin.user_id in {r["user_id"] for r in _ok(_report(super_admin, site["job_id"]))["items"]}
    past = _ok(_report(super_admin, site["job_id"], at="2026-12-01T09:30:00Z"))["items"]
    assert vendor_admin.user_id not in {r["user_id"] for r in past}
