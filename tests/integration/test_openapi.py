"""docs/openapi.json is the API as the code has it: generated from the functions' resolvers by
`make openapi`, with the bearer token, the real success statuses and every error status the
routes can answer, each with the error body `sitegate.http` writes."""

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from local.openapi import build_spec, render
from local.template import http_routes, load_template
from tests.integration.conftest import call

SPEC_FILE = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
ERROR = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return build_spec()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in spec["paths"].items() for method, op in item.items()]


def _error_schema(spec: dict[str, Any]) -> dict[str, Any]:
    return {**spec["components"]["schemas"]["Error"], "components": spec["components"]}


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
        jsonschema.validate(reply.body, _error_schema(spec))
    assert refused.body["rule"]
