"""`sam build` works on a machine with no Docker and no Python 3.13, and what it builds imports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from waitpoints_local.template import Template

REPO = Path(__file__).resolve().parents[2]
SAM = os.environ.get("SAM_CLI") or shutil.which("sam")

pytestmark = pytest.mark.skipif(not SAM, reason="SAM CLI not installed (make test installs it into .venv-sam)")


def _sam(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(SAM), *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("sam") / "build"
    result = _sam("build", "--build-dir", str(target), "--template", str(REPO / "template.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def test_sam_validate_lint_reports_nothing() -> None:
    result = _sam("validate", "--lint", "--template", str(REPO / "template.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("function", [f.logical_id for f in Template().functions()])
def test_every_built_handler_imports_from_the_build_output(build_dir: Path, function: str) -> None:
    """In an isolated interpreter (-I: no PYTHONPATH, no user site), with only the built function and the
    built CoreLayer on the path; boto3 and Powertools come from site-packages, standing in for the Lambda
    runtime and the Powertools layer. The layer's native libraries are built for arm64 and cannot load on
    this machine, so this machine's `cryptography` is imported first in their place (the next test checks
    that the layer's own are arm64)."""
    layer, code = build_dir / "CoreLayer" / "python", build_dir / function
    check = (
        "import cryptography.hazmat.primitives.asymmetric.ec, cryptography.hazmat.bindings._rust;"
        "import sys; sys.path[:0] = sys.argv[1:3]; import app, jwt, waitpoints_core;"
        "assert callable(app.lambda_handler);"
        "assert waitpoints_core.__file__.startswith(sys.argv[1]) and jwt.__file__.startswith(sys.argv[1])"
    )
    result = subprocess.run([sys.executable, "-I", "-c", check, str(layer), str(code)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_layer_holds_arm64_lambda_wheels_only_for_what_the_runtime_lacks(build_dir: Path) -> None:
    layer = build_dir / "CoreLayer" / "python"
    packages = {p.name for p in layer.iterdir()}
    assert {"waitpoints_core", "waitpoints_http", "jwt", "cryptography"} <= packages
    assert not packages & {"boto3", "botocore", "pydantic", "aws_lambda_powertools"}
    native = list(layer.rglob("*.so"))
    assert native
    for library in native:  # ELF e_machine 0xB7 is AArch64, what Lambda's arm64 runs
        header = library.read_bytes()[:20]
        assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 0xB7, library.name
