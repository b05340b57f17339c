"""The data layer: the only code that imports boto3. It turns stored models into
items and back, and AWS error codes into domain errors."""

import boto3  # noqa: F401 - loaded with the package, before `sitegate` freezes what the libraries made
