"""Defects found by attacking the running stack as an outsider would, each kept fixed here."""

import base64
import json
import os
import uuid

import boto3
import pytest

from sitegate import audit, keys
from sitegate.data import core, userpool
from sitegate.models.stored import Job, JobGrant
from tests.integration.conftest import call
from tests.integration.test_job_access import JOB, NO_KEY, _account, _grant, _job, _ok, _ticket, _user


def _fields(reply) -> list[str]:
    return [e["field"] for e in reply.body["errors"]]


def _identity_enabled(user_id: str) -> bool:
    pool = boto3.client("cognito-idp").admin_get_user(UserPoolId=os.environ["USER_POOL_ID"], Username=user_id)
    return bool(pool["Enabled"])


@pytest.mark.parametrize("quantity", ["9999999999999999999999999999", 99999999999999999999999999999999])
def test_a_quantity_past_decimal_precision_is_422_and_creates_nothing(super_admin, quantity):
    # Given
    job_id = _job(super_admin)
    # When
    reply = _ticket(super_admin, job_id, quantity=quantity)
    # Then
    assert reply.status == 422, reply.body
    assert _fields(reply) == ["quantity"]
    assert _ok(call(JOB, "get_job_tickets.json", super_admin, path={"job_id": job_id}))["items"] == []


def test_hours_past_decimal_precision_is_422_naming_hours(super_admin):
    # Given
    job_id = _job(super_admin)
    # When
    reply = call(JOB, "post_job_records.json", super_admin, path={"job_id": job_id}, headers=NO_KEY,
                 body={"type": "time", "date": "2026-11-20", "hours": "9" * 40})
    # Then
    assert reply.status == 422, reply.body
    assert _fields(reply) == ["hours"]


@pytest.mark.parametrize("eta", [0, 1700000000])
def test_a_unix_timestamp_is_not_taken_for_a_time(super_admin, eta):
    # Given
    job_id = _job(super_admin)
    # When
    reply = _ticket(super_admin, job_id, eta=eta)
    # Then
    assert reply.status == 422, reply.body
    assert _fields(reply) == ["eta"]


def test_a_record_date_is_a_plain_date(super_admin):
    # Given
    job_id = _job(super_admin)
    # When
    reply = call(JOB, "post_job_records.json", super_admin, path={"job_id": job_id}, headers=NO_KEY,
                 body={"type": "time", "date": "2026-11-20T00:00:00+00:00", "hours": "7.5"})
    # Then
    assert reply.status == 422, reply.body
    assert _fields(reply) == ["date"]


def test_enable_repairs_an_identity_left_disabled_by_a_race(super_admin):
    # Given: a user whose record is active but whose identity a racing disable left disabled
    user = _user(super_admin, "view_user")
    userpool.disable(user.user_id)
    # When
    reply = call("user_levels", "post_user_enable.json", super_admin, path={"user_id": user.user_id})
    # Then
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "active"
    assert _identity_enabled(user.user_id)


def test_disable_leaves_record_and_identity_agreeing(super_admin):
    # Given
    user = _user(super_admin, "view_user")
    # When
    reply = call("user_levels", "post_user_disable.json", super_admin, path={"user_id": user.user_id})
    # Then
    assert reply.body["status"] == "disabled"
    assert not _identity_enabled(user.user_id)


def _customer_entries(admin, job_id: str) -> list[str]:
    return [e["account_id"] for e in _ok(call(JOB, "get_job_access.json", admin, path={"job_id": job_id}))["customers"]]


def _archive(admin, job_id: str) -> None:
    _ok(call(JOB, "post_job_archive.json", admin, path={"job_id": job_id}))


