"""Read template.yaml and create its resources on local AWS services (moto).

Both the local stack and the tests provision from here, so the table schema,
user pool, queues and routes are written once, in the template.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags as their long forms."""


def _tag(name: str):
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {"Ref" if name == "Ref" else name: value}

    return construct


for _short in ("Ref", "Sub", "GetAtt", "Join", "Select", "Split", "If", "Equals", "Not", "FindInMap",
               "ImportValue", "GetAZs", "Base64", "Condition"):
    _CfnLoader.add_constructor(f"!{_short}", _tag(_short if _short == "Ref" else f"Fn::{_short}"))


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str  # logical id
    authorized: bool
    pattern: re.Pattern[str] = field(compare=False)

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method and self.method != "ANY":
            return None
        found = self.pattern.fullmatch(path)
        return None if found is None else found.groupdict()


def _path_pattern(path: str) -> re.Pattern[str]:
    regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", path)
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
    return re.compile(regex)


def http_routes(template: dict[str, Any]) -> list[Route]:
    """Every HttpApi event of every function, as API Gateway would route them."""
    routes = []
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        for event in (function["Properties"].get("Events") or {}).values():
            if event["Type"] != "HttpApi":
                continue
            props = event["Properties"]
            authorizer = (props.get("Auth") or {}).get("Authorizer")
            routes.append(Route(props["Method"].upper(), props["Path"], name, authorizer != "NONE",
                                _path_pattern(props["Path"])))
    # Literal segments win over parameters, as in API Gateway.
    routes.sort(key=lambda r: (r.path.count("{"), -len(r.path)))
    return routes


@dataclass
class LocalResources:
    table_name: str
    user_pool_id: str
    user_pool_client_id: str
    topic_arn: str
    queue_url: str
    dead_letter_queue_url: str
    sender_email: str
    functions: dict[str, dict[str, str]]  # logical id -> {"code_uri", "handler"}
    billing_queue_url: str = ""  # BillingQueue: one message per tenant, fed to the billing function
    billing_dead_letter_queue_url: str = ""
    outbox_failure_queue_url: str = ""  # the outbox stream mapping's on-failure destination
    audit_key_id: str = ""  # AuditSigningKey
    audit_bucket: str = ""  # AuditBucket (Object Lock)

    def environment(self) -> dict[str, str]:
        """The functions' environment, as the template's Globals would set it."""
        return {
            "TABLE_NAME": self.table_name,
            "USER_POOL_ID": self.user_pool_id,
            "USER_POOL_CLIENT_ID": self.user_pool_client_id,
            "EVENTS_TOPIC_ARN": self.topic_arn,
            "SENDER_EMAIL": self.sender_email,
            "BILLING_QUEUE_URL": self.billing_queue_url,  # the billing function's own variable in the template
            "NOTIFICATIONS_QUEUE_URL": self.queue_url,  # the notifications function's own variable in the template
            "AUDIT_KEY_ID": self.audit_key_id,  # billing's and user_levels' own variables in the template
            "AUDIT_BUCKET": self.audit_bucket,
            "POWERTOOLS_SERVICE_NAME": "sitegate",
            "POWERTOOLS_METRICS_NAMESPACE": "SiteGate",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }


def _only(template: dict[str, Any], kind: str) -> dict[str, Any]:
    found = resources_of(template, kind)
    return next(iter(found.values()))["Properties"]


def _table_kwargs(props: dict[str, Any], name: str) -> dict[str, Any]:
    kwargs = {key: props[key] for key in ("AttributeDefinitions", "KeySchema", "BillingMode") if key in props}
    if "GlobalSecondaryIndexes" in props:
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if "StreamSpecification" in props:  # CloudFormation's form has no StreamEnabled; the API's needs it
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return {"TableName": name, **kwargs}


def _schema(attribute: dict[str, Any]) -> dict[str, Any]:
    return {key: attribute[key] for key in ("Name", "AttributeDataType", "Mutable", "Required") if key in attribute}


