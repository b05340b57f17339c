"""The outbox reaches SNS through the table's DynamoDB Stream: DynamoDB Local's stream read as the
event-source mapping reads it (local/streams.py, the template's filter, batching, bisection, retries
and on-failure queue) into the outbox publisher, in-process."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from local.streams import matches
from local.template import load_template, stream_mapping
from sitegate.data import aws, codec, core, events
from sitegate.data.aws import sns
from sitegate.models.events import DomainEvent, InvoiceIssued
from tests.events import load_event
from tests.integration.conftest import table_items
from tests.integration.notify import outbox_handler, outbox_stream

TEMPLATE = load_template()


def _event(tenant_id: str = "tenant-a") -> DomainEvent:
    return events.new_event("invoice.issued", tenant_id, InvoiceIssued(period="2026-09", total="609.00",
                                                                       currency="NZD"))


def _committed(*made: DomainEvent) -> None:
    core.write(creates=[events.outbox_entry(e) for e in made])


def _queued(resources) -> list[str]:
    """Event ids SNS delivered to the notifications queue (received and deleted)."""
    sqs, found = boto3.client("sqs"), []
    while True:
        messages = sqs.receive_message(QueueUrl=resources.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return found
        for m in messages:
            found.append(json.loads(m["Body"])["event_id"])
            sqs.delete_message(QueueUrl=resources.queue_url, ReceiptHandle=m["ReceiptHandle"])


def _outbox() -> list[dict]:
    return [item for item in table_items() if item.get("entity") == "OutboxEvent"]


def _failures(resources) -> list[dict]:
    messages = boto3.client("sqs").receive_message(QueueUrl=resources.outbox_failure_queue_url,
                                                   MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


@pytest.fixture
def sns_down(monkeypatch):
    """SNS refusing every publish to the topic while `down[0]` is true."""
    client, down = sns(), [True]
    real_publish = client.publish

    def publish_unless_down(**kwargs):
        if down[0]:
            raise ClientError({"Error": {"Code": "InternalError", "Message": "down"}}, "Publish")
        return real_publish(**kwargs)

    monkeypatch.setattr(client, "publish", publish_unless_down)
    return down


def test_an_event_whose_immediate_publish_failed_reaches_sns_through_the_stream_and_leaves_the_outbox(
        resources, sns_down):
    # Given: the change committed with its event, and SNS refusing the fast path
    stream = outbox_stream(resources)
    event = _event()
    _committed(event)
    assert events.publish([event]) == 0
    assert len(_outbox()) == 1 and _queued(resources) == []
    # When: SNS is back and the stream's record reaches the publisher
    sns_down[0] = False
    stream.drain()
    # Then: published once, with its own id, and the outbox is empty
    assert _queued(resources) == [event.event_id]
    assert _outbox() == []
    assert stream.invocations == 1 and _failures(resources) == []


def test_an_event_the_fast_path_published_is_not_published_again_by_the_stream(resources):
    # Given: the fast path took the event
    stream = outbox_stream(resources)
    event = _event()
    _committed(event)
    assert events.publish([event]) == 1
    # When: its INSERT reaches the publisher
    results = []
    stream.invoke = lambda e: results.append(outbox_handler()(e))
    stream.drain()
    # Then: skipped: SNS had it once
    assert results == [{"published": 0, "already_published": 1, "skipped": 0}]
    assert _queued(resources) == [event.event_id]


def test_only_new_outbox_items_reach_the_publisher(resources, super_admin):
    # Given: a tenant made (many items, no event) and two events, one published and removed by the fast path
    seen: list[dict] = []
    stream = outbox_stream(resources, invoke=lambda e: seen.extend(e["Records"]))
    first, second = _event(), _event()
    _committed(first, second)
    events.publish([first])
    # When
    stream.drain()
    # Then: the two INSERTs of outbox items, not the removal nor the tenant's items, each shaped as Lambda has it
    assert sorted(json.loads(r["dynamodb"]["NewImage"]["event"]["S"])["event_id"] for r in seen) == sorted(
        [first.event_id, second.event_id])
    assert {r["eventName"] for r in seen} == {"INSERT"}
    assert all(r["eventSource"] == "aws:dynamodb" and r["dynamodb"]["StreamViewType"] == "NEW_IMAGE" for r in seen)


def test_a_replayed_stream_record_publishes_again_safely(resources, sns_down):
    # Given: a record the publisher handled once (SNS down at first, so the stream published it)
    records: list[dict] = []
    stream = outbox_stream(resources, invoke=lambda e: (records.extend(e["Records"]), outbox_handler()(e)))
    event = _event()
    _committed(event)
    events.publish([event])
    sns_down[0] = False
    stream.drain()
    assert _queued(resources) == [event.event_id]
    # When: the same record comes again (a retry after a crash, a shard read twice)
    replayed = outbox_handler()({"Records": records})
    # Then: its item is gone, so nothing is published a second time
    assert replayed == {"published": 0, "already_published": 1, "skipped": 0}
    assert _queued(resources) == []


def test_a_record_published_but_not_removed_is_published_again_with_the_same_id(resources, monkeypatch):
    # Given: SNS took the event from the stream, then the removal failed (throttled), once
    from sitegate.data import aws

    stream = outbox_stream(resources)
    event = _event()
    _committed(event)
    refusals = [1]

    def throttle_once(**_):
        if refusals[0]:
            refusals[0] -= 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "DeleteItem")

    aws.dynamodb_client().meta.events.register("before-call.dynamodb.DeleteItem", throttle_once)
    try:
        # When: the invocation fails and the mapping retries the record
        stream.drain()
    finally:
        aws.dynamodb_client().meta.events.unregister("before-call.dynamodb.DeleteItem", throttle_once)
    # Then: SNS got it twice with one event id (the consumer sends once per id: test_notifications), and it left
    assert _queued(resources) == [event.event_id, event.event_id]
    assert _outbox() == [] and stream.invocations == 2 and _failures(resources) == []


def test_a_record_that_keeps_failing_is_retried_then_reported_to_the_on_failure_queue(resources, sns_down):
    # Given: two events in one batch, and one that SNS will never take
    stream = outbox_stream(resources)
    good, bad = _event(), _event("tenant-bad")
    _committed(good, bad)
    client = sns()
    down_publish = client.publish

    def refuse_bad_only(**kwargs):
        if json.loads(kwargs["Message"])["tenant_id"] == "tenant-bad":
            return down_publish(**kwargs)  # still down for this one
        sns_down[0] = False
        try:
            return down_publish(**kwargs)
        finally:
            sns_down[0] = True

    client.publish = refuse_bad_only
    # When
    stream.drain()
    # Then: the good one went through (the batch was bisected), the bad one was retried then reported
    assert _queued(resources) == [good.event_id]
    retries = stream_mapping().maximum_retry_attempts
    assert stream.invocations == 1 + 2 + retries  # the batch, its two halves, the bad half's retries
    [failure] = _failures(resources)
    info = failure["DDBStreamBatchInfo"]
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert info["batchSize"] == 1 and info["streamArn"] == stream.stream_arn
    assert failure["requestContext"]["approximateInvokeCount"] == retries + 1
    # ... and the event is not lost: it waits in the outbox, with no expiry
    [left] = _outbox()
    assert json.loads(left["event"])["event_id"] == bad.event_id and "ttl" not in left


def test_a_record_that_is_not_a_domain_event_goes_to_the_on_failure_queue(resources):
    # Given: an outbox item whose event no longer parses (written by hand)
    stream = outbox_stream(resources)
    item = {**codec.item_of(events.outbox_entry(_event()).model), "event": "{not json"}
    aws.table().put_item(Item=item)
    # When
    stream.drain()
    # Then
    assert len(_failures(resources)) == 1 and len(_outbox()) == 1


def test_the_sample_stream_event_is_an_outbox_insert_the_publisher_takes(resources):
    # Given: the sample event, its item in the outbox
    sample = load_event("notifications/dynamodb_outbox_stream.json")
    text = sample["Records"][0]["dynamodb"]["NewImage"]["event"]["S"]
    _committed(DomainEvent.model_validate_json(text))
    # When
    result = outbox_handler()(sample)
    # Then
    assert result == {"published": 1, "already_published": 0, "skipped": 0}
    assert _queued(resources) == ["e1"] and _outbox() == []
    assert all(matches(f, sample["Records"][0]) for f in stream_mapping().filters)


# ------------------------------------------------------------------ the template
def test_the_table_streams_new_images_to_the_publisher_with_bisection_retries_and_an_alarmed_failure_queue():
    resources = TEMPLATE["Resources"]
    assert resources["Table"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    mapping = resources["OutboxPublisherMapping"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "OutboxPublisherFunction.Alias"}
    assert mapping["BisectBatchOnFunctionError"] is True and mapping["MaximumRetryAttempts"] > 0
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["OutboxFailureQueue", "Arn"]}
    [pattern] = stream_mapping().filters
    assert pattern["eventName"] == ["INSERT"] and pattern["dynamodb"]["Keys"]["SK"]["S"] == [{"prefix": "EVENT#"}]
    alarm = resources["OutboxFailureAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["OutboxFailureQueue", "QueueName"]}
    assert alarm["AlarmActions"]
    # No schedule walks the tenants any more
    assert not [e for res in resources.values() for e in (res.get("Properties", {}).get("Events") or {}).values()
                if e["Type"] == "ScheduleV2" and "relay" in json.dumps(e).lower()]


def test_the_publisher_may_do_what_it_does_and_nothing_else():
    statements = TEMPLATE["Resources"]["OutboxPublisherFunction"]["Properties"]["Policies"][0]["Statement"]
    granted = {(action, json.dumps(s["Resource"])) for s in statements
               for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    stream = json.dumps({"Fn::GetAtt": ["Table", "StreamArn"]})
    assert granted == {
        ("dynamodb:DescribeStream", stream), ("dynamodb:GetRecords", stream), ("dynamodb:GetShardIterator", stream),
        ("dynamodb:ListStreams", stream),
        ("dynamodb:GetItem", json.dumps({"Fn::GetAtt": ["Table", "Arn"]})),
        ("dynamodb:DeleteItem", json.dumps({"Fn::GetAtt": ["Table", "Arn"]})),
        ("sns:Publish", json.dumps({"Ref": "EventsTopic"})),
        ("sqs:SendMessage", json.dumps({"Fn::GetAtt": ["OutboxFailureQueue", "Arn"]})),
    }
