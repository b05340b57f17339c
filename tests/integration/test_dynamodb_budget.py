"""Cost from day one: a request may spend at most two DynamoDB calls before its own
work, and no code path scans. Counted with botocore's before-call events."""

from collections import Counter
from collections.abc import Iterator

import pytest

from sitegate.data import aws
from tests.integration.conftest import call

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
    from tests.integration.conftest import Identity

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