def provision(session: boto3.session.Session, prefix: str = "sitegate-local") -> LocalResources:
    """Create every stateful resource of the template on the endpoint `session` talks to."""
    template = load_template()
    sender = template["Parameters"]["SenderEmail"]["Default"]

    dynamodb = session.client("dynamodb")
    table_props = _only(template, "AWS::DynamoDB::Table")
    table_name = f"{prefix}-table"
    dynamodb.create_table(**_table_kwargs(table_props, table_name))
    ttl = table_props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)

    cognito = session.client("cognito-idp")
    pool_props = _only(template, "AWS::Cognito::UserPool")
    pool = cognito.create_user_pool(
        PoolName=f"{prefix}-users",
        Schema=[_schema(a) for a in pool_props.get("Schema", [])],
        AutoVerifiedAttributes=pool_props.get("AutoVerifiedAttributes", []),
        AdminCreateUserConfig=pool_props.get("AdminCreateUserConfig", {}),
        Policies=pool_props.get("Policies", {}),
    )["UserPool"]
    client_props = _only(template, "AWS::Cognito::UserPoolClient")
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName=f"{prefix}-app",
        GenerateSecret=client_props.get("GenerateSecret", False),
        # Local sign-in (`POST /local/token`) uses USER_PASSWORD_AUTH; deployed clients use SRP.
        ExplicitAuthFlows=[*client_props.get("ExplicitAuthFlows", []), "ALLOW_USER_PASSWORD_AUTH"],
        ReadAttributes=client_props.get("ReadAttributes", []),
        WriteAttributes=client_props.get("WriteAttributes", []),
    )["UserPoolClient"]

    sqs = session.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{prefix}-notifications-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_props = template["Resources"]["NotificationsQueue"]["Properties"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue_props["RedrivePolicy"]["maxReceiveCount"])}
    queue_url = sqs.create_queue(
        QueueName=f"{prefix}-notifications",
        Attributes={"VisibilityTimeout": str(queue_props["VisibilityTimeout"]), "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    billing_queue_url, billing_dlq_url = _queue_with_dead_letter_queue(
        sqs, template, "BillingQueue", f"{prefix}-billing")

    sns = session.client("sns")
    topic_arn = sns.create_topic(Name=f"{prefix}-events")["TopicArn"]
    raw = template["Resources"]["NotificationsSubscription"]["Properties"].get("RawMessageDelivery", False)
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": str(raw).lower()})

    session.client("ses").verify_email_identity(EmailAddress=sender)

    functions = {
        name: {"code_uri": res["Properties"]["CodeUri"], "handler": res["Properties"]["Handler"]}
        for name, res in resources_of(template, "AWS::Serverless::Function").items()
    }
    outbox_failures = sqs.create_queue(QueueName=f"{prefix}-outbox-failures")["QueueUrl"]
    audit_key_id, audit_bucket = _audit_vault(session, template, prefix)
    return LocalResources(table_name, pool["Id"], client["ClientId"], topic_arn, queue_url, dlq_url, sender,
                          functions, billing_queue_url, billing_dlq_url, outbox_failures, audit_key_id, audit_bucket)


def _audit_vault(session: boto3.session.Session, template: dict[str, Any], prefix: str) -> tuple[str, str]:
    """The signing key and the Object Lock bucket of the audit seals, as the template makes them."""
    key_props = template["Resources"]["AuditSigningKey"]["Properties"]
    key_id = session.client("kms").create_key(KeySpec=key_props["KeySpec"], KeyUsage=key_props["KeyUsage"],
                                              Description=key_props["Description"])["KeyMetadata"]["KeyId"]
    bucket_props = template["Resources"]["AuditBucket"]["Properties"]
    retention = template["Parameters"]["AuditSealRetentionDays"]["Default"]
    bucket = f"{prefix}-audit-seals"
    s3 = session.client("s3")
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=bucket_props["ObjectLockEnabled"])
    rule = bucket_props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": rule["Mode"], "Days": int(retention)}}})
    return key_id, bucket


def _queue_with_dead_letter_queue(sqs: Any, template: dict[str, Any], logical_id: str, name: str) -> tuple[str, str]:
    """A queue of the template and the dead-letter queue its RedrivePolicy names: (queue URL, DLQ URL)."""
    props = template["Resources"][logical_id]["Properties"]
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(props["RedrivePolicy"]["maxReceiveCount"])}
    queue_url = sqs.create_queue(QueueName=name, Attributes={
        "VisibilityTimeout": str(props["VisibilityTimeout"]), "RedrivePolicy": json.dumps(redrive)})["QueueUrl"]
    return queue_url, dlq_url


@dataclass(frozen=True)
class StreamMappingConfig:
    """The table stream's event-source mapping, as template.yaml declares it."""

    function: str  # logical id of the function it invokes
    batch_size: int
    batching_window_seconds: float
    bisect: bool
    maximum_retry_attempts: int
    starting_position: str
    filters: list[dict[str, Any]]  # the FilterCriteria patterns, parsed


def stream_mapping(template: dict[str, Any] | None = None) -> StreamMappingConfig:
    """The one AWS::Lambda::EventSourceMapping on the table's stream."""
    template = template or load_template()
    [props] = [res["Properties"] for res in resources_of(template, "AWS::Lambda::EventSourceMapping").values()
               if res["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["Table", "StreamArn"]}]
    return StreamMappingConfig(
        function=props["FunctionName"]["Ref"].split(".")[0], batch_size=int(props.get("BatchSize", 100)),
        batching_window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
        bisect=bool(props.get("BisectBatchOnFunctionError", False)),
        maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
        starting_position=props["StartingPosition"],
        filters=[json.loads(f["Pattern"]) for f in (props.get("FilterCriteria") or {}).get("Filters", [])])
