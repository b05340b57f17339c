"""Cost from day one: a request may spend at most two DynamoDB calls before its own
work, and no code path scans. Counted with botocore's before-call events."""

from collections import Counter
from collections.abc import Iterator

import pytest

from sitegate.data import aws
from tests.integration.conftest import Identity, call

READS_BEFORE_OWN_WORK = 2


@pytest.fixture
def dynamodb_calls(resources) -> Iterator[Counter[str]]:
    calls: Counter[str] = Counter()

    def count(model, **_kwargs) -> None:
        calls[model.name] += 1

    events = aws.dynamodb_client().meta.events
    events.register("before-call.dynamodb", count)
    yield calls
    events.unregister("before-call.dynamodb", count)


def test_get_me_stays_within_read_budget(super_admin, dynamodb_calls):
    # When
    reply = call("user_levels", "get_me.json", super_admin)
    # Then
    assert reply.status == 200
    assert sum(dynamodb_calls.values()) <= READS_BEFORE_OWN_WORK, dynamodb_calls
    assert "Scan" not in dynamodb_calls


def test_refused_caller_costs_one_call(super_admin, dynamodb_calls):
    # Given: a user id the tenant does not have
    stranger = Identity(super_admin.tenant_id, "not-a-user", super_admin.account_id)
    # When
    reply = call("user_levels", "get_me.json", stranger)
    # Then
    assert reply.status == 403
    assert dict(dynamodb_calls) == {"BatchGetItem": 1}


def test_tenant_creation_is_one_transaction(operator, dynamodb_calls):
    # When
    reply = call("user_levels", "post_tenants.json", operator, headers={"idempotency-key": "budget"})
    # Then
    assert reply.status == 201
    assert dynamodb_calls["TransactWriteItems"] == 1
    assert "Scan" not in dynamodb_calls


def _job(admin) -> str:
    reply = call("job_access", "post_jobs.json", admin)
    assert reply.status == 201, reply.body
    return reply.body["job_id"]


def test_authorized_job_request_stays_within_read_budget(super_admin, dynamodb_calls):
    # Given
    job_id = _job(super_admin)
    dynamodb_calls.clear()
    # When
    reply = call("job_access", "get_job.json", super_admin, path={"job_id": job_id})
    # Then: the caller (one call) and the job with the caller's entry and role (one call)
    assert reply.status == 200
    assert dict(dynamodb_calls) == {"BatchGetItem": READS_BEFORE_OWN_WORK}


def test_job_request_of_a_connected_account_user_stays_within_budget(super_admin, dynamodb_calls):
    # Given: a limited inspection firm's administrator on the job
    job_id = _job(super_admin)
    firm = call("user_levels", "post_accounts.json", super_admin,
                body={"kind": "inspection_firm", "name": "Inspectors", "admin": {"email": "i@f.example", "name": "I"}}).body
    call("job_access", "post_job_access.json", super_admin, path={"job_id": job_id},
         body={"account_id": firm["account_id"], "access_type": "limited"})
    users = call("user_levels", "get_users.json", super_admin, query={"account_id": firm["account_id"]}).body["items"]
    inspector = Identity(super_admin.tenant_id, users[0]["user_id"], firm["account_id"])
    dynamodb_calls.clear()
    # When
    reply = call("job_access", "get_job_tickets.json", inspector, path={"job_id": job_id})
    # Then: two reads to authorize, one query for its own work
    assert reply.status == 200
    assert dict(dynamodb_calls) == {"BatchGetItem": READS_BEFORE_OWN_WORK, "Query": 1}
