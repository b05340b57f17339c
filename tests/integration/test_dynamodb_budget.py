"""Cost from day one: a request spends one DynamoDB read to authorize itself (caller, and for
job routes the job, the account's entry and the user's role with it) before its own work, and
no code path scans. Counted with botocore's before-call events."""

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from sitegate import audit, keys
from sitegate.data import aws, codec
from sitegate.models.stored import Ticket
from tests.integration.conftest import Identity, call

READS_BEFORE_OWN_WORK = 1


def test_get_me_stays_within_read_budget(super_admin, dynamodb_calls):
    # When
    reply = call("user_levels", "get_me.json", super_admin)
    # Then
    assert reply.status == 200
    assert sum(dynamodb_calls.values()) <= READS_BEFORE_OWN_WORK, dynamodb_calls
    assert "Scan" not in dynamodb_calls


def test_refused_caller_costs_one_call(super_admin, dynamodb_calls):
    # Given: a user id the tenant does not have
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


def _job(admin) -> str:
    reply = call("job_access", "post_jobs.json", admin)
    assert reply.status == 201, reply.body
    return reply.body["job_id"]


def test_authorized_job_request_stays_within_read_budget(super_admin, dynamodb_calls):
    # Given
    job_id = _job(super_admin)
    dynamodb_calls.clear()
    # When
    reply = call("job_access", "get_job.json", super_admin, path={"job_id": job_id})
    # Then: the caller, the job, the caller's entry and role: one call
    assert reply.status == 200
    assert dict(dynamodb_calls) == {"BatchGetItem": READS_BEFORE_OWN_WORK}


def test_job_request_of_a_connected_account_user_stays_within_budget(super_admin, dynamodb_calls):
    # Given: a limited inspection firm's administrator on the job
    job_id = _job(super_admin)
    firm = call("user_levels", "post_accounts.json", super_admin,
                body={"kind": "inspection_firm", "name": "Inspectors", "admin": {"email": "i@f.example", "name": "I"}}).body
    call("job_access", "post_job_access.json", super_admin, path={"job_id": job_id},
         body={"account_id": firm["account_id"], "access_type": "limited"})
    users = call("user_levels", "get_users.json", super_admin, query={"account_id": firm["account_id"]}).body["items"]
    inspector = Identity(super_admin.tenant_id, users[0]["user_id"], firm["account_id"])
    dynamodb_calls.clear()
    # When
    reply = call("job_access", "get_job_tickets.json", inspector, path={"job_id": job_id})
    # Then: one read to authorize, one query for its own work
    assert reply.status == 200
    assert dict(dynamodb_calls) == {"BatchGetItem": READS_BEFORE_OWN_WORK, "Query": 1}


# ---------------------------------------------- every job-scoped route: ONE read authorizes it
@dataclass
class Read:
    operation: str
    keys: set[tuple[str, str]]  # the (PK, SK) pairs a GetItem / BatchGetItem asked for


def _keys_asked(body: dict) -> set[tuple[str, str]]:
    found: list[dict] = [body["Key"]] if "Key" in body else []
    for request in body.get("RequestItems", {}).values():
        found += request.get("Keys", [])
    return {(k["PK"]["S"], k["SK"]["S"]) for k in found}


@pytest.fixture
def dynamodb_reads(resources) -> Iterator[list[Read]]:
    reads: list[Read] = []

    def record(model, params, **_kwargs) -> None:
        body = json.loads(params.get("body") or b"{}")
        reads.append(Read(model.name, _keys_asked(body)))

    events = aws.dynamodb_client().meta.events
    events.register("before-call.dynamodb", record)
    yield reads
    events.unregister("before-call.dynamodb", record)


def _on_job(admin: Identity) -> dict[str, str]:
    """A job with a vendor on its access list and an en-route ticket: every route has something to act on."""
    job_id = _job(admin)
    vendor = call("user_levels", "post_accounts.json", admin, body={"kind": "vendor", "name": "Vendor"}).body
    granted = call("job_access", "post_job_access.json", admin, path={"job_id": job_id},
                   body={"account_id": vendor["account_id"]})
    assert granted.status == 201, granted.body
    ticket = call("job_access", "post_job_tickets.json", admin, path={"job_id": job_id})
    assert ticket.status == 201, ticket.body
    return {"job_id": job_id, "account_id": vendor["account_id"], "user_id": admin.user_id,
            "ticket_id": ticket.body["ticket_id"]}


