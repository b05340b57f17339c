"""The whole API's OpenAPI document: every function's resolver merged into one, with what the
resolvers cannot say themselves added in one pass over the merged paths:

- each operation's name and words from its handler: the handler's name is the operationId
  (`approve_delivery`: what a generated client calls the method), the first paragraph of its
  docstring the summary and the rest the description (Powertools would say "POST /path");
- the bearer identity token on every route the template puts behind the JWT authorizer;
- 204 for routes that return an empty `Response`; creates declare their own status on the route
  (`@app.post(..., status_code=201)`) and return their model, so Powertools documents both, and
  those answering 201 or 202 take an Idempotency-Key;
- the error statuses each operation can answer, all with the body `sitegate.http` writes
  (`{"message", "errors"?, "rule"?, "field"?}`), by these rules, which follow the code:
  401 and 403 wherever a token is needed (the gateway refuses a missing or bad token;
  `current_caller` and `policy.require` refuse callers); 404 where a path, query or body names
  something by id; 409 and 422 on every write (conflicts, wrong states, changes too large to
  store) and 422 wherever a body or a query is validated; 415 where a JSON body is taken.

`make openapi` writes it to docs/openapi.json (a test fails when that file drifts from the
code); the local stack serves it at GET /openapi.json with Swagger UI at GET /docs.
Usage: python -m local.openapi [OUTPUT]  (standard output when no OUTPUT is given)
"""

from __future__ import annotations

import copy
import inspect
import json
import sys
import tomllib
import typing
from pathlib import Path
from typing import Any

from local.template import ROOT, http_routes, load_template, resources_of

TITLE = "SiteGate"
DESCRIPTION = ("Access control for construction job sites. Every route except GET /health and GET /portal/{job_id} needs "
               "`Authorization: Bearer <id token>`; errors answer `{\"message\", \"errors\"?, \"rule\"?, \"field\"?}`.")
SCHEMES = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                          "description": "The Cognito identity (ID) token of a SiteGate user"}}
REF = "#/components/schemas/"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
WRITES = {"post", "put", "patch", "delete"}

ERROR_SCHEMAS: dict[str, Any] = {
    "Error": {
        "title": "Error",
        "type": "object",
        "description": ("Every refusal: a message, the offending fields on 422, the policy rule on a 403, "
                        "what a booking clashes with on a 409."),
        "required": ["message"],
        "properties": {
            "message": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": f"{REF}FieldError"}},
            "rule": {"type": "string", "description": "the policy rule that refused the request"},
            "field": {"type": "string", "description": "on a 409 booking clash: what the window overlaps "
                                                      "(`location` or `equipment`)"},
        },
    },
    "FieldError": {
        "title": "FieldError",
        "type": "object",
        "required": ["field", "message"],
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
    },
}
ERROR_DESCRIPTIONS = {
    "401": "No valid identity token",
    "403": "The caller may not do this (or may not use SiteGate at all)",
    "404": "Not found, or not visible to the caller",
    "409": "Conflict: a duplicate, a wrong state, or a concurrent change",
    "415": "The body is not JSON",
    "422": "Invalid input; `errors` names each offending field",
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Repeating a create with the same key and body returns the first answer and creates nothing.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,200}$"},
}


def version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def load_resolvers(tag: str = "openapi") -> dict[str, Any]:
    """Every HTTP function's resolver, each from a fresh import of its module (as the gateway
    loads them), keyed by the function's folder name."""
    from local.gateway import load_handler

    resolvers = {}
    for name, resource in resources_of(load_template(), "AWS::Serverless::Function").items():
        events = (resource["Properties"].get("Events") or {}).values()
        if not any(event["Type"] == "HttpApi" for event in events):
            continue
        props = resource["Properties"]
        handler = load_handler(props["CodeUri"], props["Handler"], f"{name}_{tag}")
        app = getattr(sys.modules[handler.__module__], "app", None)
        if app is not None:
            resolvers[props["CodeUri"].strip("/").split("/")[-1]] = app
    return resolvers


def build_spec(resolvers: dict[str, Any] | None = None) -> dict[str, Any]:
    """The merged, completed OpenAPI document."""
    resolvers = load_resolvers() if resolvers is None else resolvers
    authorized = {(r.method.lower(), r.path): r.authorized for r in http_routes(load_template())}
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": version(), "description": DESCRIPTION},
        "paths": {},
        "components": {"schemas": copy.deepcopy(ERROR_SCHEMAS), "securitySchemes": SCHEMES},
        "security": [{"bearerAuth": []}],
        "tags": [{"name": function} for function in sorted(resolvers)],
    }
    schemas = spec["components"]["schemas"]
    for function, app in sorted(resolvers.items()):
        part = json.loads(app.get_openapi_json_schema(title=TITLE))
        _merge_schemas(schemas, (part.get("components") or {}).get("schemas") or {})
        routes = {(route.method.lower(), route.openapi_path): route for route in _routes(app)}
        for path, item in (part.get("paths") or {}).items():
            target = spec["paths"].setdefault(path, {})
            for method, operation in item.items():
                if method not in METHODS:
                    continue
                if method in target:
                    raise ValueError(f"{method.upper()} {path} is served by two functions")
                operation["tags"] = [function]
                _complete(operation, method, path, routes[(method, path)], authorized.get((method, path), True),
                          schemas)
                target[method] = operation
    operation_ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    duplicates = {i for i in operation_ids if operation_ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"operation ids used twice: {sorted(duplicates)}")
    _drop_unused_schemas(spec)
    return spec


