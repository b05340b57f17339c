"""Each function is granted what it does and nothing more: the IAM trace (tests/iam_trace.py)
recorded every AWS call the functions made over the integration tests; template.yaml's policies
must allow each of them (or the deployed function would be refused), and may allow no DynamoDB,
SNS, SQS, SES or Cognito action a function never performed (or a bug, or an attacker with the
function's role, could do more than the function does).

The comparison needs the whole integration suite in the same run: the plugin runs this module
last, and it skips when only some integration tests ran (`make iam-trace` runs them all and
prints the trace)."""

from __future__ import annotations

from typing import Any

import pytest

from local.sam_transform import transformed
from local.template import load_template, resources_of
from tests import iam_trace

TEMPLATE = load_template()
FUNCTIONS = sorted(resources_of(TEMPLATE, "AWS::Serverless::Function"))
COMPARED = ("dynamodb:", "sns:", "sqs:", "ses:", "cognito-idp:")
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "ConditionCheckItem", "PartiQLInsert",
          "PartiQLUpdate", "PartiQLDelete"}
# What Lambda's poller does with the function's role for an event-source mapping of a queue, and of
# the table's stream (whose on-failure destination it also sends to with that role).
QUEUE_SOURCE = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
STREAM_SOURCE = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}
STREAM = {"Fn::GetAtt": ["Table", "StreamArn"]}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _kind(resource: Any) -> str:
    """The resource kind a policy's Resource names, as the trace records them."""
    if resource == {"Fn::GetAtt": ["Table", "Arn"]}:
        return "table"
    if isinstance(resource, dict) and "Fn::Sub" in resource and str(resource["Fn::Sub"]).startswith("${Table.Arn}/index/"):
        return "index/" + resource["Fn::Sub"].rsplit("/", 1)[1]
    if resource == {"Ref": "EventsTopic"}:
        return "topic"
    if resource == {"Fn::GetAtt": ["UserPool", "Arn"]}:
        return "user-pool"
    if isinstance(resource, dict) and ("Fn::If" in resource or "Fn::Sub" in resource) and ":identity/" in str(resource):
        return "identity"
    if resource == {"Fn::GetAtt": ["AuditSigningKey", "Arn"]}:
        return "key:AuditSigningKey"
    if resource == {"Fn::Sub": "${AuditBucket.Arn}/*"}:
        return "objects:AuditBucket"
    if isinstance(resource, dict) and "Fn::GetAtt" in resource and resource["Fn::GetAtt"][1] == "Arn":
        return f"queue:{resource['Fn::GetAtt'][0]}"
    return str(resource)


def granted(function: str) -> set[tuple[str, str]]:
    """(action, resource kind) pairs a function's inline policies allow."""
    pairs = set()
    for policy in TEMPLATE["Resources"][function]["Properties"].get("Policies", []):
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow", statement
            if "NotResource" in statement:
                # Allow sns:Publish on anything that is not an SNS ARN: phone numbers, never a topic.
                assert statement == {"Effect": "Allow", "Action": "sns:Publish", "NotResource": "arn:aws:sns:*:*:*"}
                pairs.add(("sns:Publish", "phone"))
                continue
            for action in _as_list(statement["Action"]):
                for resource in _as_list(statement["Resource"]):
                    pairs.add((action, _kind(resource)))
    return pairs


def _queue_sources(function: str) -> set[tuple[str, str]]:
    """The queue permissions an event-source mapping of this function needs (its poller, not the code)."""
    pairs = set()
    for mapping in resources_of(TEMPLATE, "AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        if props["FunctionName"] != {"Ref": f"{function}.Alias"}:
            continue
        if props["EventSourceArn"] == STREAM:
            pairs |= {(action, str(STREAM)) for action in STREAM_SOURCE}
            failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            if failure:
                pairs.add(("sqs:SendMessage", _kind(failure)))
            continue
        queue = props["EventSourceArn"]["Fn::GetAtt"][0]
        pairs |= {(action, f"queue:{queue}") for action in QUEUE_SOURCE}
    return pairs


def _allows(grants: set[tuple[str, str]], action: str, kind: str) -> bool:
    return (action, kind) in grants or (kind.startswith("index/") and (action, "index/*") in grants)


def _whole_suite_ran() -> bool:
    here = __name__.rsplit(".", 1)[-1] + ".py"
    others = [n for n in iam_trace.SELECTED if n.startswith("tests/integration/") and here not in n]
    return bool(others) and all(n in iam_trace.RAN for n in others) and _integration_modules() <= {
        n.split("::", 1)[0] for n in others}


def _integration_modules() -> set[str]:
    from pathlib import Path

    folder = Path(__file__).parent
    return {f"tests/integration/{p.name}" for p in folder.glob("test_*.py") if p.name != iam_trace.LAST}


# ------------------------------------------------------------ the template alone
@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_write_on_an_index_and_no_wildcards(function):
    for action, kind in granted(function):
        assert "*" not in action, action
        assert kind != "*", f"{function}: {action} on every resource"
        if kind.startswith("index/"):
            assert action.split(":", 1)[1] not in WRITES, f"{function}: {action} on {kind}"


def test_no_managed_policy_beyond_logs_and_traces():
    # Given: the roles SAM makes (a SAM SQS event would attach AWSLambdaSQSQueueExecutionRole: every queue)
    roles = resources_of(transformed(), "AWS::IAM::Role")
    # Then
    allowed = {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
               "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"}
    for name, role in roles.items():
        assert set(role["Properties"].get("ManagedPolicyArns", [])) <= allowed, name


def test_the_events_topic_stays_encrypted():
    # checkov's CKV_AWS_26 is skipped for the operations topic (see .checkov.yaml); the events topic keeps its key
    assert TEMPLATE["Resources"]["EventsTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_queue_or_stream_a_function_reads_is_granted_to_its_poller(function):
    assert _queue_sources(function) <= granted(function)


# ------------------------------------------------------------ the template against the trace
@pytest.fixture(scope="module")
def trace():
    if not _whole_suite_ran():
        pytest.skip("the IAM trace needs the whole integration suite in this run (make iam-trace)")
    return {function: set(calls) for function, calls in iam_trace.TRACE.items()}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_template_allows_every_call_the_function_makes(function, trace):
    grants = granted(function)
    refused = sorted((a, k) for a, k in trace.get(function, set()) if not _allows(grants, a, k))
    assert refused == [], f"{function} makes calls its policies do not allow"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_template_allows_nothing_the_function_never_does(function, trace):
    used = trace.get(function, set())
    unused = sorted((a, k) for a, k in granted(function) - _queue_sources(function)
                    if a.startswith(COMPARED)
                    and not any(u == (a, k) or (k == "index/*" and ua == a and uk.startswith("index/"))
                                for u in used for ua, uk in [u]))
    assert unused == [], f"{function} is granted actions the integration tests never saw it use"

