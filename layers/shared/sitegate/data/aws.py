"""boto3 clients and resources, made once per process.

The endpoint is boto3's own business: `AWS_ENDPOINT_URL` (set by tests and the
local stack) points every client at local services; in AWS it is unset.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from sitegate.settings import get_settings

if TYPE_CHECKING:  # the stubs are for mypy only: nothing of them is imported at run time
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@functools.cache
def table() -> Table:
    return boto3.resource("dynamodb", config=_CONFIG).Table(get_settings().table_name)


def dynamodb_client() -> Any:
    """The table resource's client: it takes and returns plain Python values, not `{"S": ...}`.
    Untyped: the stubs know only the low-level client's `{"S": ...}` shapes."""
    return table().meta.client


@functools.cache
def cognito() -> CognitoIdentityProviderClient:
    return boto3.client("cognito-idp", config=_CONFIG)


@functools.cache
def sns() -> SNSClient:
    return boto3.client("sns", config=_CONFIG)


@functools.cache
def ses() -> SESClient:
    return boto3.client("ses", config=_CONFIG)


@functools.cache
def sqs() -> SQSClient:
    return boto3.client("sqs", config=_CONFIG)


@functools.cache
def kms() -> KMSClient:
    return boto3.client("kms", config=_CONFIG)


@functools.cache
def s3() -> S3Client:
    return boto3.client("s3", config=_CONFIG)
