"""HTTP glue shared by every function: the resolver with its error mapping, the
caller behind the verified token, and Idempotency-Key handling."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from sitegate import audit
from sitegate.data import access_store, core, user_store
from sitegate.data.idempotency import Idempotency, find_idempotent_response
from sitegate.errors import Conflict, Forbidden, SiteGateError, Unauthorized, invalid
from sitegate.models.audit import RequestFacts
from sitegate.models.stored import Account, User
from sitegate.on_job import JobContext, job_context
from sitegate.policy import Caller, level_family, require, standing

logger = Logger(child=True)


class JsonFloat(float):
    """A JSON number with a fraction or exponent, as parsed, with the text it was written as."""

    json_text: str

    @classmethod
    def of(cls, text: str) -> JsonFloat:
        number = cls(text)
        number.json_text = text
        return number


class JsonInt(int):
    """A JSON integer, as parsed, with the text it was written as (`-0` stays visible)."""

    json_text: str

    @classmethod
    def of(cls, text: str) -> JsonInt:
        number = cls(text)
        number.json_text = text
        return number

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
Model = TypeVar("Model", bound=BaseModel)


def _error(status: int, message: str, **details: Any) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps({"message": message, **details}))


def _unreadable(reason: str) -> RequestValidationError:
    return RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": reason, "input": {}, "ctx": {}}])


class _JsonBodies(OpenAPIRequestValidationMiddleware):
    """Bodies are JSON only: a form or multipart body is refused (415) as any other type is,
    before Powertools tries to parse it (a multipart type without a boundary was a 500). Numbers
    keep the text they were written as (`JsonFloat`, `JsonInt`), so a decimal amount can refuse
    `1E2` or `-0` that a plain float or int would hide; a number past Python's 4,300-digit limit,
    or nesting past its recursion limit, is a body we cannot read (422), not a 500."""

    def _get_body(self, app: Any) -> Any:
        content_type = app.current_event.headers.get("content-type", "").strip()
        if content_type and not content_type.startswith(content_types.APPLICATION_JSON):
            raise RequestUnsupportedContentType("Unsupported content type", errors=[])
        text = app.current_event.decoded_body
        if not text:
            return None  # no body: validation says so where one is needed
        try:
            body = json.loads(text, parse_float=JsonFloat.of, parse_int=JsonInt.of)
        except json.JSONDecodeError as exc:
            raise _unreadable(f"JSON decode error: {exc.msg}") from exc
        except ValueError as exc:  # an integer of more than 4,300 digits
            raise _unreadable("a number too long to read") from exc
        except RecursionError as exc:
            raise _unreadable("nested too deeply to read") from exc
        return body


def _nobody_acting_yet(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    """A warm instance (or the local gateway's thread) never lends one request's actor to the next."""
    audit.act(None)
    return next_middleware(app)


class _OwnEventResolver(APIGatewayHttpResolver):
    """Powertools keeps the current event on the BaseRouter class, shared by every resolver in the
    process. Lambda runs one request per process, but a host that serves requests on threads (the
    local gateway's warm instances) would let one request read another's claims and body. Each
    resolver here keeps its own event, which the class attribute cannot shadow."""

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        self.current_event = cast(APIGatewayProxyEventV2, self._to_proxy_event(cast(dict, event)))
        self.lambda_context = context
        return super().resolve(event, context)


def build_resolver() -> APIGatewayHttpResolver:
    """One resolver per function, with every domain error mapped to HTTP here, once."""
    app = _OwnEventResolver(enable_validation=True)
    app._request_validation_middleware = _JsonBodies()
    app.use(middlewares=[_nobody_acting_yet])

    @app.exception_handler(SiteGateError)
    def _domain_error(exc: SiteGateError) -> Response:
        logger.info("request refused", extra={"status": exc.status, "error": type(exc).__name__,
                                              "reason": exc.message})
        return _error(exc.status, exc.message, **exc.details)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        errors = [
            {"field": "body" if err.get("type") == "json_invalid"
                else ".".join(str(part) for part in err.get("loc", ())[1:]) or "body",
             "message": err.get("msg", "invalid")}
            for err in exc.errors()
        ]
        logger.info("invalid input", extra={"errors": errors})
        fields = ", ".join(e["field"] for e in errors)
        return _error(422, f"invalid input: {fields}", errors=errors)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response:
        return _error(415, "send JSON: Content-Type application/json")

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(exc: UnicodeDecodeError) -> Response:
        return _error(422, "invalid input: body", errors=[{"field": "body", "message": "JSON must be UTF-8"}])

    @app.exception_handler(RecursionError)
    def _too_deep(exc: RecursionError) -> Response:
        return _error(422, "invalid input: body", errors=[{"field": "body", "message": "JSON nested too deeply"}])

    @app.not_found
    def _no_route(exc: Exception) -> Response:
        return _error(404, "Not Found")

    return app


def _identity(app: APIGatewayHttpResolver) -> tuple[str, str, str]:
    """Tenant, user and account from the verified token's claims."""
    claims = app.current_event.request_context.authorizer.jwt_claim
    tenant_id, user_id = claims.get("custom:tenant_id"), claims.get("cognito:username")
    account_id = claims.get("custom:account_id")
    if not (tenant_id and user_id and account_id):
        raise Unauthorized("the identity token does not name a SiteGate user")
    return tenant_id, user_id, account_id


def request_facts(app: APIGatewayHttpResolver) -> RequestFacts:
    """What the API Gateway event says about the request, for its audit entries."""
    event = app.current_event
    context = event.request_context
    return RequestFacts(request_id=context.request_id, idempotency_key=event.headers.get("idempotency-key"),
                        source_ip=context.http.source_ip, user_agent=(context.http.user_agent or "")[:512] or None)


def _admit(app: APIGatewayHttpResolver, user: User | None, account: Account | None, retention: Any) -> Caller:
    """Unknown, disabled, deleted or archived callers are refused (403). An admitted caller is who
    acts in this request's audit entries (a platform operator as `operator`)."""
    if user is None or account is None:
        raise Forbidden("this identity has no SiteGate user")
    caller = Caller(user=user, account=account)
    require(standing(caller))  # disabled, deleted or archived: refused on the very next request
    logger.append_keys(tenant_id=user.tenant_id, user_id=user.user_id)
    actor = audit.operator_actor(user) if level_family(user.level) == "platform" else audit.user_actor(user)
    audit.act(audit.Acting(tenant_id=user.tenant_id, actor=actor, request=request_facts(app),
                           retention_days=audit.retention_of(retention)))
    return caller


def current_caller(app: APIGatewayHttpResolver) -> Caller:
    """The caller from the verified token's claims plus its stored user and account
    (one read). Disabled, deleted, unknown or archived callers are refused (403)."""
    tenant_id, user_id, account_id = _identity(app)
    return _admit(app, *user_store.get_caller(tenant_id, user_id, account_id))


def current_caller_on_job(app: APIGatewayHttpResolver, job_id: str) -> tuple[Caller, JobContext]:
    """The caller and the job of the path, authorized in ONE read (BatchGetItem): the caller's
    user and account, the job, the account's entry on its access list and the user's project
    role. The caller's standing is checked first (403), then the job must be one the caller may
    see (404). A guest contractor's users need their sponsor's entry too: one more read, for
    them only (see `on_job.job_context`)."""
    tenant_id, user_id, account_id = _identity(app)
    read = access_store.get_caller_on_job(tenant_id, user_id, account_id, job_id)
    caller = _admit(app, read.user, read.account, read.retention)
    return caller, job_context(caller, read.job, read.grant, read.role, job_id)


def _request_hash(body: BaseModel) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def idempotent_create(
    app: APIGatewayHttpResolver,
    caller: Caller,
    scope: str,
    body: BaseModel,
    create: Callable[[Idempotency | None], Model],
) -> Model:
    """Run a create once per Idempotency-Key: the same caller repeating it with the same
    body gets the first response and creates nothing. The marker is written in the create's
    own transaction, so a concurrent repeat cannot create twice. Keys belong to the caller
    who used them: nobody else can replay a response they were never authorized to get.

    Returns the created model, or on a repeat the first response's JSON, which the route's
    return type (`-> JobOut`) validates and serializes like the model. The status is the
    route's own (`@app.post(..., status_code=201)`), for the first answer and every repeat."""
    key = app.current_event.headers.get("idempotency-key")
    if not key:
        return create(None)
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise invalid("Idempotency-Key", "1 to 200 characters: letters, digits and - _ . :")
    tenant_id = caller.user.tenant_id
    scope = f"{caller.user.user_id}#{scope}"
    request_hash = _request_hash(body)
    replay = find_idempotent_response(tenant_id, scope, key, request_hash)
    if replay is None:
        idempotency = Idempotency(tenant_id=tenant_id, scope=scope, key=key, request_hash=request_hash)
        try:
            return create(idempotency)
        except core.IdempotencyReplay:
            # A concurrent repeat with this key won the race: answer what it answered.
            replay = find_idempotent_response(tenant_id, scope, key, request_hash)
            if replay is None:
                raise Conflict("Idempotency-Key is in use by a request still in progress; try again") from None
    # The first answer's JSON as it was sent, not revalidated: the route serializes it as it would the model.
    return cast(Model, replay.body)