def render(spec: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, one trailing newline."""
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------ steps
def _routes(app: Any) -> list[Any]:
    return [*app._static_routes, *app._dynamic_routes]


def _complete(operation: dict[str, Any], method: str, path: str, route: Any, authorized: bool,
              schemas: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    parameters = operation.get("parameters") or []
    body = operation.get("requestBody")
    _name(operation, method, path, route)
    if not authorized:
        operation["security"] = []
    if _answers_nothing(route.func):
        responses.pop("200", None)
        responses["204"] = {"description": "No Content"}
    for status, description in (("201", "Created"), ("202", "Accepted")):
        if status in responses:
            responses[status]["description"] = description
            operation["parameters"] = [*parameters, copy.deepcopy(IDEMPOTENCY_KEY)]
    errors = set()
    if authorized:
        errors |= {"401", "403"}
    if any(p["in"] == "path" for p in parameters) or _names_an_id(parameters, body, schemas):
        errors.add("404")
    if method in WRITES:
        errors |= {"409", "422"}
    if body is not None:
        errors |= {"415", "422"}
    if any(p["in"] == "query" for p in parameters):
        errors.add("422")
    if any(p["in"] == "path" and "pattern" in p.get("schema", {}) for p in parameters):  # a shaped path value
        errors.add("422")
    responses.pop("422", None)  # Powertools documents its own 422 body; ours is the Error body
    for status in sorted(errors):
        responses[status] = {"description": ERROR_DESCRIPTIONS[status],
                             "content": {"application/json": {"schema": {"$ref": f"{REF}Error"}}}}


def _name(operation: dict[str, Any], method: str, path: str, route: Any) -> None:
    """operationId from the handler's name; summary and description from its docstring, unless the
    route's decorator gave them."""
    doc = inspect.getdoc(route.func)
    if not doc:
        raise ValueError(f"{method.upper()} {path}: its handler {route.func.__name__} has no docstring, "
                         "whose first paragraph is the operation's summary")
    summary, *paragraphs = [" ".join(paragraph.split()) for paragraph in doc.split("\n\n")]
    operation["operationId"] = route.func.__name__
    operation["summary"] = route.summary or summary
    if route.description is None and paragraphs:
        operation["description"] = "\n\n".join(paragraphs)


def _answers_nothing(func: Any) -> bool:
    """A handler typed `-> Response[None]` answers 204 without a body."""
    returns = typing.get_type_hints(func).get("return")
    return typing.get_args(returns) == (type(None),) and getattr(typing.get_origin(returns), "__name__", "") == "Response"


def _merge_schemas(target: dict[str, Any], source: dict[str, Any]) -> None:
    for name, schema in source.items():
        if name in target and target[name] != schema:
            raise ValueError(f"two different schemas are named {name}: rename one of the models")
        target.setdefault(name, schema)


def _names_an_id(parameters: list[dict[str, Any]], body: dict[str, Any] | None, schemas: dict[str, Any]) -> bool:
    """A query parameter or a top-level body field names an object by id (`..._id`, `..._ids`)."""
    names = [p["name"] for p in parameters if p["in"] == "query"]
    if body is not None:
        schema = (body.get("content") or {}).get("application/json", {}).get("schema", {})
        ref = schema.get("$ref", "")
        if ref.startswith(REF):
            names += list((schemas.get(ref[len(REF):]) or {}).get("properties", {}))
    return any(name.endswith(("_id", "_ids")) for name in names)


def _drop_unused_schemas(spec: dict[str, Any]) -> None:
    """Keep only the schemas something refers to (Powertools' own 422 bodies go)."""
    schemas = spec["components"]["schemas"]
    used: set[str] = set()
    pending = [spec["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF) and ref[len(REF):] not in used:
                used.add(ref[len(REF):])
                pending.append(schemas.get(ref[len(REF):]))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for name in set(schemas) - used:
        del schemas[name]


def main(argv: list[str]) -> None:
    text = render(build_spec())
    if len(argv) > 1:
        Path(argv[1]).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv)
