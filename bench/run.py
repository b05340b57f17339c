"""`make bench`: what a request costs, measured on this machine in one run.

`python -m bench.run [part ...]` runs only the parts named (below, in brackets); `make bench` runs all.

1. [imports] Cold-start import time per function against the floor (a bare Powertools HTTP resolver
   with validation, boto3 and pydantic), wall and CPU time, in rounds of fresh processes; ratios
   to the floor of the same rounds, because the machine is shared and noisy.
2. [calls] DynamoDB calls per request, counted with botocore's before-call events.
3. [alerts] Calls per jobsite alert to 10 and to 200 recipients.
4. [engine] DynamoDB Local's Query and TransactWriteItems time with 10 and with 20,000 items in the table.
5. [fanout] The billing fan-out: DynamoDB and SQS calls to queue 1,000 tenants, and the calls per tenant billed.
6. [billing] Issuing, reading and previewing one tenant's invoice at 1,000 and 2,000 staff users.
7. [booking] Booking a delivery: DynamoDB calls and time per booking with 10 and with 10,000 deliveries
   already on the job (`--booking` is the older spelling).
8. [outbox] Commit-to-SNS latency of a domain event, both ways: the fast path (published right after the
   commit) and the table's stream (the fast path refused; DynamoDB Local's stream read as the
   mapping reads it) (`--outbox` is the older spelling).
9. [etas] Truck ETAs with 10 and with 20,000 tickets on the job: calls, items read, read capacity, time.
10. [dashboard] The office dashboard for a user allocated to 10 and to 500 jobs, and before (2 Queries a job).
11. [preview] The month-to-date invoice preview at 2,000 and at 10,000 staff users: calls, items read,
    time (wall and CPU) and where it goes.
12. [audit] The audit trail: a write with and without its entry (calls, write capacity, time), a filtered
    page of GET /audit with 1,000 and with 100,000 entries in the tenant, sealing and verifying 10,000.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
BIG_TABLE = 20_000
TIMED_CALLS = 50

# The floor every API function pays whatever it does: the resolver with validation, boto3, pydantic.
FLOOR = ("import boto3, pydantic; from aws_lambda_powertools.event_handler import APIGatewayHttpResolver; "
         "APIGatewayHttpResolver(enable_validation=True)")
# Imports the handler module alone, as Lambda does (nothing of the local stack).
LOAD_FUNCTION = ("import importlib.util as u; s = u.spec_from_file_location('app', 'functions/{0}/app.py'); "
                 "s.loader.exec_module(u.module_from_spec(s))")
# Wall and CPU seconds of the code: CPU time leaves out the time other processes of a busy machine hold the cores.
TIMED = ("import time; w, c = time.perf_counter(), time.process_time(); {code}; "
         "print(time.perf_counter() - w, time.process_time() - c)")
API_FUNCTIONS = {"user_levels", "job_access", "delivery_approvals", "notifications", "billing"}  # notifications: alerts too


def import_seconds(code: str) -> tuple[float, float]:
    """Wall and CPU seconds of `code` in a fresh process."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/shared'}:{ROOT}"}
    out = subprocess.run([sys.executable, "-c", TIMED.format(code=code)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def import_times() -> None:
    # Like for like: pip compiled the floor's packages to bytecode when it installed them, so ours is
    # compiled too (this machine sets PYTHONDONTWRITEBYTECODE, which would recompile it on every run).
    subprocess.run([sys.executable, "-m", "compileall", "-q", "layers/shared/sitegate", "functions"], cwd=ROOT,
                   check=True, capture_output=True)
    functions = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())
    rows = [("floor: resolver+validation", FLOOR, "")]
    rows += [(f, LOAD_FUNCTION.format(f), "API" if f in API_FUNCTIONS else "event") for f in functions]
    # A second entry point, deployed as its own function (OutboxPublisherFunction): the table's stream.
    rows.append(("notifications/outbox.py", LOAD_FUNCTION.format("notifications").replace("app.py", "outbox.py"), "stream"))
    # Rounds of the floor and every function once each: a machine getting busier or quieter meanwhile
    # moves the floor and the functions alike.
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in rows}
    for _ in range(RUNS):
        for name, code, _ in rows:
            samples[name].append(import_seconds(code))
    medians = {name: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
               for name, runs in samples.items()}
    floor_wall, floor_cpu = medians[rows[0][0]]
    print(f"import time, median of {RUNS} rounds of fresh processes, bytecode compiled (ratio to the floor; "
          "aim for API functions <= 1.30x)")
    print(f"  {'':28} {'wall':>9} {'ratio':>6}  {'CPU':>9} {'ratio':>6}")
    for name, _, kind in rows:
        wall, cpu = medians[name]
        print(f"  {name:28} {wall * 1000:6.1f} ms {wall / floor_wall:5.2f}x  {cpu * 1000:6.1f} ms {cpu / floor_cpu:5.2f}x"
              + (f"  ({kind})" if kind else ""))


def _local_aws() -> Any:
    """DynamoDB Local for the table and moto in-process for the rest, as the integration tests have them."""
    from local import dynamodb

    engine = dynamodb.start()
    os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "POWERTOOLS_LOG_LEVEL": "WARNING", "AWS_ENDPOINT_URL_DYNAMODB": engine.endpoint})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    return engine


def dynamodb_calls() -> None:
    import boto3
    from moto import mock_aws

    from local.template import provision

    with mock_aws():
        resources = provision(boto3.session.Session(region_name="us-east-1"), prefix=f"bench-{uuid.uuid4().hex[:6]}")
        os.environ.update(resources.environment())
        from sitegate.data import aws
        from tests.integration.conftest import Identity, call, operator_identity

        operator = operator_identity()
        calls: Counter[str] = Counter()
        aws.dynamodb_client().meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
        created = call("user_levels", "post_tenants.json", operator).body
        admin = Identity(created["tenant_id"], created["admin_user_id"], created["owner_account_id"])
        job_id = call("job_access", "post_jobs.json", admin).body["job_id"]
        call("job_access", "post_job_tickets.json", admin, path={"job_id": job_id},
             body={"ticket_number": "T-1000", "material": "AP20", "quantity": "10", "unit": "t", "truck": "T-1"})
        on_job = {"job_id": job_id}
        print("DynamoDB calls per request (DynamoDB Local)")
        for label, function, event, who, path in [
            ("GET /health", "user_levels", "get_health.json", None, None),
            ("GET /me", "user_levels", "get_me.json", admin, None),
            ("GET /levels", "user_levels", "get_levels.json", admin, None),
            ("POST /tenants", "user_levels", "post_tenants.json", operator, None),
            ("POST /users", "user_levels", "post_users.json", admin, None),
            ("GET /jobs?q=249", "job_access", "get_jobs.json", admin, None),
            ("GET /jobs/{id}", "job_access", "get_job.json", admin, on_job),
            ("GET .../tickets", "job_access", "get_job_tickets.json", admin, on_job),
            ("POST .../tickets", "job_access", "post_job_tickets.json", admin, on_job),
        ]:
            calls.clear()
            reply = call(function, event, who, headers={"idempotency-key": ""}, path=path)
            detail = ", ".join(f"{name} {n}" for name, n in sorted(calls.items())) or "none"
            print(f"  {label:17} {sum(calls.values()):2d}  ({detail}; status {reply.status})")