def test_dropping_a_customer_code_leaves_an_archived_jobs_access_list_alone(super_admin):
    # Given: a customer connected by its code to a job that is then archived
    code = f"C{uuid.uuid4().hex[:6]}"
    customer, _ = _account(super_admin, "customer")
    _ok(call("user_levels", "patch_account.json", super_admin, path={"account_id": customer["account_id"]},
             body={"customer_codes": [code]}))
    job_id = _job(super_admin, customer_code=code)
    _archive(super_admin, job_id)
    # When
    reply = call("user_levels", "patch_account.json", super_admin, path={"account_id": customer["account_id"]},
                 body={"customer_codes": []})
    # Then: the account changed, the archived job's list did not
    assert reply.status == 200, reply.body
    assert _customer_entries(super_admin, job_id) == [customer["account_id"]]


def test_adding_a_customer_code_does_not_connect_an_archived_job(super_admin):
    # Given
    code = f"Z{uuid.uuid4().hex[:6]}"
    customer, _ = _account(super_admin, "customer")
    job_id = _job(super_admin, customer_code=code)
    _archive(super_admin, job_id)
    # When
    reply = call("user_levels", "patch_account.json", super_admin, path={"account_id": customer["account_id"]},
                 body={"customer_codes": [code]})
    # Then
    assert reply.status == 200, reply.body
    assert _customer_entries(super_admin, job_id) == []


@pytest.mark.parametrize("user_id", ["0" * 32, "x" * 200])
def test_a_role_for_a_user_that_does_not_exist_is_404(super_admin, user_id):
    # Given
    job_id = _job(super_admin)
    # When
    reply = call(JOB, "put_job_member.json", super_admin, path={"job_id": job_id, "user_id": user_id},
                 body={"role": "member"})
    # Then
    assert reply.status == 404, reply.body


def test_a_manager_changing_levels_is_refused_before_its_input_is_judged(super_admin):
    # Given: a customer manager (no user.edit) asking to become an administrator
    job_id = _job(super_admin)
    customer, administrator = _account(super_admin, "customer")
    _ok(_grant(super_admin, job_id, customer["account_id"]), 201)
    manager = _user(administrator, "manager", job_ids=[job_id], can_create_guests=True)
    # When
    reply = call("user_levels", "patch_user.json", manager, path={"user_id": manager.user_id},
                 body={"level": "administrator"})
    # Then: 403, not a 422 about job_ids that would teach it the rules
    assert reply.status == 403, reply.body


def test_a_job_list_cursor_of_another_shape_is_422(super_admin):
    # Given: a customer's basic user (its list pages by job number) with a hand-made cursor
    job_id = _job(super_admin)
    customer, administrator = _account(super_admin, "customer")
    _ok(_grant(super_admin, job_id, customer["account_id"]), 201)
    basic = _user(administrator, "basic", job_ids=[job_id])
    cursor = base64.urlsafe_b64encode(json.dumps({"GSI1PK": f"T#{super_admin.tenant_id}#USERS"}).encode()).decode()
    # When
    reply = call(JOB, "get_jobs.json", basic, query={"cursor": cursor})
    # Then
    assert reply.status == 422, reply.body
    assert _fields(reply) == ["cursor"]


def test_deleting_a_large_job_removes_the_job_itself_last(super_admin, monkeypatch):
    # Given: a job with 150 entries on its access list (more than one transaction holds)
    job_id = _job(super_admin)
    job = core.get_item(Job, keys.job(super_admin.tenant_id, job_id))
    grants = [JobGrant(tenant_id=job.tenant_id, job_id=job_id, job_number=job.job_number, account_id=f"acct{i:03d}",
                       account_kind="vendor", granted_by="test", granted_at="2026-11-26T00:00:00+00:00")
              for i in range(150)]
    with audit.as_system(job.tenant_id):
        for start in range(0, 150, 50):
            core.write(creates=[op for g in grants[start:start + 50]
                                for op in (core.Create(g, "exists"), audit.change("access.grant", None, g))])
    written: list[list] = []
    real_write = core.write
    monkeypatch.setattr(core, "write", lambda **kw: (written.append(kw.get("removes", [])), real_write(**kw))[1])
    # When
    reply = call(JOB, "delete_job.json", super_admin, path={"job_id": job_id})
    # Then: the job item goes in the last transaction, so a failure before it leaves the job to delete again
    assert reply.status == 204, reply.body
    assert len(written) > 1
    assert keys.job(job.tenant_id, job_id) in [r.key for r in written[-1]]
    assert all(keys.job(job.tenant_id, job_id) not in [r.key for r in w] for w in written[:-1])


