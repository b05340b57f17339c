"""The audit trail: an entry per change in the change's transaction, its readers and filters,
sealing to signed Object Lock copies, and verify catching every kind of tampering."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.gateway import LambdaContext
from sitegate import audit, audit_trail, clock
from sitegate.data import core
from tests.integration.conftest import Identity, call, handler, table_items

PEOPLE = {"email": "ann@acme.example", "name": "Ann Operator", "level": "operations_user"}


def _entries() -> list[dict[str, Any]]:
    """The stored entries, oldest first, with before/after read back from their JSON text."""
    items = sorted((i for i in table_items() if i["entity"] == "AuditEntry"), key=lambda i: i["SK"])
    return [{**i, **{side: json.loads(i[side]) for side in ("before", "after") if side in i}} for i in items]


def _key(email: str) -> str:
    return "k-" + email.replace("@", ".")


def _make_user(who: Identity, **body: Any) -> dict[str, Any]:
    reply = call("user_levels", "post_users.json", who, body={**PEOPLE, **body},
                 headers={"idempotency-key": _key(body.get("email", PEOPLE["email"]))})
    assert reply.status == 201, reply.body
    return reply.body


def _read(who: Identity, **query: str) -> Any:
    return call("user_levels", "get_audit.json", who, query=query)


def _seal(tenant_id: str) -> dict[str, Any]:
    event = json.loads(Path("events/billing/sqs_seal_tenant.json").read_text())
    through = audit.format_at(max(clock.now(), audit.last_stamp()))
    event["Records"][0]["body"] = json.dumps({"kind": "audit.seal", "tenant_id": tenant_id, "through": through})
    reply = handler("billing")(event, LambdaContext("billing"))
    assert reply == {"batchItemFailures": []}
    return {"through": through}


def _verify(who: Identity, **query: str) -> Any:
    reply = call("user_levels", "get_audit_verify.json", who, query=query)
    assert reply.status == 200, reply.body
    return reply.body


# ------------------------------------------------------------------ writing
def test_a_change_writes_one_entry_with_actor_request_and_before_after(super_admin):
    # Given
    made = _make_user(super_admin)
    # When
    reply = call("user_levels", "post_user_disable.json", super_admin, path={"user_id": made["user_id"]})
    # Then
    assert reply.status == 200
    disabled = [e for e in _entries() if e["action"] == "user.disable"]
    assert len(disabled) == 1
    entry = disabled[0]
    assert entry["actor"]["user_id"] == super_admin.user_id and entry["actor"]["level"] == "super_admin"
    assert entry["target"] == {"type": "user", "id": made["user_id"]}
    assert entry["before"]["status"] == "active" and entry["after"]["status"] == "disabled"
    assert "version" not in entry["after"]
    assert entry["request"]["source_ip"] == "203.0.113.10" and entry["request"]["user_agent"] == "curl/8"
    assert entry["request"]["request_id"]
    created = [e for e in _entries() if e["action"] == "user.create" and e["target"]["id"] == made["user_id"]]
    assert created[0]["request"]["idempotency_key"] == _key(PEOPLE["email"])
    assert "before" not in created[0] and created[0]["after"]["email"] == PEOPLE["email"]


def test_a_refused_or_failed_request_writes_no_entry(super_admin):
    # Given
    before = len(_entries())
    view_user = _make_user(super_admin, email="v@acme.example", level="view_user")
    after_create = len(_entries())
    viewer = Identity(super_admin.tenant_id, view_user["user_id"], super_admin.account_id)
    # When: refused (403), invalid (422), conflicting (409)
    refused = call("user_levels", "post_users.json", viewer, body={**PEOPLE, "email": "x@acme.example"})
    invalid = call("user_levels", "post_users.json", super_admin, body={**PEOPLE, "level": "nope"})
    clash = call("user_levels", "post_users.json", super_admin, body={**PEOPLE, "email": "v@acme.example"})
    # Then
    assert (refused.status, invalid.status, clash.status) == (403, 422, 409)
    assert after_create > before
    assert len(_entries()) == after_create


def test_core_refuses_an_audited_change_without_its_entry(super_admin):
    # Given: a user read as stored
    from sitegate.data import user_store

    user = user_store.get_user(super_admin.tenant_id, super_admin.user_id)
    assert user is not None
    # When / Then: nothing is written
    with pytest.raises(core.Unaudited):
        core.write(replaces=[core.Replace(user.changed(name="Sneaky", version=user.version + 1))])
    assert user_store.get_user(super_admin.tenant_id, super_admin.user_id).name == user.name


def test_entries_count_in_the_transaction_limit():
    # Given: 50 changes of audited objects, each with its entry (100 items): one transaction each 100 items
    changes = [[object()] * 2 for _ in range(75)]
    # When
    chunks = core.chunks_of(changes)  # type: ignore[arg-type]
    # Then: never more than 100 items, and no change split across two transactions
    assert [len(c) for c in chunks] == [100, 50]


def test_operator_making_a_tenant_starts_its_trail_as_operator(super_admin, operator):
    # When: the fixture made the tenant
    made = [e for e in _entries() if e["PK"].startswith(f"T#{super_admin.tenant_id}#")]
    # Then
    assert {e["action"] for e in made} >= {"tenant.create", "account.create", "user.create"}
    assert all(e["actor"]["kind"] == "operator" and e["actor"]["user_id"] == operator.user_id for e in made)


def test_entries_spread_over_shards_not_one_key(super_admin):
    # When
    for n in range(24):
        _make_user(super_admin, email=f"p{n}@acme.example")
    # Then: the tenant's history lies on several partition keys
    partitions = Counter(e["PK"] for e in _entries() if e["PK"].startswith(f"T#{super_admin.tenant_id}#AUDIT#"))
    assert len(partitions) >= 4
    assert max(partitions.values()) < sum(partitions.values())


def test_an_acknowledgment_is_an_entry_once(super_admin):
    # Given: a job with the super admin as lead, and an alert to it
    job = call("job_access", "post_jobs.json", super_admin, body={"job_number": "A-1", "name": "Audit job"},
               headers={"idempotency-key": "job-a1"}).body
    role = call("job_access", "put_job_member.json", super_admin, path={"job_id": job["job_id"],
                                                                        "user_id": super_admin.user_id},
                body={"role": "lead"})
    assert role.status == 200, role.body
    alert = call("notifications", "post_alerts.json", super_admin, path={"job_id": job["job_id"]},
                 body={"message": "Evacuate"}, headers={"idempotency-key": "alert-1"})
    assert alert.status == 202 or alert.status == 201, alert.body
    path = {"job_id": job["job_id"], "alert_id": alert.body["alert_id"]}
    # When
    first = call("notifications", "post_alert_ack.json", super_admin, path=path)
    again = call("notifications", "post_alert_ack.json", super_admin, path=path)
    # Then
    assert first.status == again.status == 200
    assert first.body["acknowledged_at"] == again.body["acknowledged_at"]
    acks = [e for e in _entries() if e["action"] == "alert.acknowledge"]
    assert len(acks) == 1 and acks[0]["target"]["job_id"] == job["job_id"]
    assert {e["action"] for e in _entries() if e["target"].get("job_id") == job["job_id"]} >= {
        "job.create", "role.set", "alert.send", "alert.acknowledge"}


# ------------------------------------------------------------------ reading
def test_super_admin_reads_newest_first_in_pages_and_reading_is_an_entry(super_admin):
    # Given
    for n in range(5):
        _make_user(super_admin, email=f"page{n}@acme.example")
    # When
    first = _read(super_admin, action="user.create", limit="2")
    second = _read(super_admin, action="user.create", limit="2", cursor=first.body["next_cursor"])
    # Then
    assert first.status == second.status == 200
    ats = [e["at"] for e in first.body["items"] + second.body["items"]]
    assert ats == sorted(ats, reverse=True) and len(set(ats)) == 4
    assert not {e["audit_id"] for e in first.body["items"]} & {e["audit_id"] for e in second.body["items"]}
    assert [e for e in _entries() if e["action"] == "audit.read"][-1]["actor"]["user_id"] == super_admin.user_id


def test_every_filter_narrows_by_its_own_key(super_admin, dynamodb_calls):
    # Given
    ann = _make_user(super_admin)
    bob = _make_user(super_admin, email="bob@acme.example", name="Bob")
    call("user_levels", "post_user_disable.json", super_admin, path={"user_id": ann["user_id"]})
    # When / Then: by target
    by_target = _read(super_admin, target_id=ann["user_id"]).body["items"]
    assert {e["action"] for e in by_target} == {"user.create", "user.disable"}
    # by actor and action together
    both = _read(super_admin, actor_id=super_admin.user_id, action="user.disable").body["items"]
    assert [e["target"]["id"] for e in both] == [ann["user_id"]]
    # by time range: nothing before the tenant existed
    assert _read(super_admin, to="2000-01-01T00:00:00Z").body["items"] == []
    # a target read is one Query (a single-partition list), not a scan of the tenant
    dynamodb_calls.clear()
    _read(super_admin, target_id=bob["user_id"])
    assert dynamodb_calls["Query"] == 1 and "Scan" not in dynamodb_calls


def test_lower_levels_are_refused_and_account_admins_see_only_their_account(super_admin):
    # Given: an operations user, and a customer account with its administrator
    ops = _make_user(super_admin, email="ops@acme.example")
    account = call("user_levels", "post_accounts.json", super_admin,
                   body={"kind": "customer", "name": "Cust Co",
                         "admin": {"email": "cadmin@cust.example", "name": "Cee"}},
                   headers={"idempotency-key": "acct-cust"})
    assert account.status == 201, account.body
    other = call("user_levels", "post_accounts.json", super_admin, body={"kind": "vendor", "name": "Other Co"},
                 headers={"idempotency-key": "acct-other"}).body
    admin_id = next(i["user_id"] for i in table_items()
                    if i["entity"] == "User" and i["account_id"] == account.body["account_id"])
    cust_admin = Identity(super_admin.tenant_id, admin_id, account.body["account_id"])
    # When
    refused = _read(Identity(super_admin.tenant_id, ops["user_id"], super_admin.account_id))
    own = _read(cust_admin)
    forged = _read(cust_admin, target_id=other["account_id"])
    verify = call("user_levels", "get_audit_verify.json", cust_admin)
    # Then
    assert refused.status == 403 and verify.status == 403
    assert own.status == 200 and own.body["items"]
    assert all(e["target"]["id"] in (account.body["account_id"], admin_id) or e["action"].startswith("audit.")
               for e in own.body["items"])
    assert forged.status == 200 and forged.body["items"] == []


def test_financial_fields_only_with_financial_view(super_admin):
    # Given: a job with prices, and a tmp_designer_plus (no financial.view) who reads... no: only super_admin
    # has audit.view, and it has financial.view; an account admin reads entries without prices.
    job = call("job_access", "post_jobs.json", super_admin,
               body={"job_number": "F-1", "name": "Priced", "cost_price": "10.00", "charge_price": "12.00"},
               headers={"idempotency-key": "job-f1"})
    assert job.status == 201, job.body
    # When
    shown = _read(super_admin, target_id=job.body["job_id"]).body["items"][0]
    entry = next(e for e in _entries() if e["target"]["id"] == job.body["job_id"])
    hidden = audit_trail._out(core.models_of(audit_trail.AuditEntry, [entry])[0], financial=False)
    # Then
    assert shown["after"]["cost_price"] == "10.00"
    assert "cost_price" not in hidden.after and "charge_price" not in hidden.after


def test_bad_filters_are_a_clear_422(super_admin):
    for query in ({"cursor": "bm9wZQ"}, {"action": "user.fly"}, {"from": "yesterday"},
                  {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, {"actor_id": "a#b"},
                  {"limit": "0"}, {"from": "2026-01-01T00:00:00"}):
        reply = _read(super_admin, **query)
        assert reply.status == 422, (query, reply.body)
    assert all(e["action"] != "audit.read" for e in _entries())  # refused reads are not recorded


def test_another_tenants_entries_are_never_read(super_admin, operator):
    # Given: a second tenant with its own changes
    other = call("user_levels", "post_tenants.json", operator,
                 body={"name": "Beta", "admin_email": "b@beta.example", "admin_name": "B"},
                 headers={"idempotency-key": "t-beta"}).body
    # When
    mine = _read(super_admin, target_id=other["admin_user_id"])
    everything = _read(super_admin, limit="200")
    # Then
    assert mine.body["items"] == []
    assert other["admin_user_id"] not in {e["target"]["id"] for e in everything.body["items"]}


def test_export_as_csv_and_ndjson(super_admin):
    # Given
    _make_user(super_admin, name="=HYPERLINK(1)")
    # When
    as_csv = call("user_levels", "get_audit_export.json", super_admin, query={"format": "csv"})
    as_ndjson = call("user_levels", "get_audit_export.json", super_admin, query={"format": "ndjson"})
    # Then
    assert as_csv.status == 200 and as_csv.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.body if isinstance(as_csv.body, str) else "")))
    lines = [json.loads(line) for line in (as_ndjson.body or "").splitlines()] if isinstance(as_ndjson.body, str) \
        else []
    assert rows and lines and len(lines) >= len(rows)
    assert any("=HYPERLINK(1)" in r["after"] for r in rows)
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())
    assert {e["action"] for e in _entries()} >= {"audit.export"}


# ------------------------------------------------------------------ sealing and verifying
def test_seal_then_verify_passes_and_names_what_it_checked(super_admin):
    # Given
    _make_user(super_admin)
    _seal(super_admin.tenant_id)
    # When
    result = _verify(super_admin)
    # Then
    assert result["verified"] is True and result["checked"] >= 4 and result["seals"] == 1
    objects = boto3.client("s3").list_objects_v2(Bucket=os.environ["AUDIT_BUCKET"])["Contents"]
    assert [o["Key"].split("/")[0] for o in objects] == [super_admin.tenant_id]


def test_seals_chain_and_a_repeat_seals_nothing_new(super_admin):
    # Given
    _seal(super_admin.tenant_id)
    _make_user(super_admin)
    _seal(super_admin.tenant_id)
    _seal(super_admin.tenant_id)  # nothing new since
    # When
    seals = sorted((i for i in table_items() if i["entity"] == "AuditSeal"), key=lambda i: i["SK"])
    # Then
    assert [int(s["sequence"]) for s in seals] == [1, 2]
    assert seals[1]["previous_digest"] == seals[0]["digest"]
    assert _verify(super_admin)["verified"] is True


def _sealed_entry(super_admin: Identity) -> dict[str, Any]:
    _make_user(super_admin)
    _seal(super_admin.tenant_id)
    return next(e for e in _entries() if e["action"] == "user.create" and e["PK"].startswith(f"T#{super_admin.tenant_id}#"))


def _table():
    return boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def test_verify_finds_a_deleted_entry(super_admin):
    entry = _sealed_entry(super_admin)
    _table().delete_item(Key={"PK": entry["PK"], "SK": entry["SK"]})
    result = _verify(super_admin)
    assert result["verified"] is False
    assert result["first_problem"]["kind"] == "missing" and result["first_problem"]["audit_id"] == entry["audit_id"]


def test_verify_finds_an_altered_entry(super_admin):
    entry = _sealed_entry(super_admin)
    altered = json.dumps({**entry["after"], "name": "X"}, sort_keys=True)
    _table().update_item(Key={"PK": entry["PK"], "SK": entry["SK"]}, UpdateExpression="SET #a = :a",
                         ExpressionAttributeNames={"#a": "after"}, ExpressionAttributeValues={":a": altered})
    result = _verify(super_admin)
    assert result["first_problem"]["kind"] == "altered" and result["first_problem"]["audit_id"] == entry["audit_id"]


def test_verify_finds_an_added_entry(super_admin):
    entry = _sealed_entry(super_admin)
    forged = {**entry, "audit_id": "f" * 32, "SK": entry["SK"].split("#")[0] + "#" + "f" * 32,
              "after": json.dumps(entry["after"])}
    _table().put_item(Item=forged)
    result = _verify(super_admin)
    assert result["first_problem"]["kind"] == "added" and result["first_problem"]["audit_id"] == "f" * 32


def test_verify_finds_a_seal_rewritten_in_the_table(super_admin):
    _sealed_entry(super_admin)
    seal = next(i for i in table_items() if i["entity"] == "AuditSeal")
    _table().update_item(Key={"PK": seal["PK"], "SK": seal["SK"]}, UpdateExpression="SET digest = :d",
                         ExpressionAttributeValues={":d": "0" * 64})
    assert _verify(super_admin)["verified"] is False


def test_expired_ranges_are_expired_not_missing(super_admin):
    # Given: a sealed range whose entries are past their retention, and removed (as TTL would)
    entry = _sealed_entry(super_admin)
    clock.freeze(datetime.now(UTC) + timedelta(days=2558))
    _table().delete_item(Key={"PK": entry["PK"], "SK": entry["SK"]})
    # When
    result = _verify(super_admin)
    # Then
    assert result["verified"] is True and result["expired_seals"] == 1


def test_retention_setting_sets_each_entrys_expiry(super_admin):
    # Given
    reply = call("user_levels", "put_setting.json", super_admin, path={"key": "audit_retention_days"},
                 body={"value": 30})
    assert reply.status == 200, reply.body
    bad = call("user_levels", "put_setting.json", super_admin, path={"key": "audit_retention_days"},
               body={"value": 0})
    assert bad.status == 422
    # When
    _make_user(super_admin)
    # Then
    entry = [e for e in _entries() if e["action"] == "user.create"][-1]
    at = datetime.strptime(entry["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(int(entry["ttl"]) - (at + timedelta(days=30)).timestamp()) < 2
    assert [e["action"] for e in _entries()].count("setting.set") == 1


def test_hourly_schedule_fans_out_one_message_per_tenant(super_admin):
    # When
    event = json.loads(Path("events/billing/scheduled_hourly_seal.json").read_text())
    reply = handler("billing")(event, LambdaContext("billing"))
    # Then
    messages = boto3.client("sqs").receive_message(QueueUrl=os.environ["BILLING_QUEUE_URL"],
                                                   MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert reply["tenants"] == len(bodies) >= 1
    assert {b["kind"] for b in bodies} == {"audit.seal"}
    assert {b["through"] for b in bodies} == {"2026-10-01T12:59:00.000000Z"}


def test_a_setting_with_numbers_of_every_kind_is_audited(super_admin):
    # Given: floats, a huge integer and nulls in a setting's value (found by schemathesis: a 500)
    value = {"ratio": 1.5, "big": 10**40, "list": [None, -4.961547821571531e+16], "flag": True}
    # When
    reply = call("user_levels", "put_setting.json", super_admin, path={"key": "tmp_templates"}, body={"value": value})
    # Then
    assert reply.status == 200, reply.body
    [entry] = [e for e in _entries() if e["action"] == "setting.set"]
    assert entry["after"]["value"] == value


def test_exporting_since_long_ago_is_answered(super_admin):
    # Given (found by schemathesis: `from` decades back was a 500)
    _make_user(super_admin, level="basic_user")
    # When
    reply = call("user_levels", "get_audit_export.json", super_admin, query={"from": "2000-01-01T00:00:00Z"})
    # Then
    assert reply.status == 200, reply.body
    assert "user.create" in reply.body


def test_verifying_a_later_range_links_it_to_the_seal_before(super_admin):
    # Given: two seals, the second range verified alone
    _seal(super_admin.tenant_id)
    _make_user(super_admin)
    second = _seal(super_admin.tenant_id)["through"]
    seals = sorted((i for i in table_items() if i["entity"] == "AuditSeal"
                    and i["PK"].startswith(f"T#{super_admin.tenant_id}#")), key=lambda i: i["SK"])
    # When
    alone = _verify(super_admin, **{"from": second})
    _table().delete_item(Key={"PK": seals[0]["PK"], "SK": seals[0]["SK"]})
    unlinked = _verify(super_admin, **{"from": second})
    # Then: the chain's link is the first seal; without it the second's previous digest is unaccounted for
    assert alone["verified"] is True and alone["seals"] == 1
    assert unlinked["verified"] is False and unlinked["first_problem"]["kind"] == "missing"
