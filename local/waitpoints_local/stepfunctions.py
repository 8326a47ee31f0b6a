"""Step Functions, locally: moto's executor runs the template's state machines, and its Lambda service
integration reaches the real handlers (moto's own Lambda would need Docker)."""

from __future__ import annotations

import io
import json
import logging
import uuid
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


STATE_DATA_LIMIT = 262_144  # Step Functions' quota on a state's input and output and a task's result, bytes


def _send_task_success_checked(original: Any) -> Any:
    """SendTaskSuccess refuses an output over 256 KiB with InvalidOutput, as Step Functions does."""

    def send_task_success(self: Any, task_token: str, outcome: str) -> Any:
        if len((outcome or "").encode()) > STATE_DATA_LIMIT:
            from moto.stepfunctions.parser.api import InvalidOutput

            raise InvalidOutput(f"The output exceeds the maximum size of {STATE_DATA_LIMIT} bytes")
        return original(self, task_token, outcome)

    return send_task_success


def _result_path_checked(original: Any) -> Any:
    """A state's output after its ResultPath merge over 256 KiB fails the state with States.DataLimitExceeded
    (terminal on AWS: Step Functions' quota on state data), as Step Functions does; moto has no such check."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    def _eval_body(self: Any, env: Any) -> None:
        original(self, env)
        size = len(json.dumps(env.stack[-1], separators=(",", ":"), ensure_ascii=False).encode())
        if size > STATE_DATA_LIMIT:
            name = StatesErrorNameType.StatesStatesDataLimitExceeded
            cause = (
                "The state/task returned a result with a size exceeding the maximum number of bytes service limit "
                f"({size} bytes)."
            )
            raise FailureEventException(
                failure_event=FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=name),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(  # type: ignore[typeddict-item]
                        taskFailedEventDetails=TaskFailedEventDetails(error=name.to_name(), cause=cause)
                    ),
                )
            )

    return _eval_body


def enforce_limits() -> None:
    """Step Functions' 256 KiB state data, in moto's executor: SendTaskSuccess's output, and ResultPath's merge."""
    from moto.stepfunctions.parser.asl.component.common.path.result_path import ResultPath
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    if not getattr(ResultPath, "_waitpoints_checked", False):
        ResultPath._eval_body = _result_path_checked(ResultPath._eval_body)  # type: ignore[method-assign]
        ResultPath._waitpoints_checked = True  # type: ignore[attr-defined]
        backend: Any = StepFunctionsParserBackend
        backend.send_task_success = _send_task_success_checked(backend.send_task_success)


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
    enforce_limits()
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


WAIT_FOR_TOKEN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:waitpoints-WaitForTokenFunction"


def waiting_machine(sfn: Any, name: str, result_path: str | None = None) -> str:
    """A one-state workflow on the local stack that waits on the token `$.id` (`waitForTaskToken` with the
    WaitForTokenFunction); returns its ARN. The tests and the soak run start executions of it."""
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "End": True,
        "Parameters": {
            "FunctionName": WAIT_FOR_TOKEN_ARN,
            "Payload": {"taskToken.$": "$$.Task.Token", "waitpointId.$": "$.id"},
        },
    }
    if result_path is not None:
        task["ResultPath"] = result_path
    return str(
        sfn.create_state_machine(
            name=f"{name}-{uuid.uuid4().hex[:6]}",
            definition=json.dumps({"StartAt": "Wait", "States": {"Wait": task}}),
            roleArn="arn:aws:iam::123456789012:role/waitpoints-local",
        )["stateMachineArn"]
    )
