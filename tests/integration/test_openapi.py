"""docs/openapi.json is the API as the code has it: generated from the functions' resolvers by
`make openapi`, with the bearer token, the real success statuses and every error status the
routes can answer, each with the error body `sitegate.http` writes; and named so that a client
generated from it reads well: operations named for what they do, summaries from the handlers'
docstrings, typed times, dates and enums, typed creates, one page shape."""

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from local.openapi import METHODS, REF, build_spec, render
from local.template import http_routes, load_template
from sitegate.models import responses, tax_invoices
from tests.integration.conftest import call
from tests.integration.test_deliveries import Site

SPEC_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
ERROR = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return build_spec()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in spec["paths"].items() for method, op in item.items()]


def _schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    """A component schema that resolves its own `$ref`s, for jsonschema."""
    return {**spec["components"]["schemas"][name], "components": spec["components"]}


def _error_schema(spec: dict[str, Any]) -> dict[str, Any]:
    return _schema(spec, "Error")


def _validate(body: Any, schema: dict[str, Any]) -> None:
    jsonschema.validate(body, schema, format_checker=jsonschema.FormatChecker())


def test_committed_spec_is_the_one_the_code_generates(spec):
    # Given the spec generated from the resolvers now
    generated = render(spec)
    # When
    committed = SPEC_FILE.read_text() if SPEC_FILE.exists() else ""
    # Then
    assert committed == generated, "docs/openapi.json is out of date with the code: run `make openapi` and commit it"


def test_every_template_route_is_documented_once(spec):
    # Given
    in_template = {(r.method, r.path) for r in http_routes(load_template())}
    # When
    documented = [(method, path) for method, path, _ in _operations(spec)]
    # Then
    assert sorted(documented) == sorted(in_template)


def test_only_health_and_the_portal_are_open_and_every_other_route_needs_the_bearer_token(spec):
    # Given
    schemes = spec["components"]["securitySchemes"]
    # When
    open_routes = {(method, path) for method, path, op in _operations(spec) if op.get("security") == []}
    # Then
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearerAuth": []}]
    assert open_routes == {("GET", "/health"), ("GET", "/portal/{job_id}")}
    for method, path, op in _operations(spec):
        if (method, path) not in open_routes:
            assert {"401", "403"} <= set(op["responses"]), (method, path)


