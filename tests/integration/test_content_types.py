"""Bodies are JSON only: any other content type is refused with 415 before anything is parsed
or stored (found by schemathesis: `multipart/form-data` without a boundary was a 500)."""

import pytest

from tests.integration.conftest import call


@pytest.mark.parametrize("content_type", [
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "text/plain",
])
def test_a_body_that_is_not_json_is_refused_with_415_and_nothing_is_created(super_admin, content_type):
    # Given a vehicle sent as something other than JSON
    body = "name=Truck+7&registration=QQ12"
    # When
    reply = call("user_levels", "post_vehicles.json", super_admin, body=body, headers={"content-type": content_type})
    # Then
    assert reply.status == 415, reply.body
    assert reply.body == {"message": "send JSON: Content-Type application/json"}
    assert call("user_levels", "get_vehicles.json", super_admin).body["items"] == []


def test_json_with_a_charset_is_taken(super_admin):
    # When
    reply = call("user_levels", "post_vehicles.json", super_admin,
                 headers={"content-type": "application/json; charset=utf-8"})
    # Then
    assert reply.status == 201, reply.body
