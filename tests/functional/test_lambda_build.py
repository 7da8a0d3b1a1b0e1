"""What `sam build` packages for Lambda: code shipped with its bytecode, so that a cold start
loads modules instead of compiling them on Lambda's read-only file system (functions/Makefile).

The function targets run here with this interpreter standing in for Lambda's Python; the layer's
target (which downloads Lambda's arm64 wheels) is checked on what `make build` left in
``.aws-sam/build``, as `make test` builds before it tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import build_function

ROOT = Path(__file__).resolve().parents[2]
VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _check_every_module(root: Path, tag: str) -> int:
    """How many modules ``root`` holds, each checked to have its unchecked-hash .pyc for the
    interpreter ``tag`` (``cpython-313``)."""
    sources = [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
    for source in sources:
        cached = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        assert cached.is_file(), f"{source} has no {cached.name}"
        flags = int.from_bytes(cached.read_bytes()[4:8], "little")
        assert flags == 0b01, f"{source}: flags {flags:#b}, not unchecked-hash"  # hash-based, unchecked
    return len(sources)


def test_each_function_is_packaged_with_bytecode_lambda_loads_without_compiling(tmp_path: Path) -> None:
    # Given the API function built as sam build builds it, this interpreter standing in for Lambda's
    artifacts = tmp_path / "ApiFunction"
    done = build_function("ApiFunction", artifacts, LAMBDA_PYTHON=VERSION, LAMBDA_PYTHON_BIN=sys.executable)
    assert done.returncode == 0, done.stderr

    # Then every module has its .pyc, loaded as it is (unchecked hash: file times do not survive
    # packaging; sam deploy's zip dates every file 1980-01-01)
    assert _check_every_module(artifacts, sys.implementation.cache_tag) > 50
    assert not (artifacts / "functions" / "Makefile").exists()

    # And a cold start there loads the compiled code: with its source changed after the build, a
    # fresh interpreter that cannot write bytecode still imports the handler as built
    api = artifacts / "functions" / "handlers" / "api.py"
    api.write_text(api.read_text() + "\nraise RuntimeError('compiled from source at cold start')\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(artifacts)}
    imported = subprocess.run(
        [sys.executable, "-c", "import functions.handlers.api as m; print(m.__file__)"],
        cwd=artifacts,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == str(api)


def test_a_build_without_lambdas_python_stops_and_says_what_it_needs(tmp_path: Path) -> None:
    # Given a machine whose python3.13 is missing (here: an interpreter of another version named)
    done = build_function(
        "ApiFunction", tmp_path / "ApiFunction", LAMBDA_PYTHON="3.99", LAMBDA_PYTHON_BIN=sys.executable
    )

    # Then the build fails, saying which Python it needs and how to name it, and writes no bytecode
    assert done.returncode != 0
    assert "Python 3.99" in done.stderr
    assert "LAMBDA_PYTHON_BIN=" in done.stderr
    assert not list((tmp_path / "ApiFunction").rglob("*.pyc"))


_LAYER = ROOT / ".aws-sam" / "build" / "DependenciesLayer" / "python"


@pytest.mark.skipif(not _LAYER.is_dir(), reason="no sam build output (`make build`; `make test` runs it)")
def test_the_dependencies_layer_sam_build_made_carries_bytecode_for_lambdas_python() -> None:
    # Given the layer `make build` made (Lambda's python3.13 wheels)
    # Then every module of every library in it has its unchecked-hash .pyc for Python 3.13
    assert _check_every_module(_LAYER, "cpython-313") > 500
    assert (_LAYER / "pydantic").is_dir()
    assert (_LAYER / "aws_lambda_powertools").is_dir()
