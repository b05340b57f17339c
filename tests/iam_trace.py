"""The IAM trace: which AWS actions each function really performs, recorded while the tests run.

A pytest plugin, on for every run (`tests/conftest.py` names it in `pytest_plugins`). Every
botocore client made in the process gets a `before-parameter-build` handler that records, for
the function whose handler is running, each call as the IAM action(s) it needs and the kind of
resource they apply to:

- DynamoDB: `dynamodb:Query` on `table` or `index/GSI1`; a TransactWriteItems as one action
  per item kind (Put -> PutItem, ConditionCheck -> ConditionCheckItem, ...), as IAM authorizes it;
- SNS: `sns:Publish` on `topic` (TopicArn) or `phone` (PhoneNumber: no ARN to name);
- SES: `ses:SendEmail` on `identity`; Cognito: `cognito-idp:Admin...` on `user-pool`;
- KMS: `kms:Sign` / `kms:Verify` on `key:AuditSigningKey`; S3: `s3:PutObject`, `s3:GetObject` (or
  `s3:GetObjectVersion`, a version asked by id) on `objects:AuditBucket`.

Which function is running: handlers come from `local.gateway.load_handler`, which this plugin
wraps so that calling a handler names its function (the template's logical id) in a context
variable; calls made from worker threads a handler started (notifications sends with a thread
pool) fall back to the one handler running at that moment. Calls made outside any handler
(test setup, provisioning) are not recorded.

`tests/integration/test_least_privilege.py` compares the trace with template.yaml; the plugin
runs it last in the session. `IAM_TRACE_OUT=path.json` also writes the trace to a file, and the
terminal summary prints it when `IAM_TRACE_PRINT` is set (`make iam-trace`).
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import threading
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

Key = tuple[str, str]  # (IAM action, resource kind)

TRACE: dict[str, Counter[Key]] = defaultdict(Counter)
RAN: set[str] = set()  # node ids of the tests that ran (call phase)
SELECTED: list[str] = []  # node ids selected for the session, in order

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("iam_trace_function", default=None)
_active: list[str] = []  # handlers running now, for calls from threads they started
_lock = threading.Lock()
LAST = "test_least_privilege.py"

_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
_PREFIX = {"sesv2": "ses", "email": "ses"}


def _function_of(code_uri: str, handler: str) -> str:
    """The template's function with this code and handler (two functions may share a folder)."""
    from local.template import load_template, resources_of

    for name, res in resources_of(load_template(), "AWS::Serverless::Function").items():
        props = res["Properties"]
        if props["CodeUri"].strip("/") == code_uri.strip("/") and props["Handler"] == handler:
            return name
    return code_uri


# The local stack names its queues `{prefix}{suffix}` (local/template.py): the template's queue by suffix.
_QUEUES = {"-notifications-dlq": "NotificationsDeadLetterQueue", "-notifications": "NotificationsQueue",
           "-billing-dlq": "BillingQueueDeadLetterQueue", "-billing": "BillingQueue",
           "-outbox-failures": "OutboxFailureQueue"}


def _queue(url: str) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1]
    return next((f"queue:{queue}" for suffix, queue in _QUEUES.items() if name.endswith(suffix)), "*")


def actions(service: str, operation: str, params: dict[str, Any]) -> list[Key]:
    """The IAM actions (and resource kinds) one API call needs."""
    prefix = _PREFIX.get(service, service)
    if prefix == "dynamodb":
        if operation == "TransactWriteItems":
            return [(f"dynamodb:{_TRANSACT[kind]}", "table") for item in params.get("TransactItems", []) for kind in item]
        if operation == "TransactGetItems":
            return [("dynamodb:GetItem", "table")]
        index = params.get("IndexName")
        return [(f"dynamodb:{operation}", f"index/{index}" if index else "table")]
    if prefix == "sns" and operation in ("Publish", "PublishBatch"):
        return [("sns:Publish", "phone" if params.get("PhoneNumber") else "topic")]
    if prefix == "ses":
        return [(f"ses:{operation}", "identity")]
    if prefix == "cognito-idp":
        return [(f"cognito-idp:{operation}", "user-pool")]
    if prefix == "sqs":  # SendMessageBatch is authorized as sqs:SendMessage (and so on)
        return [(f"sqs:{operation.removesuffix('Batch')}", _queue(str(params.get("QueueUrl", ""))))]
    if prefix == "kms":  # the one key the functions use: the audit trail's signing key
        return [(f"kms:{operation}", "key:AuditSigningKey")]
    if prefix == "s3" and operation == "GetObject" and params.get("VersionId"):
        return [("s3:GetObjectVersion", "objects:AuditBucket")]  # a version by id is its own action
    if prefix == "s3" and operation in ("GetObject", "PutObject"):
        return [(f"s3:{operation}", "objects:AuditBucket")]
    return [(f"{prefix}:{operation}", "*")]


def _record(params: dict[str, Any], model: Any, **_kwargs: Any) -> None:
    function = _current.get()
    if function is None:
        with _lock:
            if len(set(_active)) != 1:
                return
            function = _active[0]
    service = model.service_model.endpoint_prefix
    for key in actions(service, model.name, params):
        TRACE[function][key] += 1


def _traced(function: str, handler: Any) -> Any:
    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> Any:
        token = _current.set(function)
        with _lock:
            _active.append(function)
        try:
            return handler(event, context)
        finally:
            with _lock:
                _active.remove(function)
            _current.reset(token)

    return invoke


def _install() -> None:
    import botocore.client

    from local import gateway

    if getattr(gateway.load_handler, "_iam_traced", False):
        return
    original_load = gateway.load_handler

    def load_handler(code_uri: str, handler: str, logical_id: str) -> Any:
        return _traced(_function_of(code_uri, handler), original_load(code_uri, handler, logical_id))

    load_handler._iam_traced = True  # type: ignore[attr-defined]
    gateway.load_handler = load_handler

    original_create = botocore.client.ClientCreator.create_client

    @functools.wraps(original_create)
    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original_create(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", _record)
        return client

    botocore.client.ClientCreator.create_client = create_client  # type: ignore[method-assign]


_install()  # at import, before any conftest imports load_handler by name


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The comparison reads the whole trace: it runs after every other test."""
    last = [item for item in items if item.path.name == LAST]
    items[:] = [item for item in items if item.path.name != LAST] + last
    SELECTED[:] = [item.nodeid for item in items]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.skipped:  # a test skipped at setup ran as far as it goes
        RAN.add(report.nodeid)


def as_json() -> dict[str, dict[str, int]]:
    return {function: {f"{action} {resource}": n for (action, resource), n in sorted(calls.items())}
            for function, calls in sorted(TRACE.items())}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    out = os.environ.get("IAM_TRACE_OUT")
    if out:
        Path(out).write_text(json.dumps(as_json(), indent=1) + "\n")
    if os.environ.get("IAM_TRACE_PRINT"):
        terminalreporter.section("IAM trace: actions per function (calls)")
        for function, calls in as_json().items():
            terminalreporter.write_line(function)
            for key, n in calls.items():
                terminalreporter.write_line(f"    {key:55} {n}")