JOB_ROUTES = [  # (event, path parameters, status): every job-scoped route of job_access
    ("get_job.json", ("job_id",), 200),
    ("patch_job.json", ("job_id",), 200),
    ("get_job_access.json", ("job_id",), 200),
    ("post_job_access.json", ("job_id",), 201),  # the limited-firm body: a grant or its 4xx, after authorizing
    ("delete_job_access.json", ("job_id", "account_id"), 204),
    ("get_job_members.json", ("job_id",), 200),
    ("put_job_member.json", ("job_id", "user_id"), 200),
    ("post_job_tickets.json", ("job_id",), 201),
    ("patch_job_ticket.json", ("job_id", "ticket_id"), 200),
    ("get_job_tickets.json", ("job_id",), 200),
    ("get_job_etas.json", ("job_id",), 200),
    ("post_job_ticket_unload.json", ("job_id", "ticket_id"), 200),
    ("post_job_records.json", ("job_id",), 201),
    ("get_job_records.json", ("job_id",), 200),
    ("post_job_archive.json", ("job_id",), 200),
    ("delete_job.json", ("job_id",), 204),
]


@pytest.mark.parametrize(("event", "params", "status"), [
    pytest.param(event, params, status, id=event.removesuffix(".json")) for event, params, status in JOB_ROUTES])
def test_every_job_route_is_authorized_in_one_read(super_admin, dynamodb_reads, event, params, status):
    # Given: a job with something on it for every route
    on_job = _on_job(super_admin)
    tenant, job_id = super_admin.tenant_id, on_job["job_id"]
    authorizing = {keys_of(keys.user(tenant, super_admin.user_id)), keys_of(keys.account(tenant, super_admin.account_id)),
                   keys_of(keys.job(tenant, job_id)), keys_of(keys.job_grant(tenant, job_id, super_admin.account_id)),
                   keys_of(keys.project_role(tenant, job_id, super_admin.user_id)),
                   keys_of(keys.setting(tenant, audit.RETENTION_SETTING))}  # the audit entries' expiry, read with them
    body = {"account_id": on_job["account_id"]} if event == "post_job_access.json" else None
    dynamodb_reads.clear()
    # When
    reply = call("job_access", event, super_admin, path={p: on_job[p] for p in params}, body=body,
                 headers={"idempotency-key": ""} if event.startswith("post") else None)
    # Then: the first call reads the caller, the job, the entry and the role, all at once ...
    assert reply.status in (status, 409), reply.body  # 409: the vendor is already on the list
    first, *rest = dynamodb_reads
    assert first.operation == "BatchGetItem"
    assert first.keys == authorizing
    # ... and nothing after it reads the caller's user, the job, the entry or the role again
    # (the directory reads every company on the job, the caller's own included, as its own work)
    again = authorizing - {keys_of(keys.account(tenant, super_admin.account_id))}
    assert not [r for r in rest if r.keys & again], rest


def keys_of(key: dict[str, str]) -> tuple[str, str]:
    return key["PK"], key["SK"]


HISTORY_TICKETS = 450  # more than two of the old read's Query pages (200 tickets each)


def _ticket_history(job_id: str, tenant_id: str, count: int) -> None:
    """`count` tickets done with, or loaded and not yet sent, written straight through the codec."""
    made = "2026-11-01T06:00:00+13:00"
    with aws.table().batch_writer() as batch:
        for n in range(count):
            status = ("loaded", "unloaded", "rejected")[n % 3]
            done = {"unloaded_by": "u", "unloaded_at": made} if status != "loaded" else {}
            batch.put_item(Item=codec.item_of(Ticket(
                tenant_id=tenant_id, job_id=job_id, ticket_id=f"old{n:05d}", ticket_number=f"OLD-{n}", material="m",
                quantity="1.000", unit="t", truck="T", status=status, created_at=made, **done)))