def _median_ms(action: Any) -> float:
    samples = []
    for _ in range(TIMED_CALLS):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _fill(client: Any, table: str, count: int) -> None:
    """`count` items spread over partitions of 10, as a busy tenant's jobs would be."""
    for start in range(0, count, 25):
        requests = [{"PutRequest": {"Item": {"PK": {"S": f"T#bench#JOB#{i // 10}"}, "SK": {"S": f"ITEM#{i:06d}"},
                                             "payload": {"S": "x" * 200}}}} for i in range(start, min(start + 25, count))]
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def engine_scale() -> None:
    import boto3

    from local.template import _only, _table_kwargs, load_template

    client = boto3.client("dynamodb", region_name="us-east-1")
    props = _only(load_template(), "AWS::DynamoDB::Table")
    print(f"DynamoDB Local, median ms of {TIMED_CALLS} calls")
    results: dict[int, tuple[float, float]] = {}
    for size in (10, BIG_TABLE):
        table = f"bench-scale-{size}-{uuid.uuid4().hex[:6]}"
        client.create_table(**_table_kwargs(props, table))
        _fill(client, table, size)
        query = _median_ms(lambda t=table: client.query(
            TableName=t, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "T#bench#JOB#0"}}))
        transact = _median_ms(lambda t=table: client.transact_write_items(TransactItems=[{"Put": {
            "TableName": t, "Item": {"PK": {"S": f"T#bench#NEW#{uuid.uuid4().hex}"}, "SK": {"S": "NEW"}},
            "ConditionExpression": "attribute_not_exists(PK)"}}]))
        results[size] = (query, transact)
        print(f"  {size:6d} items: Query (10-item partition) {query:6.2f} ms   TransactWriteItems (1 item) {transact:6.2f} ms")
        client.delete_table(TableName=table)
    small, big = results[10], results[BIG_TABLE]
    print(f"  ratio {BIG_TABLE} / 10 items: Query {big[0] / small[0]:.2f}x   TransactWriteItems {big[1] / small[1]:.2f}x")


# ------------------------------------------------------------ notifications: calls per jobsite alert
def alert_calls() -> None:
    """DynamoDB, SES and SNS calls to send one jobsite alert to 10 and to 200 recipients (each with
    email and SMS on): the POST, the queue's delivery of its event, and a redelivery of that event."""
    import boto3
    from moto import mock_aws

    from local.stack import drain_once
    from local.template import provision

    with mock_aws():
        resources = provision(boto3.session.Session(region_name="us-east-1"), prefix=f"bench-{uuid.uuid4().hex[:6]}")
        os.environ.update(resources.environment())
        from local.gateway import LambdaContext
        from sitegate import clock
        from sitegate.data import access_store, aws
        from sitegate.models.stored import ProjectRole
        from sitegate.settings import get_settings
        from tests.integration.conftest import Identity, call, handler, operator_identity

        for cached in (get_settings, aws.table, aws.cognito, aws.sns, aws.ses):  # a fresh mock_aws: fresh clients
            cached.cache_clear()
        operator = operator_identity()
        created = call("user_levels", "post_tenants.json", operator, headers={"idempotency-key": ""}).body
        admin = Identity(created["tenant_id"], created["admin_user_id"], created["owner_account_id"])
        calls: Counter[str] = Counter()
        for client in (aws.dynamodb_client(), aws.ses(), aws.sns()):
            client.meta.events.register("before-call", lambda model, **_: calls.update(
                [f"{model.service_model.service_name}:{model.name}"]))
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_arn = sqs.get_queue_attributes(QueueUrl=resources.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]

        def deliver() -> None:
            while drain_once(sqs, resources.queue_url, queue_arn,
                             lambda e: handler("notifications")(e, LambdaContext("notifications")),
                             retry_after=0, wait_seconds=0) != (0, 0):
                pass

        print("calls per jobsite alert, every recipient with email and SMS on (DynamoDB Local; SES/SNS on moto)")
        for size in (10, 200):
            job_id = call("job_access", "post_jobs.json", admin, headers={"idempotency-key": ""},
                          body={"job_number": uuid.uuid4().hex[:8], "name": "Bench job"}).body["job_id"]
            for n in range(size):
                user = call("user_levels", "post_users.json", admin, headers={"idempotency-key": ""}, body={
                    "email": f"crew{n}-{job_id[:6]}@bench.example", "name": f"Crew {n}", "level": "operations_user",
                    "phone": f"+6421{n:07d}"}).body
                who = Identity(admin.tenant_id, user["user_id"], admin.account_id)
                call("user_levels", "put_notification_preferences.json", who, body={"email": True, "sms": True})
                access_store.put_role(ProjectRole(tenant_id=admin.tenant_id, job_id=job_id, user_id=user["user_id"],
                                           role="member", set_by=admin.user_id, set_at=clock.now_iso()))
            deliver()
            calls.clear()
            reply = call("notifications", "post_alerts.json", admin, path={"job_id": job_id},
                         headers={"idempotency-key": ""})
            post = dict(calls)
            # the event, as SNS put it on the queue, kept to redeliver it
            kept = sqs.receive_message(QueueUrl=resources.queue_url, MaxNumberOfMessages=1, VisibilityTimeout=0)[
                "Messages"][0]["Body"]
            calls.clear()
            deliver()
            first = dict(calls)
            calls.clear()
            sqs.send_message(QueueUrl=resources.queue_url, MessageBody=kept)
            deliver()
            again = dict(calls)
            for label, counted in (("POST .../alerts", post), ("delivery", first), ("redelivery", again)):
                db = sum(v for k, v in counted.items() if k.startswith("dynamodb:"))
                detail = ", ".join(f"{k.split(':')[1]} {v}" for k, v in sorted(counted.items()) if k.startswith("dynamodb:"))
                ses_n = counted.get("ses:SendEmail", 0)
                sms_n = sum(v for k, v in counted.items() if k == "sns:Publish") if label == "delivery" else 0
                topic = counted.get("sns:Publish", 0) if label != "delivery" else 0
                print(f"  {size:3d} recipients  {label:16} DynamoDB {db:3d} ({detail})  SES {ses_n:3d}  "
                      f"SNS SMS {sms_n:3d}  SNS topic {topic}  (status {reply.status})")


# ------------------------------------------------------------------ billing
BILLING_SIZES = (1_000, 2_000)
BILLING_WARM_UP = 500


def billing_scale() -> None:
    """One tenant of 1,000 and one of 2,000 staff users, each with a month of history (4 entries per
    user, written straight through the store): DynamoDB calls and time to issue September's invoice,
    then to read it back and its CSV (DynamoDB Local)."""
    from datetime import UTC, datetime

    import boto3
    from moto import mock_aws

    from local.template import provision

    with mock_aws():
        resources = provision(boto3.session.Session(region_name="us-east-1"), prefix=f"bench-{uuid.uuid4().hex[:6]}")
        os.environ.update(resources.environment())
        from sitegate import billing, clock, invoices
        from sitegate.data import aws, tenant_store
        from sitegate.settings import get_settings
        from tests.billing_data import write_billing_users
        from tests.integration.conftest import Identity, call, operator_identity

        for cached in (get_settings, aws.table, aws.cognito, aws.sns):  # made for the tables of earlier sections
            cached.cache_clear()
        operator = operator_identity()
        calls: Counter[str] = Counter()
        aws.dynamodb_client().meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
        print("billing: one tenant's September invoice (DynamoDB Local; users and history written directly)")
        for size in (BILLING_WARM_UP, *BILLING_SIZES):  # the first tenant warms DynamoDB Local's JVM up, unprinted
            clock.freeze(datetime(2026, 8, 1, tzinfo=UTC))
            created = call("user_levels", "post_tenants.json", operator, headers={"idempotency-key": ""},
                           body={"name": f"Bench {size}", "admin_email": f"admin{size}@bench.example",
                                 "admin_name": "Admin"}).body
            write_billing_users(created["tenant_id"], created["owner_account_id"], size)
            tenant = tenant_store.get_tenant(created["tenant_id"])
            assert tenant is not None
            admin = Identity(created["tenant_id"], created["admin_user_id"], created["owner_account_id"])
            clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
            calls.clear()
            started = time.perf_counter()
            outcome = invoices.issue(tenant, billing.parse_period("2026-09", tenant.timezone))
            issue_s = time.perf_counter() - started
            issued = dict(calls)
            calls.clear()
            started = time.perf_counter()
            reply = call("billing", "get_invoice.json", admin, path={"period": "2026-09"})
            read_s = time.perf_counter() - started
            read = dict(calls)
            clock.freeze(datetime(2026, 9, 30, 9, tzinfo=UTC))  # September 30th in Auckland: the month to date
            calls.clear()
            started = time.perf_counter()
            preview = call("billing", "get_invoice_preview.json", admin)
            preview_s = time.perf_counter() - started
            if size == BILLING_WARM_UP:
                continue
            detail = ", ".join(f"{name} {n}" for name, n in sorted(issued.items()))
            print(f"  {size:5d} staff users, {4 * size:5d} history entries: issue {sum(issued.values()):3d} calls "
                  f"({detail}) {issue_s:6.2f} s [{outcome}]; GET /invoices/2026-09 {sum(read.values())} calls "
                  f"{read_s:5.2f} s ({len(reply.body['users'])} users, total {reply.body['total']}); "
                  f"GET /invoices/preview {sum(calls.values())} calls {preview_s:5.2f} s (status {preview.status})")
        clock.unfreeze()


