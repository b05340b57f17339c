"""Over HTTP against the local stack: health, the JWT authorizer's 401s, tenant
onboarding and the new Super Admin's /me."""

import gzip
import json
import time
import uuid
from importlib import resources as package_files

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _forged(claims: dict, key) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


def _moto_signing_key():
    """The local pool's own private key (moto's), to forge tokens that differ only in a claim."""
    raw = package_files.files("moto").joinpath("cognitoidp/resources/jwks-private.json.gz").read_bytes()
    return jwt.PyJWK(json.loads(gzip.decompress(raw))).key


def test_health_is_open(api):
    reply = api.request("GET", "/health")
    assert (reply.status_code, reply.json()) == (200, {"status": "ok"})


def test_unknown_route_is_404(api, operator_token):
    assert api.request("GET", "/no-such-route", operator_token).status_code == 404


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz",
                                           "Bearer eyJhbGciOiJub25lIn0.e30."])
def test_missing_or_malformed_token_is_401(api, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    reply = api.request("GET", "/me", headers=headers)
    assert reply.status_code == 401
    assert reply.json() == {"message": "Unauthorized"}


def test_token_signed_by_another_key_is_401(api, operator_token):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert api.request("GET", "/me", _forged(_claims(operator_token), stranger)).status_code == 401


def test_expired_token_is_401(api, operator_token):
    claims = {**_claims(operator_token), "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}
    assert api.request("GET", "/me", _forged(claims, _moto_signing_key())).status_code == 401


@pytest.mark.parametrize("claim", [{"aud": "another-app"}, {"iss": "https://cognito-idp.us-east-1.amazonaws.com/other"}])
def test_token_for_another_audience_or_issuer_is_401(api, operator_token, claim):
    claims = {**_claims(operator_token), **claim}
    assert api.request("GET", "/me", _forged(claims, _moto_signing_key())).status_code == 401


def test_same_claims_resigned_by_pool_key_pass(api, operator_token):
    # The forging above is sound: an unchanged token re-signed with the pool key is accepted.
    assert api.request("GET", "/me", _forged(_claims(operator_token), _moto_signing_key())).status_code == 200


def test_operator_onboards_tenant_whose_super_admin_signs_in(api, operator_token):
    # Given
    email = f"ada-{uuid.uuid4().hex[:8]}@acme.example"
    body = {"name": "Acme Traffic", "admin_email": email, "admin_name": "Ada Admin", "timezone": "Pacific/Auckland"}
    # When
    created = api.request("POST", "/tenants", operator_token, json=body)
    # Then
    assert created.status_code == 201, created.text
    ids = created.json()
    admin = api.token(email)
    me = api.request("GET", "/me", admin)
    assert me.status_code == 200
    assert me.json()["tenant_id"] == ids["tenant_id"]
    assert me.json()["user"]["user_id"] == ids["admin_user_id"]
    assert me.json()["account"]["account_id"] == ids["owner_account_id"]
    assert me.json()["level"] == "super_admin"
    assert me.json()["user"]["is_master"] is True
    # And only platform operators create tenants
    again = api.request("POST", "/tenants", admin, json={**body, "admin_email": "x@y.example"})
    assert again.status_code == 403


def test_post_tenants_without_token_is_401_and_creates_nothing(api):
    reply = api.request("POST", "/tenants", json={"name": "X", "admin_email": "nobody@x.example", "admin_name": "X"})
    assert reply.status_code == 401
    assert api.request("POST", "/local/token", json={"email": "nobody@x.example"}).status_code == 404


def test_bad_tenant_body_is_422_naming_the_field(api, operator_token):
    reply = api.request("POST", "/tenants", operator_token, json={"name": "X", "admin_name": "X",
                                                                  "admin_email": "nope"})
    assert reply.status_code == 422
    assert [e["field"] for e in reply.json()["errors"]] == ["admin_email"]


def test_idempotency_key_replays_first_response(api, operator_token):
    body = {"name": "Once Ltd", "admin_email": f"once-{uuid.uuid4().hex[:8]}@once.example", "admin_name": "O"}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = api.request("POST", "/tenants", operator_token, json=body, headers=dict(headers))
    second = api.request("POST", "/tenants", operator_token, json=body, headers=dict(headers))
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()


def test_levels_catalog_for_any_user(api, operator_token):
    reply = api.request("GET", "/levels", operator_token)
    assert reply.status_code == 200
    assert len(reply.json()["staff"]) == 8


def test_test_clock_is_set_with_an_offset_and_cleared(api):
    set_ = api.request("POST", "/local/clock", json={"now": "2026-09-15T10:00:00+12:00"})
    assert set_.json() == {"now": "2026-09-14T22:00:00+00:00"}
    assert api.request("POST", "/local/clock", json={"now": "yesterday"}).status_code == 422
    cleared = api.request("DELETE", "/local/clock")
    assert cleared.json()["now"] != "2026-09-14T22:00:00+00:00"

