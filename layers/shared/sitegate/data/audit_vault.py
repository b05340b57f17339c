"""Where seals are kept beyond the table's reach: signed by an asymmetric KMS key (the private half
never leaves KMS) and written to an S3 bucket under Object Lock (no one may change or delete them
until their retention ends)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Final

from botocore.exceptions import ClientError

from sitegate.data.aws import kms, s3
from sitegate.settings import get_settings

SIGNING_ALGORITHM: Final = "ECDSA_SHA_256"


def sign(digest_hex: str) -> str:
    """KMS's signature over a SHA-256 digest (given as hex), base64."""
    reply = kms().sign(KeyId=get_settings().audit_key_id, Message=bytes.fromhex(digest_hex), MessageType="DIGEST",
                       SigningAlgorithm=SIGNING_ALGORITHM)
    return base64.b64encode(reply["Signature"]).decode()


def signature_valid(digest_hex: str, signature: str) -> bool:
    try:
        reply = kms().verify(KeyId=get_settings().audit_key_id, Message=bytes.fromhex(digest_hex),
                             MessageType="DIGEST", Signature=base64.b64decode(signature),
                             SigningAlgorithm=SIGNING_ALGORITHM)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "KMSInvalidSignatureException":
            return False
        raise
    except ValueError:  # not base64
        return False
    return bool(reply.get("SignatureValid"))


def put_seal(object_key: str, document: dict[str, Any]) -> str:
    """Write a seal document; returns its S3 version id (the bucket is versioned, as Object Lock needs)."""
    body = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    reply = s3().put_object(Bucket=get_settings().audit_bucket, Key=object_key, Body=body,
                            ContentType="application/json", ChecksumAlgorithm="SHA256",
                            ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode())  # noqa: S324 - Object Lock asks for it
    return str(reply.get("VersionId") or "")


def get_seal(object_key: str, version_id: str) -> dict[str, Any] | None:
    """A seal document as written (that version), or None when it is not there."""
    kwargs: dict[str, Any] = {"Bucket": get_settings().audit_bucket, "Key": object_key}
    if version_id:
        kwargs["VersionId"] = version_id
    try:
        body = s3().get_object(**kwargs)["Body"].read()
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "NoSuchVersion", "404"):
            return None
        raise
    document: dict[str, Any] = json.loads(body)
    return document