@pytest.mark.parametrize("body", ['{"name": 1' + "0" * 5000 + "}", "[" * 5000 + "]" * 5000])
def test_a_body_too_long_or_deep_to_read_is_422_and_creates_nothing(super_admin, body):
    # Given: an integer past Python's 4,300-digit limit, or nesting past its recursion limit
    before = _ok(call("user_levels", "get_vehicles.json", super_admin))["items"]
    # When
    replies = [call("user_levels", "post_vehicles.json", super_admin, body=body, headers=NO_KEY),
               call(JOB, "post_jobs.json", super_admin, body=body, headers=NO_KEY)]
    # Then
    assert [(r.status, _fields(r)) for r in replies] == [(422, ["body"])] * 2
    assert _ok(call("user_levels", "get_vehicles.json", super_admin))["items"] == before


@pytest.mark.parametrize("quantity", ["1E2", "1e-1", "7.5e0", "-0", "-0.0", '"\u0661\u0662.\u0665"', '"1e2"'])
def test_a_quantity_is_plain_ascii_decimal_text_as_written(super_admin, quantity):
    # Given: exponents and -0 parse to plain numbers, so only the text as written shows them
    job_id = _job(super_admin)
    body = ('{"ticket_number": "T1", "material": "Concrete", "quantity": ' + quantity
            + ', "unit": "m3", "truck": "TR1", "status": "loaded"}')
    # When
    reply = call(JOB, "post_job_tickets.json", super_admin, path={"job_id": job_id}, body=body, headers=NO_KEY)
    # Then
    assert (reply.status, _fields(reply)) == (422, ["quantity"]), reply.body


def test_money_takes_ascii_digits_only(super_admin):
    # Given
    job_id = _job(super_admin)
    # When
    arabic_indic = "\u0661.\u0660\u0660"  # 1.00 in Arabic-Indic digits
    reply = call(JOB, "patch_job.json", super_admin, path={"job_id": job_id}, body={"cost_price": arabic_indic})
    plain = call(JOB, "patch_job.json", super_admin, path={"job_id": job_id}, body={"cost_price": "1.5"})
    # Then
    assert (reply.status, _fields(reply)) == (422, ["cost_price"])
    assert _ok(plain)["cost_price"] == "1.50"


def test_a_user_s_jobs_are_a_set_a_job_given_twice_is_422(super_admin):
    # Given
    job_id = _job(super_admin)
    tag = uuid.uuid4().hex[:8]
    # When
    made = call("user_levels", "post_users.json", super_admin, headers=NO_KEY,
                body={"email": f"{tag}@co.example", "name": "Twice", "level": "basic_user", "job_ids": [job_id, job_id]})
    # Then
    assert (made.status, _fields(made)) == (422, ["job_ids"])


def test_a_trade_removed_and_granted_again_starts_without_its_roles(super_admin):
    # Given: a trade whose administrator leads the job
    job_id = _job(super_admin)
    trade, trade_admin = _account(super_admin, "trade_contractor")
    _ok(_grant(super_admin, job_id, trade["account_id"]), 201)
    _ok(call(JOB, "put_job_member.json", super_admin, path={"job_id": job_id, "user_id": trade_admin.user_id},
             body={"role": "lead"}))
    # When: removed, then put back
    removed = call(JOB, "delete_job_access.json", super_admin, path={"job_id": job_id, "account_id": trade["account_id"]})
    _ok(_grant(super_admin, job_id, trade["account_id"]), 201)
    # Then: its former lead is back in the directory only
    assert removed.status == 204, removed.body
    members = _ok(call(JOB, "get_job_members.json", super_admin, path={"job_id": job_id}))["items"]
    assert [m["role"] for m in members if m["user_id"] == trade_admin.user_id] == ["not_on_jobsite"]
    assert call(JOB, "get_job.json", trade_admin, path={"job_id": job_id}).status == 403
