"""Plugins for every test run: the IAM trace records each function's AWS actions (tests/iam_trace.py)."""

pytest_plugins = ["tests.iam_trace"]
