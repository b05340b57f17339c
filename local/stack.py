"""`make run`: the whole SiteGate API on local AWS services.

DynamoDB Local (AWS's own engine) holds the table; moto's server provides Cognito,
SNS, SQS and SES; every resource is created from template.yaml; the gateway serves
the API on PORT (default 3000), concurrently, with LAMBDA_INSTANCES warm instances
per function (default 4).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3

OPERATOR_EMAIL = "operator@sitegate.local"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Services:
    moto: Any
    dynamodb: Any  # local.dynamodb.DynamoDBLocal
    endpoint: str  # moto's: Cognito, SNS, SQS, SES

    def stop(self) -> None:
        self.moto.stop()
        self.dynamodb.stop()


def start_services() -> Services:
    """DynamoDB Local for the table, moto's server for the rest; boto3 finds both through
    AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL, so product code only sees endpoints."""
    from moto.server import ThreadedMotoServer

    from local import dynamodb

    engine = dynamodb.start()  # first: without Java it stops here, with one line
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update({
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": engine.endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    })
    os.environ.pop("AWS_PROFILE", None)
    return Services(server, engine, endpoint)


def build(endpoint: str, instances: int) -> Any:
    """Provision the template's resources, seed the operator, and load every function."""
    from local.gateway import Gateway
    from local.template import provision

    resources = provision(boto3.session.Session(region_name="us-east-1"))
    os.environ.update(resources.environment())

    from sitegate import tenants

    tenants.create_operator(OPERATOR_EMAIL, "Platform operator")
    return Gateway(resources, endpoint, instances)


# Locally a failed record comes back after this many seconds rather than the queue's visibility timeout
# (180 s), so retries and the redrive to the dead-letter queue show in seconds; moto's SQS applies the
# template's RedrivePolicy (maxReceiveCount) on receive, as SQS does.
LOCAL_RETRY_SECONDS = int(os.environ.get("LOCAL_RETRY_SECONDS", "2"))


def drain_once(sqs: Any, queue_url: str, queue_arn: str, invoke: Any, retry_after: int = LOCAL_RETRY_SECONDS,
               wait_seconds: int = 1, max_messages: int = 10, settled: Any = None) -> tuple[int, int]:
    """One receive of the notifications queue into its function, as Lambda's SQS event source
    mapping does it: a batch of up to 10, the records the function reports as failed (or the whole
    batch if it crashed) left on the queue to come back after `retry_after` seconds, the rest deleted.
    `max_messages` is the event source's BatchSize; `settled(messages, failed_ids)`, if given, hears each
    receive's outcome. Returns (succeeded, failed)."""
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_seconds,
                                   AttributeNames=["All"]).get("Messages", [])
    if not messages:
        return 0, 0
    records = [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": sqs.meta.region_name,
    } for m in messages]
    try:
        result = invoke({"Records": records}) or {}
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
    except Exception:
        logging.exception("function failed on an SQS batch; the batch will be redelivered")
        failed = {m["MessageId"] for m in messages}
    for m in messages:
        if m["MessageId"] in failed:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"],
                                          VisibilityTimeout=retry_after)
        else:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    if settled is not None:
        settled(messages, failed)
    return len(messages) - len(failed), len(failed)


def poll_domain_events(gateway: Any, stop: threading.Event) -> None:
    """Feed the notifications queue to its function (`drain_once`, over and over), as the deployed
    event-source mapping would."""
    from local.gateway import REGION

    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = gateway.resources.queue_url
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def step() -> None:
        drain_once(sqs, queue_url, queue_arn, lambda event: gateway.invoke("NotificationsFunction", event))
        gateway.stamp_outbox()

    keep_polling(stop, step, "local poller")


def keep_polling(stop: threading.Event, step: Callable[[], None], what: str, pause: float = 0) -> None:
    """Run `step` until `stop`, `pause` seconds apart; an error is logged and retried a second later
    (once `stop` is set, it is the services shutting down)."""
    while not stop.is_set():
        try:
            step()
        except Exception:
            if stop.is_set():
                return
            logging.exception("%s: retrying", what)
            time.sleep(1)
        if pause:
            stop.wait(pause)


# ---------------------------------------------------------------- the billing queue (billing fan-out)
def poll_billing(gateway: Any, stop: threading.Event) -> None:
    """Feed the billing queue to the billing function, one message per invocation, as its event source
    mapping does (BatchSize 1); `POST /local/billing/run` waits on the same drains (Gateway.drain_billing)."""
    keep_polling(stop, gateway.drain_billing, "local billing poller")


def main() -> None:
    from werkzeug.serving import make_server

    from local.dynamodb import MissingRuntime

    # Cold-start-only metric flushes warn on every warm request; noise in a terminal.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    port = int(os.environ.get("PORT", "3000"))
    instances = int(os.environ.get("LAMBDA_INSTANCES", "4"))
    try:
        services = start_services()
    except MissingRuntime as missing:
        raise SystemExit(f"make run: {missing}") from None
    print(f"DynamoDB Local runs on {services.dynamodb.java}", flush=True)
    try:
        gateway = build(services.endpoint, instances)
        stop = threading.Event()
        poller = threading.Thread(target=poll_domain_events, args=(gateway, stop), daemon=True)
        poller.start()
        billing_poller = threading.Thread(target=poll_billing, args=(gateway, stop), daemon=True)
        billing_poller.start()
        # The outbox stream: DynamoDB Local's stream of the table into OutboxPublisherFunction (local/streams.py).
        from local.streams import follow_outbox_stream

        threading.Thread(target=follow_outbox_stream, args=(gateway, stop), daemon=True).start()
        # threaded: requests are served concurrently; each function's instances serve one at a time.
        server = make_server("127.0.0.1", port, gateway, threaded=True)

        def shutdown(*_: Any) -> None:
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

        signal.signal(signal.SIGINT, shutdown)
        signal.signal(signal.SIGTERM, shutdown)
        print(f"SiteGate local stack on http://127.0.0.1:{port} ({instances} instances per function; "
              f"DynamoDB Local at {services.dynamodb.endpoint}, other AWS services at {services.endpoint}); "
              "Ctrl-C stops it", flush=True)
        server.serve_forever()
        stop.set()
        poller.join(timeout=5)
        billing_poller.join(timeout=5)
    finally:
        services.stop()
        print("SiteGate local stack stopped", flush=True)


if __name__ == "__main__":
    main()
