"""A local stand-in for API Gateway (HTTP API) in front of the function handlers.

It routes by template.yaml, checks JWTs as the Cognito JWT authorizer would
(signature against the pool's JWKS, issuer, audience, expiry), builds real
payload-format-2.0 events and invokes each function's handler in-process.
Routes under /local/ exist only here (docs/API.md, "Local stack"), and so do GET /openapi.json (the
merged spec of every function, local/openapi.py) and GET /docs (Swagger UI over it, from the
files Powertools bundles): the deployed functions never import Swagger.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import queue
import secrets
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import jwt
from werkzeug.wrappers import Request, Response

from local.template import ROOT, LocalResources, Route, http_routes, load_template

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# Swagger UI's files as Powertools bundles them: served from here, no CDN.
SWAGGER_UI = Path(importlib.util.find_spec("aws_lambda_powertools").origin or "").parent / "event_handler/openapi/swagger_ui"
SWAGGER_FILES = {"/docs/swagger-ui-bundle.min.js": "application/javascript", "/docs/swagger-ui.min.css": "text/css"}


class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def load_handler(code_uri: str, handler: str, logical_id: str) -> Any:
    """Import a function's handler module from its CodeUri under a unique module name."""
    module_name, attribute = handler.rsplit(".", 1)
    path = ROOT / code_uri / f"{module_name.replace('.', '/')}.py"
    name = f"sitegate_function_{logical_id}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return getattr(module, attribute)


class InstancePool:
    """Warm instances of one function, as Lambda keeps them: each instance is its own import of
    the handler module (its own resolver, which holds the current event), serves one request at
    a time, and requests beyond the pool's size wait for a free instance."""

    def __init__(self, function: str, code_uri: str, handler: str, size: int) -> None:
        if size < 1:
            raise ValueError("a function needs at least one instance")
        self.function = function
        self.idle: queue.LifoQueue[Any] = queue.LifoQueue()  # the warmest instance first, as Lambda reuses them
        for index in range(size):
            self.idle.put(load_handler(code_uri, handler, f"{function}_{index}"))

    def invoke(self, event: dict[str, Any]) -> Any:
        handler = self.idle.get()
        try:
            return handler(event, LambdaContext(self.function))
        finally:
            self.idle.put(handler)


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


def _local_body(request: Request, fields: set[str], *, empty: bool = False) -> dict[str, Any] | Response:
    """A /local/ route's body: a JSON object of these fields (nothing at all only where `empty`),
    else a 422 naming the body or the unknown field, as the product's routes answer. Any content
    type is read as JSON here, so the README's plain `curl -d` works."""
    def refused(field: str, message: str) -> Response:
        return _json_response(422, {"message": f"invalid input: {field}", "errors": [{"field": field, "message": message}]})

    if not request.get_data():
        return {} if empty else refused("body", "a JSON object")
    try:
        body = json.loads(request.get_data(as_text=True))
    except (ValueError, RecursionError):  # invalid JSON, a number past 4,300 digits, nesting too deep
        return refused("body", "a JSON object")
    if not isinstance(body, dict):
        return refused("body", "a JSON object")
    unknown = sorted(set(body) - fields)
    return refused(unknown[0], "unknown field") if unknown else body


class JwtAuthorizer:
    """What API Gateway's JWT authorizer checks, against the local user pool."""

    def __init__(self, endpoint: str, user_pool_id: str, audience: str) -> None:
        self.issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{user_pool_id}"
        self.audience = audience
        self._jwks = jwt.PyJWKClient(f"{endpoint}/{user_pool_id}/.well-known/jwks.json")

    def claims(self, authorization: str | None) -> dict[str, Any] | None:
        if not authorization:
            return None
        token = authorization.removeprefix("Bearer ").strip()
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=["RS256"], issuer=self.issuer,
                                options={"verify_aud": False, "require": ["exp", "iss"]})
        except (jwt.PyJWTError, jwt.PyJWKClientError):
            return None
        # An ID token names the client in `aud`, an access token in `client_id`.
        if self.audience not in (claims.get("aud"), claims.get("client_id")):
            return None
        return claims