# ------------------------------------------------------------------ billing fan-out
FAN_OUT_TENANTS = 1_000
FAN_OUT_BILLED = 20  # of those, billed one message per invocation as the queue's event source would


def billing_fan_out() -> None:
    """The monthly run over 1,000 tenants (tenant items written straight to the table): the DynamoDB and
    SQS calls of the fan-out, then the calls to bill one tenant from its message (botocore before-call)."""
    import json
    from datetime import UTC, datetime

    import boto3
    from moto import mock_aws

    from local.template import provision

    with mock_aws():
        resources = provision(boto3.session.Session(region_name="us-east-1"), prefix=f"bench-{uuid.uuid4().hex[:6]}")
        os.environ.update(resources.environment())
        from local.gateway import LambdaContext, load_handler
        from sitegate import clock
        from sitegate.data import aws, codec
        from sitegate.models.stored import Tenant
        from sitegate.settings import get_settings
        from tests.events import load_event

        for cached in (get_settings, aws.table, aws.cognito, aws.sns, aws.ses, aws.sqs):
            cached.cache_clear()
        made = "2026-01-05T00:00:00+00:00"
        with aws.table().batch_writer() as batch:
            for n in range(FAN_OUT_TENANTS):
                batch.put_item(Item=codec.item_of(Tenant(tenant_id=f"t-bench{n:05d}", name=f"Bench {n}",
                                                             owner_account_id="owner", created_at=made)))
        calls: Counter[str] = Counter()
        for client in (aws.dynamodb_client(), aws.sqs(), aws.sns()):
            client.meta.events.register("before-call", lambda model, **_: calls.update(
                [f"{model.service_model.service_name}.{model.name}"]))
        function = load_handler("functions/billing/", "app.lambda_handler", "bench_billing")
        clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
        event = load_event("billing/scheduled_monthly.json")
        report = function(event, LambdaContext("billing"))  # its time on moto's SQS says nothing of AWS's: calls only
        detail = ", ".join(f"{name} {n}" for name, n in sorted(calls.items()))
        print(f"billing fan-out: {report['tenants']} tenants queued with {sum(calls.values())} calls ({detail}; "
              f"one Query per {report['tenants'] // max(report['pages'] - 1, 1)} tenants, "
              "one SendMessageBatch per 10)")
        sqs = boto3.client("sqs", region_name="us-east-1")
        record = load_event("billing/sqs_bill_tenant.json")["Records"][0]
        per_tenant: list[Counter[str]] = []
        for _ in range(FAN_OUT_BILLED):
            message = sqs.receive_message(QueueUrl=resources.billing_queue_url, MaxNumberOfMessages=1)["Messages"][0]
            calls.clear()
            reply = function({"Records": [{**record, "messageId": message["MessageId"], "body": message["Body"]}]},
                             LambdaContext("billing"))
            assert reply == {"batchItemFailures": []}, reply
            per_tenant.append(Counter(calls))
            assert json.loads(message["Body"])["period"] == "2026-09"
        shapes = Counter(", ".join(f"{k} {v}" for k, v in sorted(c.items())) for c in per_tenant)
        for shape, times in shapes.most_common():
            print(f"  calls per tenant billed (a tenant of no staff users, $0 invoice issued; {times} of "
                  f"{FAN_OUT_BILLED}): {sum(per_tenant[0].values())} ({shape}); the user and history Queries "
                  "grow with pages of a tenant's users, see 'billing: one tenant' below")
        clock.unfreeze()


# ------------------------------------------------------------ deliveries: booking
BOOKINGS = 30  # timed bookings per job size
BOOKED_ALREADY = (10, 10_000)


