"""Step Functions, locally: moto's executor runs the template's state machines, and its Lambda service
integration reaches the real handlers (moto's own Lambda would need Docker)."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from typing import Any

import boto3
import httpx
from moto.awslambda.models import LambdaFunction

from .lambdas import ContainerPool, InvocationError
from .template import Template, resolve

_routes: dict[str, ContainerPool] = {}
_moto_invoke = LambdaFunction._invoke_lambda


def _invoke_routed(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """moto's LambdaFunction._invoke_lambda, sent to our container pool for the template's functions."""
    pool = _routes.get(self.function_name)
    if pool is None:
        return _moto_invoke(self, event)
    try:
        result = pool.invoke(event if isinstance(event, dict) else json.loads(event or "{}"))
    except InvocationError as error:
        return json.dumps(error.payload()), True, ""
    return json.dumps(result), False, ""


def _placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# served by the waitpoints local stack\n")
    return buffer.getvalue()


def start(endpoint: str, template: Template, pools: dict[str, ContainerPool], refs: dict[str, Any]) -> None:
    """Register every function with moto's Lambda, then create the state machines. Adds to `refs` the
    ARNs that `!GetAtt <Function>.Arn` and `!Ref <StateMachine>` resolve to."""
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    httpx.post(
        f"{endpoint}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}
    ).raise_for_status()
    LambdaFunction._invoke_lambda = _invoke_routed  # type: ignore[method-assign]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            }
        ],
    }
    role = boto3.client("iam").create_role(RoleName="waitpoints-local", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    lambda_client = boto3.client("lambda")
    for logical_id, pool in pools.items():
        name = f"waitpoints-{logical_id}"
        arn = lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=role,
            Handler=pool.function.handler,
            Code={"ZipFile": _placeholder_zip()},
        )["FunctionArn"]
        _routes[name] = pool
        refs[f"{logical_id}.Arn"] = arn
    sfn = boto3.client("stepfunctions")
    for logical_id, props in template.resources_of_type("AWS::Serverless::StateMachine").items():
        definition = (template.path.parent / props["DefinitionUri"]).read_text()
        for name, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + name + "}", str(resolve(value, refs)))
        refs[logical_id] = sfn.create_state_machine(
            name=f"waitpoints-{logical_id}", definition=definition, roleArn=role, type=props.get("Type", "STANDARD")
        )["stateMachineArn"]
