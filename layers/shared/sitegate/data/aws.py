"""boto3 clients and resources, made once per process.

The endpoint is boto3's own business: `AWS_ENDPOINT_URL` (set by tests and the
local stack) points every client at local services; in AWS it is unset.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

from sitegate.settings import get_settings

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@functools.cache
def table() -> Any:
    return boto3.resource("dynamodb", config=_CONFIG).Table(get_settings().table_name)


def dynamodb_client() -> Any:
    """The table resource's client: it takes plain Python values, not `{"S": ...}`."""
    return table().meta.client


@functools.cache
def cognito() -> Any:
    return boto3.client("cognito-idp", config=_CONFIG)


@functools.cache
def sns() -> Any:
    return boto3.client("sns", config=_CONFIG)


@functools.cache
def ses() -> Any:
    return boto3.client("ses", config=_CONFIG)


@functools.cache
def sqs() -> Any:
    return boto3.client("sqs", config=_CONFIG)
