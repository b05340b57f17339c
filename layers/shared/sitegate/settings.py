"""Typed configuration, read from the environment once per process (cold start)."""

from __future__ import annotations

import functools
import os

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: str
    user_pool_id: str
    user_pool_client_id: str
    events_topic_arn: str = ""
    sender_email: str = "no-reply@sitegate.example"
    billing_queue_url: str = ""  # the billing function's only: one message per tenant to bill or seal
    notifications_queue_url: str = ""  # the notifications function's own queue: an alert's further sending batches
    audit_key_id: str = ""  # the asymmetric KMS key that signs audit seals (billing signs, user_levels verifies)
    audit_bucket: str = ""  # the Object Lock bucket holding the signed seals


@functools.cache
def get_settings() -> Settings:
    return Settings(
        table_name=os.environ["TABLE_NAME"],
        user_pool_id=os.environ["USER_POOL_ID"],
        user_pool_client_id=os.environ["USER_POOL_CLIENT_ID"],
        events_topic_arn=os.environ.get("EVENTS_TOPIC_ARN", ""),
        sender_email=os.environ.get("SENDER_EMAIL", "no-reply@sitegate.example"),
        billing_queue_url=os.environ.get("BILLING_QUEUE_URL", ""),
        notifications_queue_url=os.environ.get("NOTIFICATIONS_QUEUE_URL", ""),
        audit_key_id=os.environ.get("AUDIT_KEY_ID", ""),
        audit_bucket=os.environ.get("AUDIT_BUCKET", ""),
    )
