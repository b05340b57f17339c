"""The template and the functions cannot drift: every HttpApi route in template.yaml
is served by its function's resolver, and every resolver route is in the template."""

import sys

import pytest

from local.template import http_routes, load_template, resources_of
from tests.integration.conftest import handler

TEMPLATE = load_template()
FOLDER = {name: res["Properties"]["CodeUri"].strip("/").split("/")[-1]
          for name, res in resources_of(TEMPLATE, "AWS::Serverless::Function").items()}
HANDLER = {name: res["Properties"]["Handler"] for name, res in resources_of(TEMPLATE, "AWS::Serverless::Function").items()}


def _resolver_routes(function: str) -> set[tuple[str, str]]:
    """The routes of a function's HTTP resolver (none for queue, stream and schedule functions). A second
    entry point in a folder (OutboxPublisherFunction: notifications/outbox.py) is its own module."""
    if HANDLER[function] != "app.lambda_handler":
        from local.gateway import load_handler

        module = load_handler(f"functions/{FOLDER[function]}/", HANDLER[function], f"routes_{function}").__module__
    else:
        module = handler(FOLDER[function]).__module__
    app = getattr(sys.modules[module], "app", None)
    if app is None:
        return set()
    paths = app.get_openapi_schema().paths or {}
    return {(method.upper(), path) for path, item in paths.items()
            for method in ("get", "post", "put", "patch", "delete") if getattr(item, method, None) is not None}


@pytest.mark.parametrize("function", sorted(FOLDER))
def test_template_routes_match_the_function_resolver(function):
    # Given
    in_template = {(r.method, r.path) for r in http_routes(TEMPLATE) if r.function == function}
    # When
    in_code = _resolver_routes(function)
    # Then
    assert in_template == in_code


def test_only_health_and_portal_are_open():
    open_routes = {(r.method, r.path) for r in http_routes(TEMPLATE) if not r.authorized}
    assert open_routes <= {("GET", "/health"), ("GET", "/portal/{job_id}")}
    assert ("GET", "/health") in open_routes


def test_template_functions_run_python_3_13_on_arm64():
    globals_ = TEMPLATE["Globals"]["Function"]
    assert (globals_["Runtime"], globals_["Architectures"]) == ("python3.13", ["arm64"])


def test_every_asynchronous_path_has_a_dead_letter_queue():
    resources = TEMPLATE["Resources"]
    assert "deadLetterTargetArn" in resources["NotificationsQueue"]["Properties"]["RedrivePolicy"]
    billing = resources["BillingFunction"]["Properties"]
    assert billing["DeadLetterQueue"]["Type"] == "SQS"
    assert "DeadLetterConfig" in billing["Events"]["Monthly"]["Properties"]
    outbox = resources["OutboxPublisherMapping"]["Properties"]
    assert outbox["DestinationConfig"]["OnFailure"]["Destination"]


def test_every_route_open_without_a_token_has_its_own_throttle():
    # Given: the stage's route settings (API Gateway refuses one for a route that does not exist,
    # so a new open route, such as the calendar feed, must add its own here)
    settings = TEMPLATE["Resources"]["HttpApi"]["Properties"]["RouteSettings"]
    open_routes = {f"{r.method} {r.path}" for r in http_routes(TEMPLATE) if not r.authorized}
    # Then
    assert open_routes == set(settings)
    for route in open_routes:
        assert settings[route]["ThrottlingRateLimit"] == {"Ref": "PublicRouteRateLimit"}
        assert settings[route]["ThrottlingBurstLimit"] == {"Ref": "PublicRouteBurstLimit"}
