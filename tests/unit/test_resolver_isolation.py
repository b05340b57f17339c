"""Two warm instances' resolvers in one process (the local gateway serves them on threads): a
request never reads the other's event. Powertools keeps the current event on a class attribute,
which once let a trade member's booking be judged with another caller's claims (a 403 among 19
409s in the 20-racer delivery test)."""

import os
import threading
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

# The layer's child loggers take the service name when first imported: the functions' own (the
# integration tests' handlers share this process and its modules), not "service_undefined".
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "sitegate")

from sitegate.http import build_resolver


def _event(user: str) -> dict[str, Any]:
    return {"version": "2.0", "routeKey": "GET /whoami", "rawPath": "/whoami", "rawQueryString": "",
            "headers": {"host": "local"}, "isBase64Encoded": False,
            "requestContext": {"http": {"method": "GET", "path": "/whoami", "protocol": "HTTP/1.1",
                                        "sourceIp": "127.0.0.1", "userAgent": "test"},
                               "requestId": user, "routeKey": "GET /whoami", "stage": "$default",
                               "authorizer": {"jwt": {"claims": {"cognito:username": user}, "scopes": None}}}}


def test_a_request_reads_its_own_claims_while_another_instance_resolves_its_event():
    # Given: two instances; the first pauses mid-request until the second has resolved its own event
    first_paused, second_done = threading.Event(), threading.Event()
    first, second = build_resolver(), build_resolver()

    @first.get("/whoami")
    def first_whoami() -> dict[str, str]:
        first_paused.set()
        second_done.wait(10)
        return {"user": first.current_event.request_context.authorizer.jwt_claim["cognito:username"]}

    @second.get("/whoami")
    def second_whoami() -> dict[str, str]:
        return {"user": second.current_event.request_context.authorizer.jwt_claim["cognito:username"]}

    answers: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: answers.update(first=first.resolve(_event("ana"), LambdaContext())))
    # When
    thread.start()
    assert first_paused.wait(10)
    answers["second"] = second.resolve(_event("ben"), LambdaContext())
    second_done.set()
    thread.join(10)
    # Then
    assert '"user":"ana"' in answers["first"]["body"].replace(" ", "")
    assert '"user":"ben"' in answers["second"]["body"].replace(" ", "")