def test_etas_cost_the_same_whatever_the_tickets_done_with(super_admin, dynamodb_calls):
    # Given: a job with one truck on the road, one unloaded and one turned away (through the routes)
    on_job = _on_job(super_admin)
    job_id, tenant = on_job["job_id"], super_admin.tenant_id
    for accepted in (True, False):
        ticket = call("job_access", "post_job_tickets.json", super_admin, path={"job_id": job_id},
                      body={"ticket_number": f"T-{accepted}", "material": "m", "quantity": 1, "unit": "t", "truck": "T",
                            "status": "en_route", "eta": "2026-11-23T10:30:00+13:00"}, headers={"idempotency-key": ""})
        call("job_access", "post_job_ticket_unload.json", super_admin,
             path={"job_id": job_id, "ticket_id": ticket.body["ticket_id"]}, body={"accepted": accepted})
    read: list[int] = []

    def scanned(model, parsed, **_kwargs) -> None:
        if model.name == "Query":
            read.append(parsed["ScannedCount"])

    events = aws.dynamodb_client().meta.events
    events.register("after-call.dynamodb", scanned)

    def etas() -> dict[str, int]:
        dynamodb_calls.clear()
        read.clear()
        reply = call("job_access", "get_job_etas.json", super_admin, path={"job_id": job_id})
        assert reply.status == 200 and len(reply.body["items"]) == 1, reply.body
        return dict(dynamodb_calls)

    # When: ETAs with few tickets, then with hundreds more the job is done with or has not sent yet
    few, few_read = etas(), list(read)
    _ticket_history(job_id, tenant, HISTORY_TICKETS)
    many, many_read = etas(), list(read)
    events.unregister("after-call.dynamodb", scanned)
    # Then: one read authorizes, one Query reads the truck on the road and nothing else, both times
    assert few == many == {"BatchGetItem": READS_BEFORE_OWN_WORK, "Query": 1}
    assert few_read == many_read == [1]


# ------------------------------------------ delivery_approvals: every job route authorized in ONE read
def _on_delivery_job(admin: Identity) -> dict[str, str]:
    """A job with a gate, the admin as its GC lead, a delivery pending the GC's approval (requested by a
    GC member) and an open job request: every delivery_approvals route has something to act on."""
    on_job = _on_job(admin)
    job_id = on_job["job_id"]
    gate = call("delivery_approvals", "post_job_locations.json", admin, path={"job_id": job_id},
                body={"name": "Gate 1", "kind": "gate"}).body["location_id"]
    member = call("user_levels", "post_users.json", admin,
                  body={"email": "m@gc.example", "name": "GC member", "level": "basic_user_plus"}).body
    member_id = Identity(admin.tenant_id, member["user_id"], admin.account_id)
    for who, role in ((admin, "lead"), (member_id, "member")):
        call("job_access", "put_job_member.json", admin, path={"job_id": job_id, "user_id": who.user_id}, body={"role": role})
    delivery = call("delivery_approvals", "post_job_deliveries.json", member_id, path={"job_id": job_id},
                    body={"for_account_id": admin.account_id, "location_id": gate,
                          "start": "2026-11-30T08:00:00+13:00", "end": "2026-11-30T08:30:00+13:00"})
    assert delivery.status == 201, delivery.body
    customer = call("user_levels", "post_accounts.json", admin,
                    body={"kind": "customer", "name": "C", "admin": {"email": "c@c.example", "name": "C"}}).body
    call("job_access", "post_job_access.json", admin, path={"job_id": job_id}, body={"account_id": customer["account_id"]})
    users = call("user_levels", "get_users.json", admin, query={"account_id": customer["account_id"]}).body["items"]
    requester = Identity(admin.tenant_id, users[0]["user_id"], customer["account_id"])
    request = call("delivery_approvals", "post_job_requests.json", requester, path={"job_id": job_id},
                   body={"title": "Sweep", "description": "Road"})
    assert request.status == 201, request.body
    return {**on_job, "location_id": gate, "delivery_id": delivery.body["delivery_id"],
            "request_id": request.body["request_id"]}


