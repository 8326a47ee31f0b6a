"""Reads template.yaml, the single source of the routes, handlers, environment and table definition."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (`!Ref X` → `{"Ref": "X"}`)."""


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_cfn_yaml(text: str) -> Any:
    """CloudFormation YAML, short-form tags kept as their long form."""
    return yaml.load(text, Loader=_CfnLoader)


DEFAULT_ROUTE = "$default"  # an HttpApi event without Path and Method: every request no other route matches


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ..., or ANY
    path: str  # API Gateway path template, e.g. /api/v1/waitpoints/tokens/{id}, or $default

    @property
    def key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class StreamSource:
    """A DynamoDB stream event source mapping, as its template event declares it."""

    table: str  # logical id of the table
    batch_size: int
    max_retries: int
    bisect_on_error: bool
    filters: tuple[dict[str, Any], ...]
    on_failure: str | None  # logical id of the on-failure queue


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    handler: str  # module.attribute, relative to code_dir
    routes: tuple[Route, ...]
    environment: dict[str, Any]
    streams: tuple[StreamSource, ...] = ()
    schedules: tuple[str, ...] = ()


class Template:
    def __init__(self, path: Path = TEMPLATE_PATH) -> None:
        self.path = path
        self.doc: dict[str, Any] = load_cfn_yaml(path.read_text())
        self.resources: dict[str, Any] = self.doc["Resources"]

    @property
    def conditions(self) -> dict[str, Any]:
        return dict(self.doc.get("Conditions", {}))

    def parameter_defaults(self) -> dict[str, Any]:
        return {name: spec.get("Default") for name, spec in self.doc.get("Parameters", {}).items()}

    def resources_of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {lid: res.get("Properties", {}) for lid, res in self.resources.items() if res["Type"] == kind}

    def functions(self) -> list[Function]:
        globals_env = self.doc.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        functions = []
        for lid, props in self.resources_of_type("AWS::Serverless::Function").items():
            routes = tuple(
                Route(
                    str(event["Properties"].get("Method", "ANY")).upper(),
                    event["Properties"].get("Path", DEFAULT_ROUTE),
                )
                for event in props.get("Events", {}).values()
                if event["Type"] == "HttpApi"
            )
            env = {**globals_env, **props.get("Environment", {}).get("Variables", {})}
            events = props.get("Events", {}).values()
            streams = tuple(_stream_source(e["Properties"]) for e in events if e["Type"] == "DynamoDB")
            schedules = tuple(e["Properties"]["Schedule"] for e in events if e["Type"] == "Schedule")
            functions.append(
                Function(lid, self.path.parent / props["CodeUri"], props["Handler"], routes, env, streams, schedules)
            )
        return functions


def _stream_source(props: dict[str, Any]) -> StreamSource:
    on_failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    return StreamSource(
        table=props["Stream"]["Fn::GetAtt"][0],
        batch_size=int(props.get("BatchSize", 100)),
        max_retries=int(props.get("MaximumRetryAttempts", -1)),
        bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
        filters=tuple(json.loads(f["Pattern"]) for f in props.get("FilterCriteria", {}).get("Filters", [])),
        on_failure=on_failure["Fn::GetAtt"][0] if on_failure else None,
    )


def resolve(value: Any, refs: dict[str, Any], conditions: dict[str, Any] | None = None) -> Any:
    """Resolve `Ref`, `Fn::GetAtt X.Arn` and `Fn::If` against `refs` (logical id or parameter → local value)
    and the template's `conditions` (evaluated with the parameters' defaults)."""
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return refs[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:
        return refs[f"{value['Fn::GetAtt'][0]}.{value['Fn::GetAtt'][1]}"]
    if set(value) == {"Fn::If"} and conditions is not None:
        name, then, otherwise = value["Fn::If"]
        return resolve(then if _holds(conditions[name], refs, conditions) else otherwise, refs, conditions)
    raise ValueError(f"unsupported intrinsic in a local environment: {value}")


def _holds(condition: Any, refs: dict[str, Any], conditions: dict[str, Any]) -> bool:
    ((kind, args),) = condition.items()
    if kind == "Fn::Equals":
        return bool(resolve(args[0], refs, conditions) == resolve(args[1], refs, conditions))
    if kind == "Fn::Not":
        return not _holds(args[0], refs, conditions)
    if kind == "Condition":
        return _holds(conditions[args], refs, conditions)
    raise ValueError(f"unsupported condition in a local environment: {condition}")
