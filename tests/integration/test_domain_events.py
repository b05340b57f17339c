"""Domain events leave through the tenant's outbox: published once committed, kept when SNS
fails (the table's stream publishes them then: test_outbox_stream.py); tenants are listed for jobs
that run per tenant."""

import json
import os

import boto3
import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from sitegate.data import core, events, tenant_store
from sitegate.data.aws import sns
from sitegate.models.events import AccessGranted, DomainEvent, InvoiceIssued
from tests.integration.conftest import call, table_items


def _invoice_event(tenant_id: str = "tenant-a") -> DomainEvent:
    return events.new_event("invoice.issued", tenant_id, InvoiceIssued(period="2026-09", total="609.00",
                                                                       currency="NZD"))


def _queued(resources) -> list[dict]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=resources.queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def _outbox() -> list[dict]:
    return [item for item in table_items() if item.get("entity") == "OutboxEvent"]


def test_a_published_event_reaches_the_queue_and_leaves_the_outbox(resources):
    # Given an event written with its change
    event = _invoice_event()
    core.write(creates=[events.outbox_entry(event)])
    assert len(_outbox()) == 1
    # When
    taken = events.publish([event])
    # Then
    assert taken == 1
    assert _outbox() == []
    assert [m["event_id"] for m in _queued(resources)] == [event.event_id]


def test_an_event_sns_refuses_stays_in_the_outbox_with_no_expiry(resources, monkeypatch):
    # Given SNS failing at the moment of the change
    event = _invoice_event()
    core.write(creates=[events.outbox_entry(event)])

    def refuse(**_):
        raise ClientError({"Error": {"Code": "InternalError", "Message": "down"}}, "Publish")

    monkeypatch.setattr(sns(), "publish", refuse)
    # When
    taken = events.publish([event])
    # Then nothing is lost: the event waits in the outbox, nothing expires it, and the table's stream
    # publishes it (test_outbox_stream.py)
    assert taken == 0
    [left] = _outbox()
    assert "ttl" not in left
    assert _queued(resources) == []


def test_an_event_must_carry_its_kinds_data():
    # Given / When / Then: the wrong model for a kind is a programming error
    with pytest.raises(TypeError):
        events.new_event("invoice.issued", "t", AccessGranted(job_id="j", job_name="J", account_id="a",
                                                              account_name="A", granted_by="u"))


@pytest.mark.parametrize("change", [{"type": "delivery.exploded"}, {"data": {"period": "2026-09"}},
                                    {"data": {"period": "2026-09", "total": "1.00", "currency": "NZD", "x": 1}}])
def test_an_unknown_kind_or_data_that_does_not_fit_is_refused(change):
    # Given a valid event
    event = _invoice_event().model_dump()
    # When / Then
    with pytest.raises(ValidationError):
        DomainEvent.model_validate({**event, **change})


def test_tenants_are_listed_page_by_page(operator):
    # Given three tenants
    made = set()
    for n in range(3):
        reply = call("user_levels", "post_tenants.json", operator, headers={"idempotency-key": ""},
                     body={"name": f"Tenant {n}", "admin_email": f"admin{n}@example.com", "admin_name": "Admin"})
        assert reply.status == 201, reply.body
        made.add(reply.body["tenant_id"])
    # When
    first = tenant_store.tenants_page(2, None)
    second = tenant_store.tenants_page(2, first.next_cursor)
    # Then
    assert len(first.items) == 2
    assert {t.tenant_id for t in first.items + second.items} == made
    assert os.environ["TABLE_NAME"]