def test_creates_answer_201_with_the_created_object_and_deletes_204(spec):
    # When
    success = {(method, path): sorted(s for s in op["responses"] if s.startswith("2")) for method, path, op in _operations(spec)}
    created = spec["paths"]["/jobs"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    # Then
    assert success[("POST", "/jobs")] == ["201"]
    assert created == {"$ref": "#/components/schemas/JobOut"}
    assert spec["paths"]["/tenants"]["post"]["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TenantCreated"}
    assert success[("DELETE", "/jobs/{job_id}")] == ["204"]
    assert "content" not in spec["paths"]["/jobs/{job_id}"]["delete"]["responses"]["204"]
    assert success[("GET", "/jobs/{job_id}")] == ["200"]
    assert any(p["name"] == "Idempotency-Key" for p in spec["paths"]["/jobs"]["post"]["parameters"])


def test_error_statuses_follow_the_method_the_path_and_the_body(spec):
    for method, path, op in _operations(spec):
        # Given
        statuses = set(op["responses"])
        # Then
        if "{" in path:
            assert "404" in statuses, (method, path)
        if method in {"POST", "PUT", "PATCH", "DELETE"}:
            assert {"409", "422"} <= statuses, (method, path)
        assert ("415" in statuses) == ("requestBody" in op), (method, path)
        for status, response in op["responses"].items():
            if status >= "400":
                assert response["content"]["application/json"]["schema"] == ERROR, (method, path, status)


def test_no_powertools_validation_body_is_documented(spec):
    # Then: Powertools' own 422 body ({"detail": [...]}) is not what SiteGate answers
    assert not {"HTTPValidationError", "ValidationError"} & set(spec["components"]["schemas"])


def test_real_refusals_match_the_documented_error_body(spec, super_admin):
    # Given a 422 from Powertools' validation, one from a domain rule and a 403 from the policy
    invalid = call("user_levels", "post_vehicles.json", super_admin, body={"name": ""})
    bad_cursor = call("user_levels", "get_vehicles.json", super_admin, query={"cursor": "not-a-cursor"})
    refused = call("user_levels", "post_tenants.json", super_admin)
    # Then
    assert (invalid.status, bad_cursor.status, refused.status) == (422, 422, 403)
    for reply in (invalid, bad_cursor, refused):
        _validate(reply.body, _error_schema(spec))
        assert set(reply.body) <= set(spec["components"]["schemas"]["Error"]["properties"])
    assert refused.body["rule"]


# ------------------------------------------------------------ a client generated from it reads well
# The first word of every operation id: what the operation does.
VERBS = {"get", "list", "create", "update", "delete", "set", "add", "archive", "approve", "reject", "cancel", "grant",
         "revoke", "disable", "enable", "reset", "request", "send", "acknowledge", "unload", "preview",
         "export", "verify", "explain", "open", "decide", "close", "finalize", "void"}


def test_every_operation_is_named_for_what_it_does_once(spec):
    # When
    names = [op["operationId"] for _, _, op in _operations(spec)]
    # Then: snake_case verb_object, no method or path in it (FastAPI-style ids were
    # `get_account_accounts__account_id__get`), and no two alike across the five functions
    for method, path, op in _operations(spec):
        name = op["operationId"]
        parameters = re.findall(r"{(\w+)}", path)
        assert re.fullmatch(r"[a-z]+(_[a-z]+)+", name), (method, path, name)
        assert name.split("_")[0] in VERBS, (method, path, name)
        assert not name.endswith(f"_{method.lower()}") and not any(p in name for p in parameters), (method, path, name)
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert spec["paths"]["/jobs/{job_id}/deliveries/{delivery_id}/approve"]["post"]["operationId"] == "approve_delivery"
    assert spec["paths"]["/jobs/{job_id}/deliveries"]["get"]["operationId"] == "list_job_deliveries"


def test_every_summary_says_what_the_operation_does_in_one_line(spec):
    for method, path, op in _operations(spec):
        # Given
        summary = op["summary"]
        # Then: a sentence from the handler's docstring, not Powertools' "METHOD path"
        assert summary != f"{method} {path}", (method, path)
        assert not summary.startswith(tuple(f"{m.upper()} " for m in METHODS)), (method, path, summary)
        assert path not in summary and "\n" not in summary, (method, path, summary)
        assert summary.endswith(".") and len(summary) <= 120, (method, path, summary)
    # and the docstring's further paragraphs are the description
    assert "`field`" in spec["paths"]["/jobs/{job_id}/deliveries"]["post"]["description"]


TIME_FIELD = re.compile(r"\w+_at|start|end|eta")  # answered and accepted as ISO-8601 with an offset
DATE_FIELD = re.compile(r"date|through")  # YYYY-MM-DD


def _formats(schema: dict[str, Any]) -> set[str]:
    """The formats a (possibly nullable) schema gives its value."""
    return {s["format"] for s in [schema, *schema.get("anyOf", [])] if "format" in s}


def test_every_time_and_date_has_its_format(spec):
    # Given every field of every model, and every query parameter
    fields = [(model, name, prop) for model, schema in spec["components"]["schemas"].items()
              for name, prop in (schema.get("properties") or {}).items()]
    fields += [(f"{method} {path}", p["name"], p["schema"]) for method, path, op in _operations(spec)
               for p in op.get("parameters", []) if p["in"] == "query"]
    # When
    times = [(model, name, _formats(prop)) for model, name, prop in fields if TIME_FIELD.fullmatch(name)]
    dates = [(model, name, _formats(prop)) for model, name, prop in fields if DATE_FIELD.fullmatch(name)]
    # Then
    assert [t for t in times if t[2] != {"date-time"}] == []
    assert [d for d in dates if d[2] != {"date"}] == []
    assert len(times) >= 20 and len(dates) >= 4  # not passing for want of fields


# (response model, field): the enum it answers, and where a client sends the same values
SHARED_ENUMS = [
    ("UserOut", "status", "UserStatus", ("query", "/users", "status")),
    ("AccountOut", "kind", "AccountKind", ("query", "/accounts", "kind")),
    ("JobOut", "status", "JobStatus", ("query", "/jobs", "status")),
    ("DeliveryOut", "status", "DeliveryStatus", ("query", "/jobs/{job_id}/deliveries", "status")),
    ("JobRequestOut", "status", "JobRequestStatus", ("body", "JobRequestUpdate", "status")),
    ("LocationOut", "kind", "LocationKind", ("body", "LocationCreate", "kind")),
]


@pytest.mark.parametrize(("model", "field", "enum", "sent"), SHARED_ENUMS, ids=[f"{m}.{f}" for m, f, *_ in SHARED_ENUMS])
def test_answers_name_the_same_enum_as_requests(spec, model, field, enum, sent):
    # Given
    schemas = spec["components"]["schemas"]
    where, name, key = sent
    if where == "query":
        request = next(p["schema"] for p in spec["paths"][name]["get"]["parameters"] if p["name"] == key)
    else:
        request = schemas[name]["properties"][key]
    # When
    answered = schemas[model]["properties"][field]
    # Then
    assert answered == {"$ref": REF + enum}
    assert {"$ref": REF + enum} in [request, *request.get("anyOf", [])]
    assert schemas[enum]["type"] == "string" and schemas[enum]["enum"]


# Every create: its status and the model it answers (the 202 is an alert, accepted for sending).
CREATES = [
    ("/tenants", "201", "TenantCreated"),
    ("/users", "201", "UserOut"),
    ("/accounts", "201", "AccountOut"),
    ("/vehicles", "201", "VehicleOut"),
    ("/jobs", "201", "JobOut"),
    ("/jobs/{job_id}/access", "201", "AccessEntry"),
    ("/jobs/{job_id}/tickets", "201", "TicketOut"),
    ("/jobs/{job_id}/records", "201", "RecordOut"),
    ("/jobs/{job_id}/locations", "201", "LocationOut"),
    ("/jobs/{job_id}/equipment", "201", "EquipmentOut"),
    ("/jobs/{job_id}/deliveries", "201", "DeliveryOut"),
    ("/jobs/{job_id}/requests", "201", "JobRequestOut"),
    ("/jobs/{job_id}/alerts", "202", "AlertAccepted"),
    ("/access-reviews", "201", "ReviewOut"),
    ("/invoices/{period}/credit-notes", "201", "CreditNoteOut"),
    ("/invoices/{period}/void", "201", "CreditNoteOut"),
]


def test_creates_declare_their_status_and_the_model_they_answer(spec):
    # When
    declared = sorted((path, status, response["content"]["application/json"]["schema"])
                      for method, path, op in _operations(spec) for status, response in op["responses"].items()
                      if status in ("201", "202"))
    # Then
    assert declared == sorted((path, status, {"$ref": REF + model}) for path, status, model in CREATES)
    for path, _, _ in CREATES:
        operation = spec["paths"][path]["post"]
        assert [s for s in operation["responses"] if s.startswith("2")] == [s for p, s, _ in CREATES if p == path]
        assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"]), path


def test_lists_answer_one_page_shape_named_for_their_items(spec):
    # Given
    schemas = spec["components"]["schemas"]
    pages = {name: schema for name, schema in schemas.items() if name.endswith("Page")}
    # Then: each is Page[T] under a readable name (never pydantic's `Page_DeliveryOut_`)
    assert len(pages) == 14 and not [name for name in schemas if "_" in name]
    for name, schema in pages.items():
        item = schema["properties"]["items"]["items"]["$ref"].removeprefix(REF)
        assert set(schema["properties"]) == set(schema["required"]) == {"items", "next_cursor"}, name
        assert re.sub(r"(Out|Summary)$", "", item) + "Page" == name
    classes = {name: model for module in (responses, tax_invoices) for name, model in vars(module).items()
               if name.endswith("Page") and name != "Page" and isinstance(model, type)}
    assert set(classes) == set(pages)
    assert all(issubclass(model, responses.Page) and set(model.model_fields) == {"items", "next_cursor"}
               for model in classes.values())


def test_a_create_answers_its_documented_status_and_model_and_a_repeat_the_same(spec, super_admin):
    # Given
    body = {"name": "Flatbed", "registration": "FB 101"}
    key = {"idempotency-key": "vehicle-fb-101"}
    # When
    first = call("user_levels", "post_vehicles.json", super_admin, body=body, headers=key)
    again = call("user_levels", "post_vehicles.json", super_admin, body=body, headers=key)
    # Then
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    _validate(first.body, _schema(spec, "VehicleOut"))


def test_a_booking_clash_answers_the_error_body_with_the_field_it_clashes_on(spec, super_admin):
    # Given a booked window at the gate
    site = Site(super_admin)
    assert site.book(site.gc_lead, "10:00", "10:30").status == 201
    # When
    clash = site.book(site.gc_lead, "10:15", "10:45")
    # Then
    assert clash.status == 409, clash.body
    assert clash.body["field"] == "location"
    assert set(clash.body) <= set(spec["components"]["schemas"]["Error"]["properties"])
    _validate(clash.body, _error_schema(spec))
