"""A local stand-in for Lambda's event-source mapping on the table's DynamoDB Stream.

DynamoDB Local serves the stream on its own endpoint (DescribeStream, GetShardIterator, GetRecords).
`StreamMapping` reads it as the deployed mapping (template.yaml, OutboxPublisherMapping) would and
invokes the mapping's function with Lambda-shaped events (`Records`, each with `dynamodb.NewImage`):
the template's FilterCriteria, StartingPosition, BatchSize and batching window; when an invocation
fails, the batch is bisected (BisectBatchOnFunctionError) down to the failing record, which is
retried MaximumRetryAttempts times and then reported to the on-failure queue with the metadata
Lambda's OnFailure destination sends (shard, sequence numbers; not the records).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

from local.template import StreamMappingConfig, stream_mapping

POLL_SECONDS = 0.25  # Lambda polls each shard of a DynamoDB stream 4 times a second
RESHARD_SECONDS = 10  # how often new shards are looked for
_MISSING = object()


def matches(pattern: Any, value: Any) -> bool:
    """Does `value` match an event-filtering pattern? The subset the template uses: nested objects,
    lists of alternatives, exact values, `{"prefix": ...}` and `{"exists": ...}`."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(matches(p, value.get(k, _MISSING)) for k, p in pattern.items())
    if not isinstance(pattern, list):
        raise ValueError(f"a pattern's leaves are lists of alternatives, not {pattern!r}")
    return any(_alternative(alt, value) for alt in pattern)


def _alternative(alt: Any, value: Any) -> bool:
    if isinstance(alt, dict):
        if "prefix" in alt:
            return isinstance(value, str) and value.startswith(alt["prefix"])
        if "exists" in alt:
            return (value is not _MISSING) == bool(alt["exists"])
        raise ValueError(f"filter operator not supported locally: {alt}")
    return value is not _MISSING and value == alt


