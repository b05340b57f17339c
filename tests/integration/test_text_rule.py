"""The text rule through the handlers (docs/DOMAIN.md "Text"): every free-text field of every route
refuses line breaks where it is one line, control characters and bidirectional overrides, with a
422 naming the field; prose fields keep their line breaks; ordinary writing of any script passes."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Identity, call, table_items

ANYONE = Identity("t", "u", "a")  # bodies are validated before the caller is looked up

J = {"job_id": "j1"}
# (function, sample event, path, a valid body, the field to spoil); the body is validated before the
# route runs, so no job or delivery needs to exist for the field to be refused.
ROUTES = [
    ("user_levels", "post_tenants.json", None, {"name": "Acme", "admin_email": "a@acme.example", "admin_name": "Ada"},
     "name"),
    ("user_levels", "post_tenants.json", None, {"name": "Acme", "admin_email": "a@acme.example", "admin_name": "Ada"},
     "admin_name"),
    ("user_levels", "post_accounts.json", None, {"kind": "trade_contractor", "name": "Steel Co"}, "name"),
    ("user_levels", "post_accounts.json", None,
     {"kind": "trade_contractor", "name": "Steel Co", "admin": {"email": "s@steel.example", "name": "Sam"}},
     "admin.name"),
    ("user_levels", "patch_account.json", {"account_id": "a1"}, {"name": "Steel Co"}, "name"),
    ("user_levels", "post_users.json", None, {"email": "sam@acme.example", "name": "Sam", "level": "basic_user_plus"},
     "name"),
    ("user_levels", "patch_user.json", {"user_id": "u1"}, {"name": "Sam"}, "name"),
    ("user_levels", "patch_me.json", None, {"name": "Sam"}, "name"),
    ("user_levels", "post_vehicles.json", None, {"name": "Truck 7", "registration": "ABC123"}, "name"),
    ("job_access", "post_jobs.json", None, {"job_number": "J-1", "name": "Quay St"}, "name"),
    ("job_access", "post_jobs.json", None, {"job_number": "J-1", "name": "Quay St", "address": "1 Quay St"},
     "address"),
    ("job_access", "patch_job.json", J, {"address": "1 Quay St"}, "address"),
    ("job_access", "post_job_tickets.json", J,
     {"ticket_number": "T-1", "material": "Concrete", "quantity": "6.5", "unit": "m3", "truck": "TRK-1"}, "material"),
    ("job_access", "post_job_tickets.json", J,
     {"ticket_number": "T-1", "material": "Concrete", "quantity": "6.5", "unit": "m3", "truck": "TRK-1"}, "unit"),
    ("job_access", "post_job_tickets.json", J,
     {"ticket_number": "T-1", "material": "Concrete", "quantity": "6.5", "unit": "m3", "truck": "TRK-1"}, "truck"),
    ("job_access", "post_job_ticket_unload.json", {**J, "ticket_id": "t1"}, {"accepted": True, "notes": "ok"},
     "notes"),
    ("job_access", "post_job_records.json", J,
     {"type": "equipment", "date": "2026-11-20", "hours": "2", "equipment": "Digger"}, "equipment"),
    ("job_access", "post_job_records.json", J, {"type": "time", "date": "2026-11-20", "hours": "2", "note": "ok"},
     "note"),
    ("notifications", "post_alerts.json", J, {"message": "Evacuate"}, "message"),
    ("delivery_approvals", "post_job_locations.json", J, {"name": "Gate 1", "kind": "gate"}, "name"),
    ("delivery_approvals", "post_job_equipment.json", J, {"name": "Tower crane"}, "name"),
    ("delivery_approvals", "post_job_deliveries.json", J,
     {"for_account_id": "a1", "location_id": "l1", "start": "2026-11-30T10:00:00+13:00",
      "end": "2026-11-30T10:30:00+13:00", "vendor_name": "Steel Co", "description": "Rebar"}, "vendor_name"),
    ("delivery_approvals", "post_job_deliveries.json", J,
     {"for_account_id": "a1", "location_id": "l1", "start": "2026-11-30T10:00:00+13:00",
      "end": "2026-11-30T10:30:00+13:00", "description": "Rebar"}, "description"),
    ("delivery_approvals", "post_job_delivery_reject.json", {**J, "delivery_id": "d1"}, {"reason": "Crane booked"},
     "reason"),
    ("delivery_approvals", "post_job_requests.json", J, {"title": "Sweep", "description": "Mud"}, "title"),
    ("delivery_approvals", "post_job_requests.json", J, {"title": "Sweep", "description": "Mud"}, "description"),
]
PROSE = {"notes", "note", "message", "description"}


def _with(body: dict, field: str, value: str) -> dict:
    """`body` with `field` (dotted for a nested one) set to `value`."""
    if "." in field:
        outer, inner = field.split(".", 1)
        return {**body, outer: _with(body[outer], inner, value)}
    return {**body, field: value}


def _route_id(route: tuple) -> str:
    return f"{route[1].removesuffix('.json')}:{route[4]}"


REFUSED_EVERYWHERE = [
    "Trade\u202eLocation",  # a right-to-left override: what follows is shown reversed
    "Trade\u2066x\u2069",  # an isolate
    "gas\u0000leak",
    "\u001b[2Jcleared",  # a terminal escape
    "Trade\tCo",
    "Trade\u0085Co",  # NEL, a C1 line break
    "Trade\u2028Location: Gate 9",  # a line separator
    "Trade\rLocation: Gate 9",  # a lone carriage return: a line break to a mail reader, refused even in prose
]


@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_control_and_bidi_characters_in_any_free_text_field_are_422_naming_it(resources, route):
    # Given: a valid body with one field spoiled; one-line fields also with a line break (a trade named
    # so that its delivery emails would carry a fake `Location:` line)
    function, event, path, body, field = route
    spoiled = REFUSED_EVERYWHERE + ([] if field.rsplit(".", 1)[-1] in PROSE else ["Trade\nLocation: Gate 9"])
    for value in spoiled:
        # When
        reply = call(function, event, ANYONE, body=_with(body, field, value), path=path)
        # Then
        assert reply.status == 422, (value, reply.body)
        assert [e["field"] for e in reply.body["errors"]] == [field], (value, reply.body)
    # and the valid body is not refused for its text
    assert call(function, event, ANYONE, body=body, path=path).status != 422


def test_a_user_named_with_a_right_to_left_override_is_refused_and_nothing_is_written(super_admin):
    # Given
    before = len(table_items())
    # When
    reply = call("user_levels", "post_users.json", super_admin,
                 body={"email": "eve@acme.example", "name": "Eve \u202egnp.exe", "level": "basic_user_plus"})
    # Then
    assert reply.status == 422
    assert reply.body["errors"][0]["field"] == "name" and "U+202E" in reply.body["errors"][0]["message"]
    assert len(table_items()) == before


@pytest.mark.parametrize("name", [
    "Ōtautahi Builders",
    "O'Brien & Sons (Steel) Ltd.",
    "\u05d1\u05e0\u05d9\u05d9\u05d4 \u200f\u05d1\u05e2\"\u05de",  # Hebrew with a right-to-left mark
    "\u0634\u0631\u06a9\u062a\u200c\u0647\u0627",  # Persian with a zero-width non-joiner
    "Crew \U0001f477\u200d\u2640\ufe0f",  # an emoji sequence joined by a zero-width joiner
    "株式会社 建設",
])
def test_ordinary_writing_in_any_script_makes_an_account(super_admin, name):
    # When
    reply = call("user_levels", "post_accounts.json", super_admin, body={"kind": "trade_contractor", "name": name})
    # Then
    assert reply.status == 201, reply.body
    assert reply.body["name"] == name
