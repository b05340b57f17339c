"""The Cognito user pool: one identity per SiteGate user, its username the user id."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

from sitegate.data.aws import cognito
from sitegate.errors import Conflict
from sitegate.models.stored import User
from sitegate.settings import get_settings


def invite(user: User) -> None:
    """Create the identity; Cognito mails the invitation with a temporary password."""
    try:
        cognito().admin_create_user(
            UserPoolId=get_settings().user_pool_id,
            Username=user.user_id,
            UserAttributes=[
                {"Name": "email", "Value": user.email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": user.name},
                {"Name": "custom:tenant_id", "Value": user.tenant_id},
                {"Name": "custom:account_id", "Value": user.account_id},
            ],
            DesiredDeliveryMediums=["EMAIL"],
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "UsernameExistsException":
            raise Conflict("user identity already exists") from exc
        raise


@contextmanager
def invited(user: User | None) -> Iterator[None]:
    """The one Cognito compensation: invite `user` (None: nobody), run the block that writes its
    records, and remove the identity again if the block raises, so a failure leaves neither an
    identity without a record nor a record without an identity."""
    if user is None:
        yield
        return
    invite(user)
    try:
        yield
    except BaseException:
        remove(user.user_id)
        raise


def remove(user_id: str) -> None:
    """Delete the identity (compensation and user deletion); already gone is fine."""
    try:
        cognito().admin_delete_user(UserPoolId=get_settings().user_pool_id, Username=user_id)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "UserNotFoundException":
            raise


def disable(user_id: str) -> None:
    """Block sign-in and revoke every refresh token (existing ID tokens are refused by SiteGate itself)."""
    pool = get_settings().user_pool_id
    cognito().admin_disable_user(UserPoolId=pool, Username=user_id)
    cognito().admin_user_global_sign_out(UserPoolId=pool, Username=user_id)


def enable(user_id: str) -> None:
    cognito().admin_enable_user(UserPoolId=get_settings().user_pool_id, Username=user_id)


def reset_password(user: User) -> None:
    """Start the pool's password reset; a user who never signed in gets the invitation again."""
    pool = get_settings().user_pool_id
    try:
        cognito().admin_reset_user_password(UserPoolId=pool, Username=user.user_id)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotAuthorizedException":
            raise
        cognito().admin_create_user(UserPoolId=pool, Username=user.user_id, MessageAction="RESEND",
                                    DesiredDeliveryMediums=["EMAIL"])