class Gateway:
    def __init__(self, resources: LocalResources, endpoint: str, instances: int = 4) -> None:
        self.resources = resources
        self.endpoint = endpoint
        self.template = load_template()
        self.routes: list[Route] = http_routes(self.template)
        self.pools = {name: InstancePool(name, spec["code_uri"], spec["handler"], instances)
                      for name, spec in resources.functions.items()}
        self.authorizer = JwtAuthorizer(endpoint, resources.user_pool_id, resources.user_pool_client_id)
        self.session = boto3.session.Session(region_name=REGION)
        self.local_routes = {
            ("POST", "/local/token"): self.local_token,
            ("POST", "/local/clock"): self.local_clock_set,
            ("DELETE", "/local/clock"): self.local_clock_clear,
            ("GET", "/local/outbox"): self.local_outbox,
            ("POST", "/local/billing/run"): self.local_billing_run,
            ("POST", "/local/audit/seal"): self.local_audit_seal,
            ("POST", "/local/schedules/run"): self.local_schedules_run,
            ("POST", "/local/faults"): self.local_faults_set,
            ("DELETE", "/local/faults"): self.local_faults_clear,
            ("GET", "/local/events"): self.local_events,
            ("GET", "/openapi.json"): self.openapi_json,
            ("GET", "/docs"): self.swagger_ui,
            **{("GET", path): self.swagger_file for path in SWAGGER_FILES},
        }
        self._openapi: str | None = None
        self._sent_at: dict[str, str] = {}  # outbox message -> when the local stack first saw it sent
        self._outbox_lock = threading.Lock()
        self._billing_lock = threading.Lock()
        self._billing_runs: dict[str, dict[str, tuple[str, bool]]] = {}  # run id -> message id -> (tenant, billed)
        self._billing_sqs = self.session.client("sqs")  # made once: boto3 makes clients unsafely across threads
        self._billing_queue_arn: str | None = None
        self._openapi_lock = threading.Lock()
        self._refusals: dict[str, int] = {}  # tenant -> event publishes SNS still refuses (-1: all of them)
        self._refusals_lock = threading.Lock()
        self._refusing = False

    # ------------------------------------------------------------------ WSGI
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except Exception:  # API Gateway answers a crashed integration like this
            import traceback

            traceback.print_exc()
            response = _json_response(500, {"message": "Internal Server Error"})
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        local = self.local_routes.get((request.method, request.path))
        if local is not None:
            return local(request)
        for route in self.routes:
            params = route.match(request.method, request.path)
            if params is None:
                continue
            claims = None
            if route.authorized:
                claims = self.authorizer.claims(request.headers.get("Authorization"))
                if claims is None:
                    return _json_response(401, {"message": "Unauthorized"},
                                          {"www-authenticate": 'Bearer error="invalid_token"'})
            return self.invoke_http(route, params, claims, request)
        return _json_response(404, {"message": "Not Found"})

    # ------------------------------------------------------------- invoking
    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        return self.pools[function].invoke(event)

    def invoke_http(self, route: Route, params: dict[str, str], claims: dict[str, Any] | None,
                    request: Request) -> Response:
        result = self.invoke(route.function, http_event(route, params, claims, request))
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(raw, status=int(result.get("statusCode", 200)))
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = value
        for cookie in result.get("cookies") or []:
            response.headers.add("Set-Cookie", cookie)
        return response

    # ---------------------------------------------------------- /local/ routes
    def local_token(self, request: Request) -> Response:
        body = _local_body(request, {"email", "tenant_id"})
        if isinstance(body, Response):
            return body
        email = str(body.get("email", "")).strip().lower()
        if not email:
            return _json_response(422, {"message": "invalid input: email", "errors": [{"field": "email",
                                                                                        "message": "required"}]})
        cognito = self.session.client("cognito-idp")
        pool = self.resources.user_pool_id
        users = cognito.list_users(UserPoolId=pool, Filter=f'email = "{email}"')["Users"]
        if body.get("tenant_id"):
            users = [u for u in users if {"Name": "custom:tenant_id", "Value": body["tenant_id"]} in u["Attributes"]]
        if not users:
            return _json_response(404, {"message": f"no user with email {email}"})
        users = [u for u in users if u.get("Enabled", True)]
        if not users:
            return _json_response(403, {"message": f"user {email} may not sign in"})
        username = users[0]["Username"]
        password = secrets.token_urlsafe(16) + "aA1"
        cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
        try:
            auth = cognito.initiate_auth(ClientId=self.resources.user_pool_client_id, AuthFlow="USER_PASSWORD_AUTH",
                                         AuthParameters={"USERNAME": username, "PASSWORD": password})
        except cognito.exceptions.NotAuthorizedException:
            return _json_response(403, {"message": f"user {email} may not sign in"})
        result = auth["AuthenticationResult"]
        return _json_response(200, {"id_token": result["IdToken"], "access_token": result["AccessToken"]})

    def openapi_text(self) -> str:
        """The merged spec, built once from fresh imports of the functions (the warm instances
        keep serving requests meanwhile); Swagger's own imports stay out of the functions."""
        with self._openapi_lock:
            if self._openapi is None:
                from local.openapi import build_spec, render

                self._openapi = render(build_spec())
            return self._openapi

    def openapi_json(self, request: Request) -> Response:
        return Response(self.openapi_text(), status=200, content_type="application/json")

    def swagger_ui(self, request: Request) -> Response:
        from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

        if request.args.get("format") == "json":  # where Swagger UI says the spec comes from
            return self.openapi_json(request)
        html = generate_swagger_html(self.openapi_text().replace("</", "<\\/"), "/docs/swagger-ui-bundle.min.js",
                                     "/docs/swagger-ui.min.css", "/docs", None, persist_authorization=True)
        return Response(html, status=200, content_type="text/html; charset=utf-8")

    def swagger_file(self, request: Request) -> Response:
        return Response((SWAGGER_UI / Path(request.path).name).read_bytes(), status=200,
                        content_type=SWAGGER_FILES[request.path], headers={"Cache-Control": "max-age=3600"})

    def local_clock_set(self, request: Request) -> Response:
        from sitegate import clock

        body = _local_body(request, {"now"})
        if isinstance(body, Response):
            return body
        try:
            clock.freeze(datetime.fromisoformat(str(body.get("now"))))
        except (TypeError, ValueError, OverflowError):  # OverflowError: past year 9999 or before 1 in UTC
            return _json_response(422, {"message": "invalid input: now (ISO-8601 with offset)",
                                        "errors": [{"field": "now", "message": "ISO-8601 time with offset"}]})
        return _json_response(200, {"now": clock.now_iso()})

    def local_clock_clear(self, request: Request) -> Response:
        from sitegate import clock

        clock.unfreeze()
        return _json_response(200, {"now": clock.now_iso()})

    def local_outbox(self, request: Request) -> Response:
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        seen = self.stamp_outbox()
        items = []
        for message in ses_backends[ACCOUNT_ID][REGION].sent_messages:
            for to in (getattr(message, "destinations", {}) or {}).get("ToAddresses", []):
                items.append({"channel": "email", "to": to, "subject": getattr(message, "subject", ""),
                              "body": getattr(message, "body", ""), "sent_at": seen.get(f"email:{message.id}")})
        for message_id, (phone, text) in list(sns_backends[ACCOUNT_ID][REGION].sms_messages.items()):
            items.append({"channel": "sms", "to": phone, "subject": None, "body": text,
                          "sent_at": seen.get(f"sms:{message_id}")})
        items.sort(key=lambda item: item["sent_at"] or "")
        return _json_response(200, {"items": items})

    def stamp_outbox(self) -> dict[str, str]:
        """When each message was sent: moto keeps no time, so the local stack stamps each one, with the
        clock every function sees, the first time it looks (after every batch the poller delivers)."""
        from moto.ses.models import ses_backends
        from moto.sns.models import sns_backends

        from sitegate import clock

        with self._outbox_lock:
            now = clock.now_iso()
            for message in list(ses_backends[ACCOUNT_ID][REGION].sent_messages):
                self._sent_at.setdefault(f"email:{message.id}", now)
            for message_id in list(sns_backends[ACCOUNT_ID][REGION].sms_messages):
                self._sent_at.setdefault(f"sms:{message_id}", now)
            return dict(self._sent_at)

    # ------------------------------------------------------- the billing queue
    BILLING_RUN_WAIT_SECONDS = 120

    def drain_billing(self, wait_seconds: int = 1) -> None:
        """One receive of the billing queue into the billing function (BatchSize 1, as the template's
        event source), noting each message's first outcome under its run id for `local_billing_run`."""
        from local.stack import drain_once

        sqs = self._billing_sqs
        url = self.resources.billing_queue_url
        if self._billing_queue_arn is None:
            self._billing_queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"]["QueueArn"]
        drain_once(sqs, url, self._billing_queue_arn, lambda event: self.invoke("BillingFunction", event),
                   wait_seconds=wait_seconds, max_messages=1, settled=self._billing_settled)

    def _billing_settled(self, messages: list[dict[str, Any]], failed: set[str]) -> None:
        with self._billing_lock:
            for m in messages:
                try:
                    body = json.loads(m["Body"])
                    run_id, tenant_id = str(body.get("run_id", "")), str(body.get("tenant_id", ""))
                except (ValueError, AttributeError):
                    continue
                self._billing_runs.setdefault(run_id, {}).setdefault(m["MessageId"], (tenant_id, m["MessageId"] not in failed))
    # ------------------------------------------------- /local/ routes: the outbox
    def local_faults_set(self, request: Request) -> Response:
        """SNS refuses the next `refuse_event_publishes` publishes of one tenant's events to the events
        topic (-1: every one until DELETE /local/faults), whichever path publishes them."""
        body = _local_body(request, {"refuse_event_publishes", "tenant_id"})
        if isinstance(body, Response):
            return body
        count, tenant_id = body.get("refuse_event_publishes"), body.get("tenant_id")
        if not isinstance(count, int) or count < -1 or not isinstance(tenant_id, str) or not tenant_id:
            return _json_response(422, {"message": "invalid input: refuse_event_publishes (an integer, -1 for all) "
                                                   "and tenant_id", "errors": [{"field": "refuse_event_publishes",
                                                                                "message": "integer >= -1"}]})
        with self._refusals_lock:
            self._refusals[tenant_id] = count
            if not self._refusing:
                from sitegate.data import aws

                aws.sns().meta.events.register("provide-client-params.sns.Publish", self._refuse_event_publish)
                self._refusing = True
        return _json_response(200, {"refusing": dict(self._refusals)})

    def local_faults_clear(self, request: Request) -> Response:
        with self._refusals_lock:
            self._refusals.clear()
        return _json_response(200, {"refusing": {}})

    def _refuse_event_publish(self, params: dict[str, Any], **_: Any) -> None:
        from botocore.exceptions import ClientError

        if params.get("TopicArn") != self.resources.topic_arn:
            return  # SMS to a phone number, not an event
        try:
            tenant_id = json.loads(params.get("Message", "{}")).get("tenant_id")
        except ValueError:
            return
        with self._refusals_lock:
            left = self._refusals.get(tenant_id, 0)
            if left == 0:
                return
            if left > 0:
                self._refusals[tenant_id] = left - 1
        raise ClientError({"Error": {"Code": "InternalError", "Message": "refused by POST /local/faults"}}, "Publish")

    def local_events(self, request: Request) -> Response:
        """The outbox items not yet published (all tenants: a scan, local only) and what the outbox stream's
        mapping gave up on (its on-failure queue, peeked)."""
        table = self.session.resource("dynamodb").Table(self.resources.table_name)
        scan: dict[str, Any] = {"FilterExpression": "entity = :e", "ExpressionAttributeValues": {":e": "OutboxEvent"}}
        waiting: list[Any] = []
        while True:
            page = table.scan(**scan)
            waiting += [json.loads(str(item["event"])) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        sqs = self.session.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.resources.outbox_failure_queue_url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=0).get("Messages", [])
        return _json_response(200, {"waiting": waiting, "failures": [json.loads(m["Body"]) for m in messages]})

    def local_billing_run(self, request: Request) -> Response:
        """Fire the schedule as EventBridge Scheduler would (its scheduled time: the test clock's now), with
        `period` (YYYY-MM) for that month, without it for the month before; then wait until every tenant
        message of this run has been billed once (the poller and this request drain the billing queue).
        Answers `{run_id, period, tenants, billed, failed, failed_tenants}`: 500 when some tenant failed
        (its message stays on the queue: retried, then the dead-letter queue)."""
        from sitegate import clock
        from sitegate.billing import parse_period
        from sitegate.errors import InvalidInput

        body = _local_body(request, {"period"}, empty=True)
        if isinstance(body, Response):
            return body
        detail: dict[str, str] = {}
        if body.get("period") is not None:
            try:
                detail["period"] = parse_period(body["period"] if isinstance(body["period"], str) else "").name
            except InvalidInput as exc:
                return _json_response(422, {"message": exc.message, **exc.details})
        run_id = str(uuid.uuid4())
        event = {"source": "aws.scheduler", "detail-type": "Scheduled Event", "time": clock.now_iso(), "id": run_id,
                 "detail": detail}
        queued = self.invoke("BillingFunction", event)
        if "refused" in queued:  # the month before the test clock's is outside the calendar
            return _json_response(422, {"message": "invalid input: period", "errors": [
                {"field": "period", "message": "; ".join(queued["refused"])}]})
        deadline = time.monotonic() + self.BILLING_RUN_WAIT_SECONDS
        while True:
            with self._billing_lock:
                settled = list(self._billing_runs.get(run_id, {}).values())
            if len(settled) >= queued["tenants"] or time.monotonic() > deadline:
                break
            self.drain_billing(wait_seconds=0)
        with self._billing_lock:
            self._billing_runs.pop(run_id, None)
        failed = sorted(tenant for tenant, billed in settled if not billed)
        report = {**queued, "billed": sum(billed for _, billed in settled), "failed": len(failed),
                  "failed_tenants": failed, "pending": queued["tenants"] - len(settled)}
        return _json_response(500 if failed or report["pending"] else 200, report)


    def local_audit_seal(self, request: Request) -> Response:
        """Seal now, as the hourly schedule would: one billing-queue message per tenant (or for `tenant_id`
        alone) delivered to the billing function as its queue's event source would, sealing every entry
        made so far. Answers `{through, tenants, failed}`."""
        from sitegate import audit, clock
        from sitegate.models.audit import SealTenant

        body = _local_body(request, {"tenant_id"}, empty=True)
        if isinstance(body, Response):
            return body
        tenant_id = body.get("tenant_id")
        if tenant_id is not None and (not isinstance(tenant_id, str) or not tenant_id or "#" in tenant_id):
            return _json_response(422, {"message": "invalid input: tenant_id", "errors": [
                {"field": "tenant_id", "message": "a tenant id"}]})
        # Every entry stamped so far in this process (the local stack runs every function in it).
        through = audit.format_at(max(clock.now(), audit.last_stamp()))
        tenants = [tenant_id] if tenant_id else _every_tenant_id()
        run_id = str(uuid.uuid4())
        failed = self._deliver_billing_messages(
            run_id, [SealTenant(tenant_id=t, through=through, run_id=run_id).model_dump_json() for t in tenants])
        return _json_response(500 if failed else 200, {"through": through, "tenants": len(tenants),
                                                        "failed": failed})

    def _deliver_billing_messages(self, run_id: str, bodies: list[str]) -> int:
        """Hand per-tenant messages to the billing function as its queue's event source would (10 a batch);
        answers how many it reported failed."""
        records = [{"messageId": f"{run_id}-{n}", "receiptHandle": "local", "eventSource": "aws:sqs", "body": body,
                    "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                    "eventSourceARN": "arn:aws:sqs:local:000000000000:billing", "awsRegion": REGION}
                   for n, body in enumerate(bodies)]
        failed = 0
        for start in range(0, len(records), 10):
            reply = self.invoke("BillingFunction", {"Records": records[start:start + 10]}) or {}
            failed += len(reply.get("batchItemFailures", []))
        return failed


    def local_schedules_run(self, request: Request) -> Response:
        """Run what the timers would at the test clock's time: the daily finalizing of drafts past their grace
        period, one billing-queue message per tenant delivered to the billing function as its queue would.
        Answers `{at, tenants, failed}`."""
        from sitegate import clock
        from sitegate.models.billing import FinalizeTenant

        body = _local_body(request, set(), empty=True)
        if isinstance(body, Response):
            return body
        at = clock.now()
        tenants = _every_tenant_id()
        run_id = str(uuid.uuid4())
        failed = self._deliver_billing_messages(
            run_id, [FinalizeTenant(tenant_id=t, at=at, run_id=run_id).model_dump_json() for t in tenants])
        return _json_response(500 if failed else 200, {"at": at.isoformat(timespec="seconds"),
                                                        "tenants": len(tenants), "failed": failed})


def _every_tenant_id() -> list[str]:
    """Every tenant's id, page by page (the local stack's timers run for all of them)."""
    from sitegate.data import tenant_store

    tenants: list[str] = []
    cursor = None
    while True:
        page = tenant_store.tenants_page(100, cursor)
        tenants += [t.tenant_id for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return tenants


def http_event(route: Route, params: dict[str, str], claims: dict[str, Any] | None,
               request: Request) -> dict[str, Any]:
    """An API Gateway HTTP API payload-format-2.0 event."""
    raw_body = request.get_data()
    text_types = ("application/json", "text/", "application/x-www-form-urlencoded")
    is_text = not raw_body or any(t in (request.content_type or "") for t in text_types)
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    cookies = [f"{k}={v}" for k, v in request.cookies.items()]
    query: dict[str, str] = {k: ",".join(request.args.getlist(k)) for k in request.args}
    now = time.time()
    route_key = f"{route.method} {route.path}"
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": request.host,
        "domainPrefix": request.host.split(".")[0],
        "http": {"method": request.method, "path": request.path, "protocol": "HTTP/1.1",
                 "sourceIp": request.remote_addr or "127.0.0.1", "userAgent": request.user_agent.string},
        "requestId": str(uuid.uuid4()),
        "routeKey": route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        # API Gateway passes every claim as a string.
        context["authorizer"] = {"jwt": {"claims": {k: _claim(v) for k, v in claims.items()}, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string.decode(),
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if raw_body:
        try:
            event["body"] = raw_body.decode() if is_text else None
        except UnicodeDecodeError:  # API Gateway base64-encodes what is not UTF-8 text
            event["body"] = None
        if event["body"] is None:
            event["body"], event["isBase64Encoded"] = base64.b64encode(raw_body).decode(), True
    return event


def _claim(value: Any) -> str:
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)