def lambda_record(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda hands it to the function."""
    change = dict(raw["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {"eventID": raw["eventID"], "eventName": raw["eventName"], "eventVersion": raw.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb", "awsRegion": region, "dynamodb": change, "eventSourceARN": stream_arn}


class StreamMapping:
    def __init__(self, table_name: str, invoke: Any, failure_queue_url: str, config: StreamMappingConfig | None = None,
                 *, endpoint: str | None = None, region: str = "us-east-1", retry_seconds: float = 0.0) -> None:
        endpoint = endpoint or os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
        self.streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=region)
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
        self.stream_arn: str = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self.sqs = boto3.client("sqs", region_name=region)
        self.config = config or stream_mapping()
        self.invoke, self.failure_queue_url, self.region = invoke, failure_queue_url, region
        self.retry_seconds = retry_seconds
        self.iterators: dict[str, str] = {}  # open shard -> its next iterator
        self.closed: set[str] = set()
        self.pending: list[tuple[str, dict[str, Any]]] = []  # (shard, record) waiting for their batch
        self.pending_since = 0.0
        self.invocations = 0
        self.failures_reported = 0
        self._reshard_at = 0.0

    # ------------------------------------------------------------------ reading
    def _refresh_shards(self) -> None:
        start: dict[str, str] = {}
        while True:
            described = self.streams.describe_stream(StreamArn=self.stream_arn, **start)["StreamDescription"]
            for shard in described["Shards"]:
                shard_id = shard["ShardId"]
                if shard_id not in self.iterators and shard_id not in self.closed:
                    self.iterators[shard_id] = self.streams.get_shard_iterator(
                        StreamArn=self.stream_arn, ShardId=shard_id,
                        ShardIteratorType=self.config.starting_position)["ShardIterator"]
            if not described.get("LastEvaluatedShardId"):
                break
            start = {"ExclusiveStartShardId": described["LastEvaluatedShardId"]}
        self._reshard_at = time.monotonic() + RESHARD_SECONDS

    def _read(self) -> list[tuple[str, dict[str, Any]]]:
        if time.monotonic() >= self._reshard_at:
            self._refresh_shards()
        found = []
        for shard_id, iterator in list(self.iterators.items()):
            while True:
                got = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                found += [(shard_id, lambda_record(r, self.stream_arn, self.region)) for r in got["Records"]]
                following = got.get("NextShardIterator")
                if following is None:  # the shard is closed: its children come with the next refresh
                    del self.iterators[shard_id]
                    self.closed.add(shard_id)
                    self._reshard_at = 0.0
                    break
                self.iterators[shard_id] = iterator = following
                if not got["Records"]:
                    break
        return [(shard, r) for shard, r in found if any(matches(f, r) for f in self.config.filters or [{}])]

    def poll(self, *, flush: bool = False) -> int:
        """Read what the stream has now and invoke the function for every batch that is due (full,
        or older than the batching window; every one with `flush`). Returns how many records went."""
        fresh = self._read()
        if fresh and not self.pending:
            self.pending_since = time.monotonic()
        self.pending += fresh
        delivered = 0
        while self.pending and (flush or len(self.pending) >= self.config.batch_size
                                or time.monotonic() - self.pending_since >= self.config.batching_window_seconds):
            batch, self.pending = self.pending[:self.config.batch_size], self.pending[self.config.batch_size:]
            self.pending_since = time.monotonic()
            self._deliver(batch)
            delivered += len(batch)
        return delivered

    def drain(self) -> int:
        """Everything the stream holds now, without waiting for the batching window (tests)."""
        return self.poll(flush=True)

    # ---------------------------------------------------------------- invoking
    def _invoke(self, batch: list[tuple[str, dict[str, Any]]]) -> bool:
        self.invocations += 1
        try:
            self.invoke({"Records": [record for _, record in batch]})
            return True
        except Exception:
            logging.getLogger(__name__).warning("outbox publisher failed on %d record(s)", len(batch), exc_info=True)
            return False

    def _deliver(self, batch: list[tuple[str, dict[str, Any]]]) -> None:
        if self._invoke(batch):
            return
        if self.config.bisect and len(batch) > 1:
            half = len(batch) // 2
            self._deliver(batch[:half])
            self._deliver(batch[half:])
            return
        retries = self.config.maximum_retry_attempts
        for _ in range(retries if retries >= 0 else 10_000):
            time.sleep(self.retry_seconds)
            if self._invoke(batch):
                return
        self._report_failure(batch, retries + 1)

    def _report_failure(self, batch: list[tuple[str, dict[str, Any]]], invokes: int) -> None:
        """What Lambda sends to an OnFailure destination for a stream batch it gave up on."""
        first, last = batch[0][1]["dynamodb"], batch[-1][1]["dynamodb"]

        def arrival(change: dict[str, Any]) -> str:
            return datetime.fromtimestamp(float(change.get("ApproximateCreationDateTime", 0)), UTC).isoformat()

        message = {
            "requestContext": {"requestId": str(uuid.uuid4()), "condition": "RetryAttemptsExhausted",
                               "functionArn": f"arn:aws:lambda:{self.region}:123456789012:function:"
                                              f"{self.config.function}:live", "approximateInvokeCount": invokes},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0", "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {"shardId": batch[0][0], "startSequenceNumber": first["SequenceNumber"],
                                   "endSequenceNumber": last["SequenceNumber"],
                                   "approximateArrivalOfFirstRecord": arrival(first),
                                   "approximateArrivalOfLastRecord": arrival(last), "batchSize": len(batch),
                                   "streamArn": self.stream_arn},
        }
        self.sqs.send_message(QueueUrl=self.failure_queue_url, MessageBody=json.dumps(message))
        self.failures_reported += 1


def follow_outbox_stream(gateway: Any, stop: threading.Event, retry_seconds: float = 0.2) -> None:
    """The local stack's thread: the table's stream into the mapping's function, POLL_SECONDS apart."""
    config = stream_mapping()
    mapping = StreamMapping(gateway.resources.table_name, lambda event: gateway.invoke(config.function, event),
                            gateway.resources.outbox_failure_queue_url, config, retry_seconds=retry_seconds)
    from local.stack import keep_polling  # the stack starts this thread

    keep_polling(stop, mapping.poll, "local outbox stream reader", pause=POLL_SECONDS)