def _fill_deliveries(job_id: str, tenant_id: str, locations: list[str], count: int, requested_by: str) -> None:
    """`count` approved deliveries already on the job (with the day items holding them), written in bulk:
    15-minute windows, 40 a day per location, on days from 2027-01-01 on."""
    from datetime import UTC, datetime, timedelta

    from sitegate.data import aws, codec, delivery_store
    from sitegate.models.stored import Delivery, Job

    days: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    with aws.table().batch_writer() as batch:
        for n in range(count):
            location = locations[n % len(locations)]
            slot = n // len(locations)
            start = datetime(2027, 1, 1, tzinfo=UTC) + timedelta(days=slot // 40, minutes=15 * (slot % 40))
            end = start + timedelta(minutes=15)
            delivery = Delivery(tenant_id=tenant_id, job_id=job_id, delivery_id=uuid.uuid4().hex, for_account_id="gc",
                                company_name="GC", location_id=location, location_name="Gate", start=start.isoformat(),
                                end=end.isoformat(), status="approved", approvals={"gc": "approved"},
                                requested_by=requested_by, requested_at=start.isoformat())
            batch.put_item(Item=codec.item_of(delivery))
            days.setdefault((location, start.date().isoformat()), []).append(
                (int(start.timestamp()) // 60, int(end.timestamp()) // 60, delivery.delivery_id))
        for (location, day), intervals in days.items():
            write = delivery_store.booking_day_write(Job(tenant_id=tenant_id, job_id=job_id, job_number="-", name="-",
                                                      created_by="-", created_at="-"),
                                            ("LOCATION", location, day), None, intervals)
            batch.put_item(Item=codec.item_of(write.model))


def booking() -> None:
    """Booking a delivery with 10 and with 10,000 deliveries already on the job: DynamoDB calls and
    time per booking (through the handler, on DynamoDB Local; SNS on moto in-process)."""
    import boto3
    from moto import mock_aws

    from local.template import provision
    from sitegate.data import aws
    from sitegate.settings import get_settings

    with mock_aws():
        resources = provision(boto3.session.Session(region_name="us-east-1"), prefix=f"bench-book-{uuid.uuid4().hex[:6]}")
        os.environ.update(resources.environment())
        for cached in (get_settings, aws.table, aws.cognito, aws.sns):
            cached.cache_clear()
        from tests.integration.conftest import Identity, call, operator_identity

        created = call("user_levels", "post_tenants.json", operator_identity()).body
        admin = Identity(created["tenant_id"], created["admin_user_id"], created["owner_account_id"])
        calls: Counter[str] = Counter()
        aws.dynamodb_client().meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
        print(f"booking a delivery (POST /jobs/{{id}}/deliveries, GC lead, one gate; median of {BOOKINGS}; DynamoDB Local)")
        for size in BOOKED_ALREADY:
            job_id = call("job_access", "post_jobs.json", admin, body={"job_number": f"B{size}", "name": "Bench"}).body["job_id"]
            call("job_access", "put_job_member.json", admin, path={"job_id": job_id, "user_id": admin.user_id},
                 body={"role": "lead"})
            locations = [call("delivery_approvals", "post_job_locations.json", admin, path={"job_id": job_id},
                              body={"name": f"Gate {i}", "kind": "gate"}).body["location_id"] for i in range(5)]
            _fill_deliveries(job_id, admin.tenant_id, locations, size, admin.user_id)
            samples, per_booking = [], Counter()
            warm_up = {"for_account_id": admin.account_id, "location_id": locations[1],  # not timed: first-use costs
                       "start": "2026-11-30T06:00:00+13:00", "end": "2026-11-30T06:30:00+13:00"}
            assert call("delivery_approvals", "post_job_deliveries.json", admin, path={"job_id": job_id},
                        body=warm_up).status == 201
            for n in range(BOOKINGS):  # 30-minute windows on one gate, one day: its day item fills up as it goes
                calls.clear()
                body = {"for_account_id": admin.account_id, "location_id": locations[0],
                        "start": f"2026-12-01T{6 + n // 2:02d}:{30 * (n % 2):02d}:00+13:00",
                        "end": f"2026-12-01T{6 + (n + 1) // 2:02d}:{30 * ((n + 1) % 2):02d}:00+13:00"}
                started = time.perf_counter()
                reply = call("delivery_approvals", "post_job_deliveries.json", admin, path={"job_id": job_id}, body=body)
                samples.append((time.perf_counter() - started) * 1000)
                assert reply.status == 201, reply.body
                per_booking = Counter(calls)
            detail = ", ".join(f"{name} {n}" for name, n in sorted(per_booking.items()))
            print(f"  {size:6d} deliveries on the job: {sum(per_booking.values())} DynamoDB calls ({detail}), "
                  f"{statistics.median(samples):6.2f} ms per booking")


# ------------------------------------------------------------ reads that grow with history
class Meter:
    """DynamoDB calls by operation, items read (a Query's ScannedCount, a GetItem's or BatchGetItem's items)
    and read capacity (ReturnConsumedCapacity asked of every read), counted with botocore's events."""

    READS = ("Query", "GetItem", "BatchGetItem")

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.items = 0
        self.capacity = 0.0
        client.meta.events.register("before-parameter-build.dynamodb", self._ask)
        client.meta.events.register("after-call.dynamodb", self._count)

    def clear(self) -> None:
        self.calls.clear()
        self.items, self.capacity = 0, 0.0

    def _ask(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in self.READS:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _count(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "Query":
            self.items += int(parsed.get("ScannedCount", 0))
        elif model.name == "GetItem":
            self.items += "Item" in parsed
        elif model.name == "BatchGetItem":
            self.items += sum(len(found) for found in parsed.get("Responses", {}).values())
        consumed = parsed.get("ConsumedCapacity") or []
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            self.capacity += float(entry.get("CapacityUnits", 0))

    def __str__(self) -> str:
        detail = ", ".join(f"{name} {n}" for name, n in sorted(self.calls.items()))
        return f"{sum(self.calls.values()):4d} calls ({detail}), {self.items:6d} items read, {self.capacity:7.1f} RCU"


def _fresh_stack(prefix: str) -> Any:
    """A fresh table and moto's other services (the caller holds `mock_aws`), with the process's clients remade."""
    import boto3

    from local.template import provision
    from sitegate.data import aws
    from sitegate.settings import get_settings

    resources = provision(boto3.session.Session(region_name="us-east-1"), prefix=f"{prefix}-{uuid.uuid4().hex[:6]}")
    os.environ.update(resources.environment())
    for cached in (get_settings, aws.table, aws.cognito, aws.sns, aws.ses, aws.sqs, aws.kms, aws.s3):
        cached.cache_clear()
    return resources


def _measured(meter: Meter, action: Any, runs: int, warm: int = 1) -> tuple[str, float, Any]:
    """`action` run `runs` times after `warm` unmeasured runs (a fresh engine's JIT warms up): the meter
    of its last run, its median ms, its last result."""
    for _ in range(warm):
        action()
    samples, result, shown = [], None, ""
    for _ in range(runs):
        meter.clear()
        started = time.perf_counter()
        result = action()
        samples.append((time.perf_counter() - started) * 1000)
        shown = str(meter)
    return shown, statistics.median(samples), result


ETA_SIZES = (10, 20_000)  # tickets on the job
EN_ROUTE = 5  # of them, on the road
ETA_RUNS = 20


def _fill_tickets(tenant_id: str, job_id: str, count: int) -> None:
    """`count` tickets straight into the table, EN_ROUTE of them en route, the rest the job's history
    (unloaded mostly, some rejected, a few loaded and not yet sent)."""
    from sitegate.data import aws, codec
    from sitegate.models.stored import Ticket

    made = "2026-11-01T06:00:00+13:00"
    with aws.table().batch_writer() as batch:
        for n in range(count):
            status = ("en_route" if n < EN_ROUTE else "loaded" if n % 50 == 0 else "rejected" if n % 20 == 0
                      else "unloaded")
            eta = f"2026-11-23T{6 + n % 12:02d}:{n % 60:02d}:00+13:00" if status == "en_route" else None
            batch.put_item(Item=codec.item_of(Ticket(
                tenant_id=tenant_id, job_id=job_id, ticket_id=f"bench{n:06d}", ticket_number=f"T-{n:06d}",
                material="20MPa concrete", quantity="6.500", unit="m3", truck=f"T-{n % 40}", status=status, eta=eta,
                unloaded_by="bench" if status in ("unloaded", "rejected") else None,
                unloaded_at=made if status in ("unloaded", "rejected") else None, created_at=made)))


def etas() -> None:
    """GET /jobs/{id}/etas with 10 and with 20,000 tickets on the job, EN_ROUTE of them en route: calls,
    items read and time (the handler, DynamoDB Local), beside the read it made before the sparse
    en-route index (every ticket of the job, one paged Query), measured in the same run."""
    from moto import mock_aws

    with mock_aws():
        _fresh_stack("bench-etas")
        from sitegate import keys
        from sitegate.data import aws, core
        from sitegate.models.stored import Ticket
        from tests.integration.conftest import Identity, call, operator_identity

        created = call("user_levels", "post_tenants.json", operator_identity()).body
        admin = Identity(created["tenant_id"], created["admin_user_id"], created["owner_account_id"])
        meter = Meter(aws.dynamodb_client())
        print(f"truck ETAs (GET /jobs/{{id}}/etas, {EN_ROUTE} tickets en route; median of {ETA_RUNS}; DynamoDB Local)")
        figures: dict[int, tuple[float, float]] = {}
        jobs = {size: call("job_access", "post_jobs.json", admin, headers={"idempotency-key": ""},
                           body={"job_number": f"E{size}", "name": "Bench"}).body["job_id"] for size in ETA_SIZES}
        for size, job_id in jobs.items():  # both jobs in the table before either is measured
            _fill_tickets(admin.tenant_id, job_id, size)
        for size, job_id in jobs.items():
            shown, ms, reply = _measured(meter, lambda j=job_id: call("job_access", "get_job_etas.json", admin,
                                                                      path={"job_id": j}), ETA_RUNS, warm=ETA_RUNS)
            assert reply.status == 200 and len(reply.body["items"]) == EN_ROUTE, reply.body
            # The read before the index: the job's whole ticket list, en-route ones picked out after.
            partition = keys.job_partition(admin.tenant_id, job_id)
            before, before_ms, tickets = _measured(meter, lambda p=partition: core.query_all(
                Ticket, p, keys.TICKET_PREFIX), 3 if size > 1000 else ETA_RUNS)
            assert len(tickets) == size
            figures[size] = (ms, before_ms)
            print(f"  {size:6d} tickets: GET .../etas {shown}, {ms:8.1f} ms")
            print(f"  {'':6s}          (before: the job's tickets {before}, {before_ms:8.1f} ms, without authorizing)")
        small, big = figures[ETA_SIZES[0]], figures[ETA_SIZES[-1]]
        print(f"  ratio {ETA_SIZES[-1]} / {ETA_SIZES[0]} tickets: GET .../etas {big[0] / small[0]:.2f}x "
              f"(before: {big[1] / small[1]:.0f}x); at {ETA_SIZES[-1]}, before / now {big[1] / big[0]:.0f}x")


DASHBOARD_JOBS = 600  # jobs of the tenant
ON_JOBS = (10, 500)  # of them, allocated to the caller
PENDING_PER_JOB, OPEN_PER_JOB = 2, 1
DASHBOARD_RUNS = 10


def _fill_jobs(tenant_id: str, owner_account_id: str, count: int) -> list[str]:
    """`count` active jobs straight into the table, each with PENDING_PER_JOB pending deliveries and
    OPEN_PER_JOB open requests (and an approved delivery and a done request the counts must skip)."""
    from sitegate.data import aws, codec
    from sitegate.models.stored import Delivery, Job, JobRequest

    made = "2026-11-01T06:00:00+00:00"
    job_ids = [f"benchjob{n:05d}" for n in range(count)]
    with aws.table().batch_writer() as batch:
        for n, job_id in enumerate(job_ids):
            batch.put_item(Item=codec.item_of(Job(tenant_id=tenant_id, job_id=job_id, job_number=f"D{n:05d}",
                                                  name=f"Job {n}", created_by="bench", created_at=made)))
            for d, status in enumerate(["pending"] * PENDING_PER_JOB + ["approved"]):
                batch.put_item(Item=codec.item_of(Delivery(
                    tenant_id=tenant_id, job_id=job_id, delivery_id=f"d{n:05d}{d}", for_account_id=owner_account_id,
                    company_name="GC", location_id="gate", location_name="Gate 1", start=f"2026-12-01T0{d}:00:00+00:00",
                    end=f"2026-12-01T0{d}:30:00+00:00", status=status, approvals={"gc": status},
                    requested_by="bench", requested_at=made)))
            for r, status in enumerate(["open"] * OPEN_PER_JOB + ["done"]):
                batch.put_item(Item=codec.item_of(JobRequest(
                    tenant_id=tenant_id, job_id=job_id, request_id=f"r{n:05d}{r}", account_id="customer",
                    requested_by="bench", title="Sweep", description="Mud by gate 2", status=status,
                    created_at=made, updated_at=made)))
    return job_ids


def dashboard() -> None:
    """GET /dashboard for a staff user who sees only its allocated jobs (tmp_designer), on 10 and on 500
    of a tenant's 600 jobs (each with pending deliveries and open requests): calls, items read and time,
    beside the 2 COUNT Queries per job it made before, and a tenant-wide caller, in the same run."""
    from moto import mock_aws

    with mock_aws():
        _fresh_stack("bench-dash")
        from sitegate import keys
        from sitegate.data import aws, codec, core
        from sitegate.models.stored import User
        from tests.integration.conftest import Identity, call, operator_identity

        created = call("user_levels", "post_tenants.json", operator_identity()).body
        tenant_id, owner = created["tenant_id"], created["owner_account_id"]
        admin = Identity(tenant_id, created["admin_user_id"], owner)
        job_ids = _fill_jobs(tenant_id, owner, DASHBOARD_JOBS)
        meter = Meter(aws.dynamodb_client())
        print(f"office dashboard (GET /dashboard; tenant of {DASHBOARD_JOBS} jobs, each {PENDING_PER_JOB} pending "
              f"deliveries and {OPEN_PER_JOB} open request; median of {DASHBOARD_RUNS}; DynamoDB Local)")
        figures: dict[int, float] = {}
        for size in ON_JOBS:
            made = "2026-11-01T06:00:00+00:00"
            user = User(tenant_id=tenant_id, user_id=f"designer{size}", account_id=owner, email=f"d{size}@bench.example",
                        name=f"Designer {size}", level="tmp_designer", job_ids=job_ids[:size], created_at=made,
                        updated_at=made)
            aws.table().put_item(Item=codec.item_of(user))
            who = Identity(tenant_id, user.user_id, owner)
            shown, ms, reply = _measured(meter, lambda w=who: call("user_levels", "get_dashboard.json", w), DASHBOARD_RUNS)
            assert reply.body == {"active_jobs": size, "pending_deliveries": PENDING_PER_JOB * size,
                                  "open_requests": OPEN_PER_JOB * size}, reply.body
            figures[size] = ms
            print(f"  on {size:3d} jobs: {shown}, {ms:7.1f} ms  {reply.body}")
        mine = job_ids[:ON_JOBS[-1]]

        def per_job() -> int:  # the read before: one COUNT Query per job and list
            return sum(core.count(partition, index="GSI2", sort_prefix=keys.by_job(j)) for j in mine
                       for partition in (keys.pending_deliveries(tenant_id), keys.open_requests(tenant_id)))

        before, before_ms, counted = _measured(meter, per_job, 3)
        assert counted == (PENDING_PER_JOB + OPEN_PER_JOB) * len(mine)
        print(f"  (before, on {len(mine)} jobs: 2 COUNT Queries per job {before}, {before_ms:7.1f} ms, without the "
              "caller's and jobs' reads)")
        shown, ms, reply = _measured(meter, lambda: call("user_levels", "get_dashboard.json", admin), DASHBOARD_RUNS)
        print(f"  tenant-wide (super_admin): {shown}, {ms:7.1f} ms  {reply.body}")
        print(f"  ratio {ON_JOBS[-1]} / {ON_JOBS[0]} jobs: {figures[ON_JOBS[-1]] / figures[ON_JOBS[0]]:.2f}x; "
              f"before / now on {ON_JOBS[-1]} jobs: {before_ms / figures[ON_JOBS[-1]]:.1f}x")


PREVIEW_SIZES = (2_000, 10_000)  # staff users, each with the month's history of tests/billing_data.py
PREVIEW_RUNS = 3


@contextlib.contextmanager
def _time_spent(spent: Counter[str], *targets: tuple[Any, str]) -> Iterator[None]:
    """Seconds spent in each module function named (patched for the duration), added into `spent`:
    wall time under its name, this process's CPU time under `{name} cpu`."""
    originals = [(module, name, getattr(module, name)) for module, name in targets]

    def timed(label: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started
                spent[f"{label} cpu"] += time.process_time() - cpu
        return wrapper

    for module, name, function in originals:
        setattr(module, name, timed(name, function))
    try:
        yield
    finally:
        for module, name, function in originals:
            setattr(module, name, function)


def preview_scale() -> None:
    """GET /invoices/preview on September 30th for a tenant of 2,000 and of 10,000 staff users, each with
    a month of history (written straight through the codec): calls, items read, time (wall, and this
    process's CPU: the function's own work, without DynamoDB Local's) and where it goes."""
    from datetime import UTC, datetime

    from moto import mock_aws

    with mock_aws():
        _fresh_stack("bench-preview")
        from sitegate import billing, clock, keys
        from sitegate.data import aws, core, tenant_store, user_store
        from sitegate.models.stored import User, UserHistory
        from tests.billing_data import write_billing_users
        from tests.integration.conftest import Identity, call, operator_identity

        operator = operator_identity()
        meter = Meter(aws.dynamodb_client())
        print(f"month-to-date preview (GET /invoices/preview on September 30th; best of {PREVIEW_RUNS}; DynamoDB Local; "
              "CPU: this process's)")
        figures: dict[int, tuple[float, float]] = {}
        for size in PREVIEW_SIZES:
            clock.freeze(datetime(2026, 8, 1, tzinfo=UTC))
            created = call("user_levels", "post_tenants.json", operator, headers={"idempotency-key": ""},
                           body={"name": f"Preview {size}", "admin_email": f"p{size}@bench.example",
                                 "admin_name": "Admin"}).body
            write_billing_users(created["tenant_id"], created["owner_account_id"], size)
            admin = Identity(created["tenant_id"], created["admin_user_id"], created["owner_account_id"])
            clock.freeze(datetime(2026, 9, 30, 9, tzinfo=UTC))  # September 30th in Auckland
            best: tuple[float, float, Counter[str], str, Any] | None = None
            for _ in range(PREVIEW_RUNS):
                spent: Counter[str] = Counter()
                meter.clear()
                with _time_spent(spent, (user_store, "staff_users"), (user_store, "history_since"),
                                 (billing, "billed_days")):
                    started, cpu = time.perf_counter(), time.process_time()
                    reply = call("billing", "get_invoice_preview.json", admin)
                    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
                assert reply.status == 200 and len(reply.body["users"]) == size + 1, reply.status
                if best is None or wall < best[0]:
                    best = (wall, cpu, spent, str(meter), reply)
            assert best is not None
            wall, cpu, spent, shown, reply = best
            figures[size] = (wall, cpu)
            reads = spent["staff_users"] + spent["history_since"]
            reads_cpu = spent["staff_users cpu"] + spent["history_since cpu"]
            size_kb = len(json.dumps(reply.body)) / 1000
            print(f"  {size:6d} staff: {shown}, {wall:5.2f} s, CPU {cpu:5.2f} s")
            print(f"  {'':6s}        reads {reads:5.2f} s, CPU {reads_cpu:5.2f} s (staff {spent['staff_users']:.2f} s, "
                  f"history {spent['history_since']:.2f} s); day counting CPU {spent['billed_days cpu']:5.2f} s; "
                  f"the rest CPU {cpu - reads_cpu - spent['billed_days cpu']:5.2f} s; {size_kb:,.0f} kB of JSON, "
                  f"total {reply.body['total']}")
            # The reads before the projection: the same two Queries, every attribute, into User and UserHistory.
            tenant = tenant_store.get_tenant(admin.tenant_id)
            assert tenant is not None
            since = billing.month_of(clock.now(), tenant.timezone).start.isoformat(timespec="seconds")
            started, cpu = time.perf_counter(), time.process_time()
            core.models_of(User, core.query_all_items(keys.account_users(tenant.tenant_id, tenant.owner_account_id),
                                                      index="GSI1", page_size=user_store.BILLING_PAGE))
            core.models_of(UserHistory, core.query_all_items(keys.tenant_history(tenant.tenant_id), index="GSI2",
                                                             sort_between=(since, "~"), page_size=user_store.BILLING_PAGE))
            whole, whole_cpu = time.perf_counter() - started, time.process_time() - cpu
            print(f"  {'':6s}        (before, whole items: the same reads {whole:5.2f} s, CPU {whole_cpu:5.2f} s: "
                  f"{whole_cpu / reads_cpu:.1f}x the CPU of the projected reads)")
        small, big = figures[PREVIEW_SIZES[0]], figures[PREVIEW_SIZES[-1]]
        print(f"  ratio {PREVIEW_SIZES[-1]} / {PREVIEW_SIZES[0]} staff: wall {big[0] / small[0]:.2f}x, "
              f"CPU {big[1] / small[1]:.2f}x")
        clock.unfreeze()


# ------------------------------------------------------------ the outbox: commit to SNS
OUTBOX_EVENTS = 15  # timed events per path


def outbox_latency() -> None:
    """Commit to SNS of one domain event at a time: from the change's transaction returning to SNS
    answering the publish. The fast path publishes in the request, right after the commit. The
    stream path is what carries an event the fast path could not publish: the table's stream read as
    the deployed mapping reads it (local/streams.py: polled POLL_SECONDS apart, as Lambda polls a
    shard 4 times a second), with the template's batching window and without one."""
    import threading

    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    from local.streams import POLL_SECONDS, StreamMapping
    from local.template import provision, stream_mapping

    with mock_aws():
        resources = provision(boto3.session.Session(region_name="us-east-1"), prefix=f"bench-outbox-{uuid.uuid4().hex[:6]}")
        os.environ.update(resources.environment())
        from sitegate.data import aws, core, events
        from sitegate.models.events import InvoiceIssued
        from sitegate.settings import get_settings
        from tests.integration.conftest import handler  # noqa: F401 - the same handler loading as the tests
        from tests.integration.notify import outbox_handler

        for cached in (get_settings, aws.table, aws.cognito, aws.sns):
            cached.cache_clear()
        client = aws.sns()
        real_publish, taken, refuse = client.publish, {}, [False]

        def publish(**kwargs: Any) -> Any:
            if refuse[0] and threading.current_thread() is threading.main_thread():  # the request's fast path
                raise ClientError({"Error": {"Code": "InternalError", "Message": "refused"}}, "Publish")
            answer = real_publish(**kwargs)
            taken.setdefault(kwargs["Message"].split('"event_id":"', 1)[1].split('"', 1)[0], time.perf_counter())
            return answer

        client.publish = publish

        def commit() -> tuple[Any, float]:
            event = events.new_event("invoice.issued", "bench-tenant", InvoiceIssued(period="2026-09", total="1.00",
                                                                                      currency="NZD"))
            core.write(creates=[events.outbox_entry(event)])
            return event, time.perf_counter()

        fast, in_request = [], []
        for _ in range(OUTBOX_EVENTS + 1):  # the first warms the clients up, unprinted
            event, committed = commit()
            events.publish([event])
            fast.append((taken[event.event_id] - committed) * 1000)
            in_request.append((time.perf_counter() - committed) * 1000)
        config = stream_mapping()
        print(f"commit to SNS, one event at a time, median of {OUTBOX_EVENTS} (DynamoDB Local; SNS on moto in-process)")
        print(f"  fast path (in the request, after the commit)  {statistics.median(fast[1:]):8.1f} ms   "
              f"(the request waits {statistics.median(in_request[1:]):.1f} ms: publish + the outbox DeleteItem)")
        refuse[0] = True
        logging.disable(logging.ERROR)  # each refused fast path logs its exception: noise here
        invoke = outbox_handler()
        for window in (config.batching_window_seconds, 0.0):
            mapping = StreamMapping(resources.table_name, invoke, resources.outbox_failure_queue_url,
                                    replace(config, batching_window_seconds=window))
            mapping.drain()  # past what is already in the stream
            stop = threading.Event()

            def follow(mapping: StreamMapping = mapping, stop: threading.Event = stop) -> None:
                while not stop.is_set():
                    mapping.poll()
                    stop.wait(POLL_SECONDS)

            reader = threading.Thread(target=follow, daemon=True)
            reader.start()
            samples = []
            for _ in range(OUTBOX_EVENTS):
                event, committed = commit()
                events.publish([event])  # refused: the event waits for the stream
                while event.event_id not in taken:
                    time.sleep(0.002)
                samples.append((taken[event.event_id] - committed) * 1000)
            stop.set()
            reader.join()
            label = f"stream, {window:.0f} s batching window" + (" (template)" if window else " (the stream alone)")
            print(f"  {label:46} {statistics.median(samples):8.1f} ms   (min {min(samples):.0f}, max {max(samples):.0f}; "
                  f"polled every {POLL_SECONDS * 1000:.0f} ms)")
        logging.disable(logging.NOTSET)


# ------------------------------------------------------------ the audit trail
AUDIT_SIZES = (1_000, 100_000)  # entries in the tenant
AUDIT_SEALED = 10_000
AUDIT_WRITES = 30
AUDIT_READS = 10
AUDIT_ACTORS, AUDIT_TARGETS, AUDIT_JOBS = 50, 5_000, 100


def _fill_audit(tenant_id: str, count: int, start: Any) -> None:
    """`count` entries straight into the table, one every millisecond from `start`: AUDIT_ACTORS users
    changing AUDIT_TARGETS objects over AUDIT_JOBS jobs, as a busy tenant's trail would be."""
    from datetime import timedelta

    from sitegate import audit, ids
    from sitegate.data import aws, codec
    from sitegate.models.audit import Actor, ActorKind, AuditEntry, AuditTarget

    actions = sorted(a for a in audit.ACTIONS if a.startswith(("access.", "user.", "delivery.", "ticket.")))
    with aws.table().batch_writer() as batch:
        for n in range(count):
            actor = f"actor{n % AUDIT_ACTORS:03d}"
            at = start + timedelta(milliseconds=n)
            batch.put_item(Item=codec.item_of(AuditEntry(
                tenant_id=tenant_id, audit_id=ids.new_id(), at=audit.format_at(at),
                actor=Actor(kind=ActorKind.USER, user_id=actor, name=f"Actor {actor}", account_id="owner",
                            level="super_admin"),
                action=actions[n % len(actions)],
                target=AuditTarget(type="user", id=f"target{n % AUDIT_TARGETS:05d}", job_id=f"job{n % AUDIT_JOBS:03d}"),
                about_account_id=f"account{n % 20:02d}",
                before={"status": "active", "name": f"Person {n}"}, after={"status": "disabled", "name": f"Person {n}"},
                ttl=int(at.timestamp()) + 86400 * 2557)))


def audit_trail_costs() -> None:
    """What the audit trail adds and costs: one write (POST /vehicles) with and without its entry in the
    same run; GET /audit pages (unfiltered and each filter) with 1,000 and with 100,000 entries in the
    tenant; sealing 10,000 entries and verifying them."""
    from datetime import UTC, datetime

    from moto import mock_aws

    with mock_aws():
        _fresh_stack("bench-audit")
        from sitegate import audit, audit_trail, clock, keys
        from sitegate.data import aws, core
        from sitegate.models.audit import AuditEntry
        from tests.integration.conftest import Identity, call, operator_identity

        meter = Meter(aws.dynamodb_client())
        operator, tenants = operator_identity(), {}
        for size in AUDIT_SIZES:
            created = call("user_levels", "post_tenants.json", operator, headers={"idempotency-key": ""}, body={
                "name": f"Audit {size}", "admin_email": f"a{size}@bench.example", "admin_name": "Bench"}).body
            tenants[size] = Identity(created["tenant_id"], created["admin_user_id"], created["owner_account_id"])
        admin = tenants[AUDIT_SIZES[0]]

        print(f"audit trail: a write with and without its entry (POST /vehicles; median of {AUDIT_WRITES}; DynamoDB Local)")
        real_write, real_check = core.write, core.check_audited

        def without_entries(**kwargs: Any) -> None:
            kwargs["creates"] = [c for c in kwargs.get("creates", ()) if not isinstance(c.model, AuditEntry)]
            real_write(**kwargs)

        figures = {}
        for round_, label in enumerate(("with its entry", "without (entry dropped)", "with its entry, again")):
            plain = label.startswith("without")
            core.write, core.check_audited = (without_entries, lambda _ops: 0) if plain else (real_write, real_check)
            try:
                numbers = iter(range(10**6))
                shown, ms, reply = _measured(meter, lambda r=round_, n=numbers: call(
                    "user_levels", "post_vehicles.json", admin, headers={"idempotency-key": ""},
                    body={"name": "Truck", "registration": f"AU{r}X{next(n):05d}"}), AUDIT_WRITES, warm=5)
            finally:
                core.write, core.check_audited = real_write, real_check
            assert reply.status == 201, reply.body
            figures[label] = ms
            print(f"  {label:26s} {shown}, {ms:6.2f} ms per write")
        entry = max((i for shard in range(keys.AUDIT_SHARDS)
                     for i in core.query_all_items(keys.audit_history(admin.tenant_id, shard))), key=lambda i: str(i["SK"]))
        size_kb = len(json.dumps(entry, default=str)) / 1024
        indexed = sum(1 for name in ("GSI1PK", "GSI2PK", "GSI3PK", "GSI4PK", "GSI5PK") if name in entry)
        print(f"  the entry is one more item in the write's one TransactWriteItems (no extra call): about "
              f"{size_kb:.1f} KB, in the table and {indexed} indexes, so {2 * (1 + indexed) * -(-size_kb // 1):.0f} WCU "
              f"more per change (transactional writes cost 2 per KB); time with / without "
              f"{figures['with its entry'] / figures['without (entry dropped)']:.2f}x")

        start = datetime(2026, 11, 1, tzinfo=UTC)
        print(f"audit trail: GET /audit pages of 50 (median of {AUDIT_READS}; {AUDIT_ACTORS} actors, "
              f"{AUDIT_TARGETS} targets, {AUDIT_JOBS} jobs)")
        for size, who in tenants.items():
            began = time.perf_counter()
            _fill_audit(who.tenant_id, size, start)
            print(f"  {size:7d} entries written in {time.perf_counter() - began:5.1f} s")
        clock.freeze(start.replace(day=28))
        queries = {"newest, no filter": {}, "one target": {"target_id": "target00042"},
                   "one actor": {"actor_id": "actor007"}, "one job": {"job_id": "job013"},
                   "one action": {"action": "user.update"}, "one target, one action": {"target_id": "target00042",
                                                                                       "action": "access.grant"}}
        read_ms: dict[tuple[int, str], float] = {}
        for size, who in tenants.items():
            for name, query in queries.items():
                shown, ms, reply = _measured(meter, lambda q=query, w=who: call(
                    "user_levels", "get_audit.json", w, query={**q, "limit": "50"}), AUDIT_READS, warm=2)
                assert reply.status == 200, reply.body
                read_ms[size, name] = ms
                print(f"  {size:7d} entries, {name:24s} {shown}, {len(reply.body['items']):3d} answered, {ms:7.1f} ms")
        small, big = AUDIT_SIZES
        worst = max(read_ms[big, n] / read_ms[small, n] for n in queries)
        print(f"  time ratio {big} / {small} entries: at most {worst:.2f}x per filter (the calls above are the same; "
              "the larger tenant's pages answer more entries)")

        sealed_tenant = call("user_levels", "post_tenants.json", operator, headers={"idempotency-key": ""}, body={
            "name": "Audit seal", "admin_email": "seal@bench.example", "admin_name": "Bench"}).body
        seal_admin = Identity(sealed_tenant["tenant_id"], sealed_tenant["admin_user_id"], sealed_tenant["owner_account_id"])
        _fill_audit(seal_admin.tenant_id, AUDIT_SEALED, start)
        through = audit.format_at(start.replace(day=27))
        meter.clear()
        began, cpu = time.perf_counter(), time.process_time()
        report = audit_trail.seal_tenant(seal_admin.tenant_id, through)
        seal_s, seal_cpu = time.perf_counter() - began, time.process_time() - cpu
        print(f"audit trail: sealing and verifying {AUDIT_SEALED} entries (KMS and S3 on moto in-process)")
        print(f"  seal   {report.sealed:6d} entries: {meter}, {seal_s:5.2f} s ({seal_cpu:5.2f} s CPU)")
        meter.clear()
        began, cpu = time.perf_counter(), time.process_time()
        verified = call("user_levels", "get_audit_verify.json", seal_admin)
        verify_s, verify_cpu = time.perf_counter() - began, time.process_time() - cpu
        assert verified.status == 200 and verified.body["verified"], verified.body
        print(f"  verify {verified.body['checked']:6d} entries: {meter}, {verify_s:5.2f} s ({verify_cpu:5.2f} s CPU)")
        clock.unfreeze()


# `python -m bench.run [part ...]` runs those parts (`make bench`: all of them, in this order).
WHY_TENANT_USERS = 10_000  # users of the tenant
WHY_JOB_PEOPLE = (10, 1_000)  # of them, able to reach the measured job
WHY_STAFF = 5  # staff who see every job (they are on both jobs), beside the tenant's Super Admin
WHY_RUNS = 5


def _fill_why(tenant_id: str, owner: str, job_ids: dict[int, str]) -> None:
    """WHY_TENANT_USERS users straight into the table: WHY_STAFF staff seeing every job; for each measured job,
    companies on it (40 users each, all assigned) up to its people; the rest in companies on no measured job."""
    from sitegate.data import aws, codec
    from sitegate.models.stored import Account, JobGrant, User

    made = "2026-11-01T06:00:00+00:00"
    per_company, made_users = 40, 0
    with aws.table().batch_writer() as batch:
        def user(account_id: str, n: int, level: str, jobs: list[str]) -> None:
            batch.put_item(Item=codec.item_of(User(
                tenant_id=tenant_id, user_id=f"u{n:05d}", account_id=account_id, email=f"u{n}@bench.example",
                name=f"Person {n:05d}", level=level, job_ids=jobs, created_at=made, updated_at=made)))

        for n in range(WHY_STAFF):
            user(owner, n, "operations_user", [])
        made_users = WHY_STAFF
        # The tenant's Super Admin (made with it) sees every job too: a job's people are the staff and its companies'.
        on_job = {size: size - WHY_STAFF - 1 for size in WHY_JOB_PEOPLE}
        companies: list[tuple[str | None, int]] = [(job_ids[size], on_job[size]) for size in WHY_JOB_PEOPLE]
        companies.append((None, WHY_TENANT_USERS - WHY_STAFF - 1 - sum(on_job.values())))
        c = 0
        for job_id, people in companies:
            while people > 0:
                c += 1
                account_id = f"trade{c:04d}"
                batch.put_item(Item=codec.item_of(Account(tenant_id=tenant_id, account_id=account_id,
                                                          kind="trade_contractor", name=f"Trade {c:04d}",
                                                          created_at=made)))
                if job_id is not None:
                    batch.put_item(Item=codec.item_of(JobGrant(
                        tenant_id=tenant_id, job_id=job_id, job_number=job_id, account_id=account_id,
                        account_kind="trade_contractor", granted_by="bench", granted_at=made)))
                for _ in range(min(per_company, people)):
                    user(account_id, made_users, "manager", [job_id] if job_id else ["elsewhere"])
                    made_users += 1
                    people -= 1
    assert made_users == WHY_TENANT_USERS - 1, made_users


def why_and_who_can() -> None:
    """Explain against a plain decision (the policy alone, and the routes GET .../explain and GET /jobs/{id}), and
    the access report's calls and time for a job with 10 and with 1,000 people in a tenant of 10,000 users."""
    from moto import mock_aws

    with mock_aws():
        _fresh_stack("bench-why")
        from sitegate import policy
        from sitegate.data import aws
        from sitegate.models.stored import Account, JobGrant, User
        from tests.integration.conftest import Identity, call, operator_identity

        # The policy alone: a plain decision, then explain's decision and path, for the same person
        made = "2026-11-01T06:00:00+00:00"
        account = Account(tenant_id="t", account_id="a", kind="customer", name="Beca", created_at=made)
        person = policy.Caller(User(tenant_id="t", user_id="u", account_id="a", email="u@x.example", name="U",
                                    level="manager", job_ids=["j"], created_at=made, updated_at=made), account)
        facts = policy.JobFacts("j", JobGrant(tenant_id="t", job_id="j", job_number="J", account_id="a",
                                              account_kind="customer", granted_by="s", granted_at=made))
        from sitegate import explain

        def plain() -> None:
            policy.decide(person, "tickets.view", job=facts)

        def explained() -> None:
            policy.decide_job_action(person, "tickets.view", facts)
            explain.path_of(person.user, person.account, facts, None)

        rounds = 20_000
        timings = {}
        for name, action in (("plain", plain), ("explain", explained)):
            samples = []
            for _ in range(5):
                started = time.perf_counter()
                for _ in range(rounds):
                    action()
                samples.append((time.perf_counter() - started) / rounds * 1e6)
            timings[name] = statistics.median(samples)
        print("why, and who can")
        print(f"  the policy alone (median of 5 x {rounds:,}): a plain decision {timings['plain']:.1f} us, explain's "
              f"decision and path {timings['explain']:.1f} us ({timings['explain'] / timings['plain']:.1f}x)")

        created = call("user_levels", "post_tenants.json", operator_identity()).body
        tenant_id, owner = created["tenant_id"], created["owner_account_id"]
        admin = Identity(tenant_id, created["admin_user_id"], owner)
        job_ids = {size: call("job_access", "post_jobs.json", admin, headers={"idempotency-key": ""},
                              body={"job_number": f"W{size}", "name": "Bench"}).body["job_id"] for size in WHY_JOB_PEOPLE}
        _fill_why(tenant_id, owner, job_ids)
        meter = Meter(aws.dynamodb_client())
        someone = Identity(tenant_id, "u00007", "trade0001")  # a manager on the small job
        small = job_ids[WHY_JOB_PEOPLE[0]]
        route, route_ms, _ = _measured(meter, lambda: call("job_access", "get_job_tickets.json", someone,
                                                           path={"job_id": small}), WHY_RUNS * 4, warm=3)
        asked, asked_ms, reply = _measured(meter, lambda: call(
            "job_access", "get_job_explain.json", admin, path={"job_id": small},
            query={"action": "tickets.view", "user_id": someone.user_id}), WHY_RUNS * 4, warm=3)
        assert reply.status == 200, reply.body
        print(f"  the route: GET /jobs/{{id}}/tickets as the person {route}, {route_ms:6.1f} ms; GET .../explain about "
              f"it {asked}, {asked_ms:6.1f} ms ({asked_ms / route_ms:.2f}x)")
        figures = {}
        for size in WHY_JOB_PEOPLE:
            shown, ms, reply = _measured(meter, lambda j=job_ids[size]: call(
                "job_access", "get_job_access_report.json", admin, path={"job_id": j}, query={}), WHY_RUNS)
            assert reply.status == 200 and len(reply.body["items"]) == size, (size, len(reply.body["items"]))
            figures[size] = ms
            print(f"  access report, a job with {size:5d} people (tenant of {WHY_TENANT_USERS:,} users): {shown}, "
                  f"{ms:8.1f} ms")
        print(f"  ratio {WHY_JOB_PEOPLE[-1]} / {WHY_JOB_PEOPLE[0]} people: "
              f"{figures[WHY_JOB_PEOPLE[-1]] / figures[WHY_JOB_PEOPLE[0]]:.1f}x")


TAX_SIZES = (1_000, 10_000)  # staff users of the tenant, each with a month of history
TAX_RUNS = 3


def tax_invoices() -> None:
    """Finalize, credit and render the PDF of September's invoice for a tenant of 1,000 and of 10,000 staff:
    calls and time per route (the handler, DynamoDB Local); and what fpdf2's import costs the billing function
    (a fresh process: the billing function's import, then its first PDF, against a PDF made after a warm one)."""
    from datetime import UTC, datetime

    from moto import mock_aws

    with mock_aws():
        _fresh_stack("bench-tax")
        from sitegate import billing, clock, invoices
        from sitegate.data import aws, tenant_store
        from tests.billing_data import write_billing_users
        from tests.integration.conftest import Identity, call, operator_identity

        operator = operator_identity()
        meter = Meter(aws.dynamodb_client())
        call("billing", "put_platform_supplier.json", operator)
        print(f"tax invoices (median of {TAX_RUNS}; DynamoDB Local)")
        for size in TAX_SIZES:
            clock.freeze(datetime(2026, 8, 1, tzinfo=UTC))
            created = call("user_levels", "post_tenants.json", operator, headers={"idempotency-key": ""},
                           body={"name": f"Tax {size}", "admin_email": f"t{size}@bench.example",
                                 "admin_name": "Admin"}).body
            write_billing_users(created["tenant_id"], created["owner_account_id"], size)
            admin = Identity(created["tenant_id"], created["admin_user_id"], created["owner_account_id"])
            call("billing", "put_billing_details.json", admin)
            clock.freeze(datetime(2026, 10, 1, 12, tzinfo=UTC))
            tenant = tenant_store.get_tenant(admin.tenant_id)
            assert tenant is not None
            meter.clear()
            started = time.perf_counter()
            assert invoices.issue(tenant, billing.parse_period("2026-09", tenant.timezone)) == "issued"
            print(f"  {size:6d} staff: the draft (the monthly run's part) {meter}, "
                  f"{(time.perf_counter() - started) * 1000:7.1f} ms")
            meter.clear()
            started = time.perf_counter()
            reply = call("billing", "post_invoice_finalize.json", admin, path={"period": "2026-09"})
            assert reply.status == 200, reply.body
            print(f"  {'':6s}        finalize {meter}, {(time.perf_counter() - started) * 1000:7.1f} ms "
                  f"({reply.body['number']}, total {reply.body['total']})")
            shown, ms, reply = _measured(meter, lambda a=admin: call(
                "billing", "post_invoice_credit_notes.json", a, path={"period": "2026-09"},
                body={"amount": "1.00", "reason": "bench"}, headers={"idempotency-key": ""}), TAX_RUNS, warm=0)
            assert reply.status == 201, reply.body
            print(f"  {'':6s}        a credit note {shown}, {ms:7.1f} ms")
            shown, ms, reply = _measured(meter, lambda a=admin: call(
                "billing", "get_invoice_pdf.json", a, path={"period": "2026-09"}), TAX_RUNS)
            assert reply.status == 200
            print(f"  {'':6s}        the PDF {shown}, {ms:7.1f} ms, {len(reply.body or '') * 3 // 4:,} bytes")
    app = "import functions.billing.app"
    cold = [import_seconds(app)[0] for _ in range(5)]
    first_pdf = [import_seconds(f"{app}; import fpdf")[0] for _ in range(5)]
    print(f"  the billing function's import (fresh process, median of 5): {statistics.median(cold) * 1000:.0f} ms; "
          f"with fpdf2 too: {statistics.median(first_pdf) * 1000:.0f} ms (fpdf2 is imported by the first PDF only, "
          f"so its {(statistics.median(first_pdf) - statistics.median(cold)) * 1000:.0f} ms fall on that request, "
          "not on the cold start)")


PARTS = {"imports": import_times, "calls": dynamodb_calls, "alerts": alert_calls, "engine": engine_scale,
         "fanout": billing_fan_out, "billing": billing_scale, "booking": booking, "outbox": outbox_latency,
         "etas": etas, "dashboard": dashboard, "preview": preview_scale, "audit": audit_trail_costs,
         "why": why_and_who_can, "tax": tax_invoices}
ALIASES = {"--booking": "booking", "--outbox": "outbox", "--imports": "imports"}  # the older spelling of one part alone


def main(args: list[str]) -> None:
    wanted = [ALIASES.get(a, a) for a in args] or list(PARTS)
    unknown = [a for a in wanted if a not in PARTS]
    if unknown:
        raise SystemExit(f"unknown part {', '.join(unknown)}: choose from {', '.join(PARTS)}")
    if "imports" in wanted:
        import_times()
    if wanted == ["imports"]:
        return
    sys.path[:0] = [str(ROOT / "layers/shared"), str(ROOT)]
    for name, part in PARTS.items():
        if name in wanted and name != "imports":
            # A fresh engine per part: after the billing, ETA and dashboard parts, one engine took about
            # 30 items a second in BatchWriteItem where a fresh one takes over 1,000 (tables dropped or not).
            engine = _local_aws()
            try:
                part()
            finally:
                engine.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
