"""The SDK's wheel and sdist, built offline with the build backend (hatchling, in the dev venv): metadata and files."""

from __future__ import annotations

import email
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def version() -> str:
    namespace: dict[str, str] = {}
    exec((REPO / "sdk" / "waitpoints" / "_version.py").read_text(), namespace)
    return namespace["__version__"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-d", str(out)], cwd=REPO, check=True, capture_output=True
    )
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return wheel, sdist


def test_one_version_source(built: tuple[Path, Path]) -> None:
    wheel, sdist = built
    assert wheel.name == f"waitpoints-{version()}-py3-none-any.whl"
    assert sdist.name == f"waitpoints-{version()}.tar.gz"
    assert 'version = "' not in (REPO / "pyproject.toml").read_text().split("[project.urls]")[0]


def test_the_wheel_metadata_is_fit_for_pypi(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[0]) as wheel:
        meta = email.message_from_bytes(wheel.read(f"waitpoints-{version()}.dist-info/METADATA"))
    assert meta["Name"] == "waitpoints" and meta["Version"] == version()
    assert meta["License-Expression"] == "MIT" and meta["License-File"] == "LICENSE"
    assert "Typing :: Typed" in meta.get_all("Classifier")
    assert {url.split(",")[0] for url in meta.get_all("Project-URL")} >= {"Homepage", "Changelog", "Issues"}
    assert "trigger.dev" in meta["Keywords"]
    assert meta.get_all("Requires-Dist")[0] == "httpx<1,>=0.27"
    assert set(meta.get_all("Provides-Extra")) == {"cli", "durable", "realtime"}
    description = meta.get_payload()
    assert description.startswith("# waitpoints (Python SDK and CLI)") and "make bench" not in description
    assert meta["Description-Content-Type"] == "text/markdown"


def test_the_wheel_is_the_sdk_alone_with_its_license(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[0]) as wheel:
        names = wheel.namelist()
        license_text = wheel.read(f"waitpoints-{version()}.dist-info/licenses/LICENSE").decode()
    assert "MIT License" in license_text and "waitpoints contributors" in license_text
    packages = {name.split("/")[0] for name in names}
    assert packages == {"waitpoints", f"waitpoints-{version()}.dist-info"}
    assert "waitpoints/py.typed" in names and "waitpoints/cli/app.py" in names
    # The clone's commands (dev, keys, signing-keys) run the server's code: not in the wheel.
    assert not [n for n in names if n.startswith("waitpoints/cli/") and n.rsplit("/", 1)[-1] in ("dev.py", "keys.py")]


def test_the_sdist_has_what_the_wheel_is_built_from(built: tuple[Path, Path]) -> None:
    with tarfile.open(built[1]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"pyproject.toml", "LICENSE", "CHANGELOG.md", "sdk/README.md", "sdk/waitpoints/__init__.py"} <= names
    assert not [n for n in names if n.startswith(("layers/", "local/", "admin/", "functions/", "tests/"))]