DELIVERY_ROUTES = [  # (event, path parameters, body, status)
    ("get_job_locations.json", ("job_id",), None, 200),
    ("post_job_locations.json", ("job_id",), {"name": "Gate 2", "kind": "gate"}, 201),
    ("get_job_equipment.json", ("job_id",), None, 200),
    ("post_job_equipment.json", ("job_id",), {"name": "Crane"}, 201),
    ("post_job_deliveries.json", ("job_id",), "BOOKING", 201),
    ("get_job_deliveries.json", ("job_id",), None, 200),
    ("get_job_delivery.json", ("job_id", "delivery_id"), None, 200),
    ("post_job_delivery_approve.json", ("job_id", "delivery_id"), None, 200),
    ("post_job_delivery_reject.json", ("job_id", "delivery_id"), {"reason": "no"}, 200),
    ("post_job_delivery_cancel.json", ("job_id", "delivery_id"), None, 200),
    ("get_job_requests.json", ("job_id",), None, 200),
    ("patch_job_request.json", ("job_id", "request_id"), None, 200),
]


@pytest.mark.parametrize(("event", "params", "body", "status"), [
    pytest.param(*route, id=route[0].removesuffix(".json")) for route in DELIVERY_ROUTES])
def test_every_delivery_route_is_authorized_in_one_read(super_admin, dynamodb_reads, event, params, body, status):
    # Given
    on_job = _on_delivery_job(super_admin)
    tenant, job_id = super_admin.tenant_id, on_job["job_id"]
    authorizing = {keys_of(keys.user(tenant, super_admin.user_id)), keys_of(keys.account(tenant, super_admin.account_id)),
                   keys_of(keys.job(tenant, job_id)), keys_of(keys.job_grant(tenant, job_id, super_admin.account_id)),
                   keys_of(keys.project_role(tenant, job_id, super_admin.user_id)),
                   keys_of(keys.setting(tenant, audit.RETENTION_SETTING))}  # the audit entries' expiry, read with them
    if body == "BOOKING":
        body = {"for_account_id": super_admin.account_id, "location_id": on_job["location_id"],
                "start": "2026-11-30T09:00:00+13:00", "end": "2026-11-30T09:30:00+13:00"}
    dynamodb_reads.clear()
    # When
    reply = call("delivery_approvals", event, super_admin, path={p: on_job[p] for p in params}, body=body,
                 headers={"idempotency-key": ""})
    # Then: one read authorizes, and nothing after it reads the caller, the job, the entry or the role again
    assert reply.status == status, reply.body
    first, *rest = dynamodb_reads
    assert first.operation == "BatchGetItem"
    assert first.keys == authorizing
    again = authorizing - {keys_of(keys.account(tenant, super_admin.account_id))}
    assert not [r for r in rest if r.keys & again], rest
    assert "Scan" not in {r.operation for r in rest}


def test_a_booking_costs_the_same_whatever_the_deliveries_on_the_job(super_admin, dynamodb_calls):
    # Given: a job with a gate and its GC lead
    on_job = _on_delivery_job(super_admin)

    def book(hour: int) -> dict:
        dynamodb_calls.clear()
        reply = call("delivery_approvals", "post_job_deliveries.json", super_admin, path={"job_id": on_job["job_id"]},
                     body={"for_account_id": super_admin.account_id, "location_id": on_job["location_id"],
                           "start": f"2026-12-01T{hour:02d}:00:00+13:00", "end": f"2026-12-01T{hour:02d}:30:00+13:00"},
                     headers={"idempotency-key": ""})
        assert reply.status == 201, reply.body
        return dict(dynamodb_calls)

    # When: the first booking of the day, and one after ten more
    first = book(0)
    for hour in range(1, 11):
        book(hour)
    later = book(11)
    # Then: authorize, read what it books, write it with its event, empty the outbox
    assert first == later == {"BatchGetItem": 2, "TransactWriteItems": 1, "DeleteItem": 1}
