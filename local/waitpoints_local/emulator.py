"""moto's server, in-process, with the resources of template.yaml created in it."""

from __future__ import annotations

import json
import logging
import os
import secrets
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from moto.server import ThreadedMotoServer

from . import moto_fixes

if TYPE_CHECKING:
    from .template import Template

REGION = "us-east-1"
LOCAL_STACK_NAME = "waitpoints-local"
_TABLE_FIELDS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode", "StreamSpecification")


def fake_aws_environment(endpoint: str) -> dict[str, str]:
    """What every boto3 client in this process needs to talk to the emulation and never to a real account."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }


@dataclass
class Emulator:
    endpoint: str
    refs: dict[str, Any]  # logical id or parameter name → the value `!Ref` gives locally
    _server: ThreadedMotoServer

    def stop(self) -> None:
        self._server.stop()


def start(template: Template) -> Emulator:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server would log every AWS call
    moto_fixes.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update(fake_aws_environment(endpoint))
    os.environ["MOTO_PORT"] = str(port)  # moto's Step Functions integrations call back to this port
    refs = create_resources(template)
    return Emulator(endpoint, refs, server)


def create_resources(template: Template, session: Any = boto3) -> dict[str, Any]:
    """Create the template's tables, secrets, buckets and queues in the emulated AWS (moto's server, or an
    in-process mock_aws). Returns what `!Ref` gives locally, by logical id and parameter name."""
    refs: dict[str, Any] = dict(template.parameter_defaults())
    refs["AWS::StackName"] = LOCAL_STACK_NAME  # lifecycle events name their stack (moto has the default bus)
    for lid, props in template.resources_of_type("AWS::DynamoDB::Table").items():
        refs[lid] = create_table(session.client("dynamodb"), f"waitpoints-{lid}", props)
    for lid, props in template.resources_of_type("AWS::SecretsManager::Secret").items():
        refs[lid] = create_secret(session.client("secretsmanager"), f"waitpoints-{lid}", props)
    for lid in template.resources_of_type("AWS::S3::Bucket"):
        refs[lid] = f"waitpoints-{lid.lower()}"
        session.client("s3").create_bucket(Bucket=refs[lid])
    for lid in template.resources_of_type("AWS::SQS::Queue"):
        refs[lid] = session.client("sqs").create_queue(QueueName=f"waitpoints-{lid}")["QueueUrl"]
    for lid in template.resources_of_type("AWS::Serverless::Function"):
        refs.setdefault(lid, f"waitpoints-{lid}")  # `!Ref Function` is its name: what stepfunctions.start registers
    return refs


def create_table(client: Any, name: str, props: dict[str, Any]) -> str:
    fields = {k: props[k] for k in _TABLE_FIELDS if k in props}
    if "StreamSpecification" in fields:  # CloudFormation's shape lacks the API's StreamEnabled
        fields["StreamSpecification"] = {"StreamEnabled": True, **fields["StreamSpecification"]}
    client.create_table(TableName=name, **fields)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    return name


def create_secret(client: Any, name: str, props: dict[str, Any]) -> str:
    """A secret shaped like CloudFormation's GenerateSecretString would make it."""
    spec = props["GenerateSecretString"]
    value = json.loads(spec["SecretStringTemplate"])
    alphabet = string.ascii_letters + string.digits
    value[spec["GenerateStringKey"]] = "".join(secrets.choice(alphabet) for _ in range(int(spec["PasswordLength"])))
    return str(client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"])
