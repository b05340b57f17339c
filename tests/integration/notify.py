"""Helpers for the notifications tests: a job with people in roles, the queue drained into the
notifications function as the event-source mapping does, and what SES and SNS sent (moto)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import boto3
from botocore.exceptions import ClientError

from local.stack import drain_once
from local.template import LocalResources
from tests.integration.conftest import Identity, call, handler

JOB = "job_access"
NO_KEY = {"idempotency-key": ""}
ACCOUNT_ID, REGION = "123456789012", "us-east-1"


def ok(reply, *statuses):
    assert reply.status in (statuses or (200, 201, 202, 204)), (reply.status, reply.body)
    return reply.body


@dataclass(frozen=True)
class Person:
    who: Identity
    email: str
    phone: str | None


def person(admin: Identity, level: str, account_id: str | None = None, *, email: bool = True, sms: bool = False,
           phone: str | None = "+64210000001", name: str | None = None) -> Person:
    tag = uuid.uuid4().hex[:8]
    address = f"{level}-{tag}@co.example"
    body = {"email": address, "name": name or f"{level} {tag}", "level": level}
    if phone:
        body["phone"] = phone
    if account_id:
        body["account_id"] = account_id
    user = ok(call("user_levels", "post_users.json", admin, body=body, headers=NO_KEY))
    who = Identity(admin.tenant_id, user["user_id"], user["account_id"])
    ok(call("user_levels", "put_notification_preferences.json", who, body={"email": email, "sms": sms}))
    return Person(who, address, phone)


def account(admin: Identity, kind: str) -> tuple[str, Person]:
    """An account and its master administrator (email on, SMS off)."""
    tag = uuid.uuid4().hex[:8]
    address = f"admin-{tag}@{kind}.example"
    created = ok(call("user_levels", "post_accounts.json", admin, headers=NO_KEY,
                      body={"kind": kind, "name": f"{kind} {tag}", "admin": {"email": address, "name": "Ad"}}))
    users = ok(call("user_levels", "get_users.json", admin, query={"account_id": created["account_id"]}))["items"]
    return created["account_id"], Person(Identity(admin.tenant_id, users[0]["user_id"], created["account_id"]),
                                         address, None)


def job(admin: Identity, name: str = "North wharf") -> str:
    return ok(call(JOB, "post_jobs.json", admin, headers=NO_KEY,
                   body={"job_number": uuid.uuid4().hex[:8], "name": name}))["job_id"]


def grant(admin: Identity, job_id: str, account_id: str) -> None:
    ok(call(JOB, "post_job_access.json", admin, path={"job_id": job_id}, body={"account_id": account_id},
            headers=NO_KEY))


def role(admin: Identity, job_id: str, who: Person, value: str) -> None:
    ok(call(JOB, "put_job_member.json", admin, path={"job_id": job_id, "user_id": who.who.user_id},
            body={"role": value}))


# ------------------------------------------------------------------ the queue
def queues(resources: LocalResources) -> tuple[object, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    arn = sqs.get_queue_attributes(QueueUrl=resources.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, arn


def drain(resources: LocalResources, rounds: int = 1) -> list[tuple[int, int]]:
    """Deliver what the queue holds; failed records come back at once. Returns (ok, failed) per round."""
    sqs, arn = queues(resources)
    results = []
    for _ in range(rounds):
        result = drain_once(sqs, resources.queue_url, arn, lambda e: handler("notifications")(e, _context()),
                            retry_after=0, wait_seconds=0)
        results.append(result)
    return results


def drain_all(resources: LocalResources, limit: int = 20) -> None:
    for _ in range(limit):
        if drain(resources) == [(0, 0)]:
            return


def _context():
    from local.gateway import LambdaContext

    return LambdaContext("notifications")


def dead_letters(resources: LocalResources) -> list[str]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=resources.dead_letter_queue_url, MaxNumberOfMessages=10,
                                   WaitTimeSeconds=0).get("Messages", [])
    return [m["Body"] for m in messages]


def publish(event) -> None:
    from sitegate.data import events

    assert events.publish([event]) == 1


# ------------------------------------------------------------------ what was sent
def emails() -> list[tuple[str, str, str]]:
    """(to, subject, body) of every email SES took."""
    from moto.ses.models import ses_backends

    return [(to, m.subject, m.body) for m in ses_backends[ACCOUNT_ID][REGION].sent_messages
            for to in m.destinations.get("ToAddresses", [])]


def sms() -> list[tuple[str, str]]:
    from moto.sns.models import sns_backends

    return list(sns_backends[ACCOUNT_ID][REGION].sms_messages.values())


def emailed() -> list[str]:
    return sorted(to for to, _, _ in emails())


class FailSends:
    """Make SES refuse the emails to some addresses (botocore before-call hook on the process's client)."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = set(addresses)

    def _refuse(self, params, **_):
        if set(params.get("Destination", {}).get("ToAddresses", [])) & self.addresses:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "SendEmail")

    def __enter__(self):
        from sitegate.data import aws

        aws.ses().meta.events.register("before-parameter-build.ses.SendEmail", self._refuse)
        return self

    def __exit__(self, *exc):
        from sitegate.data import aws

        aws.ses().meta.events.unregister("before-parameter-build.ses.SendEmail", self._refuse)


def send_raw(resources: LocalResources, body: str) -> None:
    boto3.client("sqs", region_name=REGION).send_message(QueueUrl=resources.queue_url, MessageBody=body)


def event_json(kind: str, tenant_id: str, data: dict) -> str:
    return json.dumps({"event_id": uuid.uuid4().hex, "type": kind, "tenant_id": tenant_id,
                       "occurred_at": "2026-11-23T09:00:00+00:00", "data": data})




# ------------------------------------------------------------------ the outbox stream
def outbox_handler():
    """The outbox publisher (OutboxPublisherFunction: functions/notifications/outbox.py), in-process."""
    from local.gateway import LambdaContext, load_handler
    from tests.integration.conftest import HANDLERS

    if "outbox" not in HANDLERS:
        HANDLERS["outbox"] = load_handler("functions/notifications/", "outbox.lambda_handler", "outbox")
    return lambda event: HANDLERS["outbox"](event, LambdaContext("outbox"))


def outbox_stream(resources: LocalResources, invoke=None):
    """The table's stream (DynamoDB Local) into the outbox publisher, as the event-source mapping does."""
    from local.streams import StreamMapping

    return StreamMapping(resources.table_name, invoke or outbox_handler(), resources.outbox_failure_queue_url)
