"""Email through SES and SMS through SNS: the only code that sends messages to people."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from sitegate import sms
from sitegate.data.aws import ses, sns
from sitegate.settings import get_settings

SMS_LIMIT = 320  # characters: no SMS of two segments is longer (two GSM-7 parts hold 306)


class SendFailed(Exception):
    """SES or SNS did not take the message; the event's retry sends it again."""


def ready() -> None:
    """Make the SES and SNS clients now: boto3 makes clients unsafely from several threads at once."""
    ses()
    sns()


def send_email(to: str, subject: str, body: str) -> str:
    """One plain-text email from the configured sender; returns SES's message id."""
    try:
        response = ses().send_email(
            Source=get_settings().sender_email, Destination={"ToAddresses": [to]},
            Message={"Subject": {"Data": subject, "Charset": "UTF-8"},
                     "Body": {"Text": {"Data": body, "Charset": "UTF-8"}}})
    except (ClientError, BotoCoreError) as exc:
        raise SendFailed(f"SES refused the email: {exc}") from exc
    return str(response["MessageId"])


def send_sms(phone: str, text: str) -> str:
    """One transactional SMS of at most two segments (`sitegate.sms`); returns SNS's message id."""
    if not sms.fits(text):
        raise ValueError(f"an SMS is at most {sms.MAX_SEGMENTS} segments")
    try:
        response = sns().publish(PhoneNumber=phone, Message=text, MessageAttributes={
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}})
    except (ClientError, BotoCoreError) as exc:
        raise SendFailed(f"SNS refused the SMS: {exc}") from exc
    return str(response["MessageId"])
