"""Reads template.yaml, the single source of the routes, handlers, environment and table definition."""

from __future__ import annotations

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


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ..., or ANY
    path: str  # API Gateway path template, e.g. /api/v1/waitpoints/tokens/{id}

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    handler: str  # module.attribute, relative to code_dir
    routes: tuple[Route, ...]
    environment: dict[str, Any]


class Template:
    def __init__(self, path: Path = TEMPLATE_PATH) -> None:
        self.path = path
        self.doc: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
        self.resources: dict[str, Any] = self.doc["Resources"]

    def parameter_defaults(self) -> dict[str, Any]:
        return {name: spec.get("Default") for name, spec in self.doc.get("Parameters", {}).items()}

    def resources_of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {lid: res.get("Properties", {}) for lid, res in self.resources.items() if res["Type"] == kind}

    def functions(self) -> list[Function]:
        globals_env = self.doc.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        functions = []
        for lid, props in self.resources_of_type("AWS::Serverless::Function").items():
            routes = tuple(
                Route(str(event["Properties"]["Method"]).upper(), event["Properties"]["Path"])
                for event in props.get("Events", {}).values()
                if event["Type"] == "HttpApi"
            )
            env = {**globals_env, **props.get("Environment", {}).get("Variables", {})}
            functions.append(Function(lid, self.path.parent / props["CodeUri"], props["Handler"], routes, env))
        return functions


def resolve(value: Any, refs: dict[str, Any]) -> Any:
    """Resolve `Ref`s (resources and parameters) against `refs`; other intrinsics are not used in environments."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return refs[value["Ref"]]
    if isinstance(value, dict):
        raise ValueError(f"unsupported intrinsic in a local environment: {value}")
    return value
