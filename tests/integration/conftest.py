"""Handlers in-process against local AWS services, every resource built from template.yaml:
the table on DynamoDB Local (AWS's own engine, one process for the session, a fresh table per
test), Cognito, SNS, SQS and SES on moto in-process."""

import itertools
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local import dynamodb
from local.gateway import LambdaContext, load_handler
from local.template import LocalResources, provision
from sitegate import clock
from sitegate.data import aws
from sitegate.settings import get_settings
from tests.events import load_event

HANDLERS: dict[str, Any] = {}


def handler(function: str) -> Any:
    if function not in HANDLERS:
        HANDLERS[function] = load_handler(f"functions/{function}/", "app.lambda_handler", function)
    return HANDLERS[function]


def _clear_process_caches() -> None:
    """Clients and settings are made once per process; each test gets fresh ones."""
    for cached in (get_settings, aws.table, aws.cognito, aws.sns, aws.ses, aws.sqs, aws.kms, aws.s3):
        cached.cache_clear()


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[str]:
    """One DynamoDB Local for the whole run; boto3 reaches it through AWS_ENDPOINT_URL_DYNAMODB."""
    engine = dynamodb.start()
    previous = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = engine.endpoint
    yield engine.endpoint
    if previous is None:
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
    else:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = previous
    engine.stop()


_TABLES = itertools.count()


@pytest.fixture
def resources(dynamodb_local: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalResources]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():  # moto answers only the services without an endpoint of their own: not DynamoDB
        made = provision(boto3.session.Session(region_name="us-east-1"), prefix=f"sitegate-test-{next(_TABLES)}")
        for name, value in made.environment().items():
            monkeypatch.setenv(name, value)
        _clear_process_caches()
        yield made
        _clear_process_caches()
        clock.unfreeze()
        boto3.client("dynamodb", region_name="us-east-1").delete_table(TableName=made.table_name)


@pytest.fixture
def dynamodb_calls(resources: LocalResources) -> Iterator[Counter[str]]:
    """DynamoDB calls made during a test, by operation (botocore's before-call events)."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_kwargs: Any) -> None:
        calls[model.name] += 1

    events = aws.dynamodb_client().meta.events
    events.register("before-call.dynamodb", count)
    yield calls
    events.unregister("before-call.dynamodb", count)


@dataclass(frozen=True)
class Identity:
    """Whose verified token a request carries."""

    tenant_id: str
    user_id: str
    account_id: str


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str]


def call(function: str, event_name: str, who: Identity | None, *, body: Any = None,
         headers: dict[str, str] | None = None, path: dict[str, str] | None = None,
         query: dict[str, str] | None = None) -> Reply:
    """Invoke a function's handler with a sample event, as the authorizer would pass it;
    `path` fills the route's parameters, `query` replaces the query string."""
    event = load_event(f"{function}/{event_name}")
    if path is not None:
        raw = event["routeKey"].split(" ", 1)[1]
        for name, value in path.items():
            raw = raw.replace(f"{{{name}}}", value)
        event["rawPath"] = event["requestContext"]["http"]["path"] = raw
        event["pathParameters"] = path
    if query is not None:
        event["queryStringParameters"] = query or None
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    if who is not None:
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
        claims.update({"custom:tenant_id": who.tenant_id, "cognito:username": who.user_id,
                       "custom:account_id": who.account_id, "aud": os.environ["USER_POOL_CLIENT_ID"]})
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if headers is not None:
        event["headers"].update(headers)
    result = handler(function)(event, LambdaContext(function))
    text = result.get("body") or ""
    headers = result.get("headers") or {}
    is_json = headers.get("Content-Type", "application/json").startswith("application/json")
    return Reply(int(result["statusCode"]), (json.loads(text) if is_json else text) if text else None, headers)


def operator_identity() -> Identity:
    from sitegate import keys, tenants

    user_id = tenants.create_operator("operator@sitegate.local", "Platform operator")
    return Identity(keys.PLATFORM_TENANT, user_id, "operators")


@pytest.fixture
def operator(resources: LocalResources) -> Identity:
    return operator_identity()


@pytest.fixture
def super_admin(operator: Identity) -> Identity:
    reply = call("user_levels", "post_tenants.json", operator)
    assert reply.status == 201, reply.body
    return Identity(reply.body["tenant_id"], reply.body["admin_user_id"], reply.body["owner_account_id"])


def table_items() -> list[dict[str, Any]]:
    """Every item in the table (tests only: product code never scans)."""
    return boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]).scan()["Items"]


def pool_usernames() -> set[str]:
    users = boto3.client("cognito-idp").list_users(UserPoolId=os.environ["USER_POOL_ID"])["Users"]
    return {u["Username"] for u in users}
