"""Tracing as deployed: the X-Ray SDK stays off the import path, and off altogether unless the
stack turns it on (TraceAwsCalls -> POWERTOOLS_TRACE_DISABLED=false). Each case runs in a fresh
interpreter, as a Lambda execution environment starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
from functions.observability import traced_handler

@traced_handler
def handler(event, context):
    return {"answer": event["question"] * 2}

imported_at_import = "aws_xray_sdk" in sys.modules
result = handler({"question": 21}, None)
patched = []
if "aws_xray_sdk.core.patcher" in sys.modules:
    patched = sorted(sys.modules["aws_xray_sdk.core.patcher"]._PATCHED_MODULES)
print(json.dumps({
    "at_import": imported_at_import,
    "after_call": "aws_xray_sdk" in sys.modules,
    "result": result,
    "patched": patched,
}))
"""


def run_child(trace_disabled: str) -> dict[str, object]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POWERTOOLS_", "AWS_XRAY_", "_X_AMZN_", "LAMBDA_"))
    }
    env.update(
        {
            "POWERTOOLS_TRACE_DISABLED": trace_disabled,
            "POWERTOOLS_SERVICE_NAME": "press-intake",
            "LAMBDA_TASK_ROOT": str(ROOT),  # the SDK only records inside Lambda
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "PYTHONPATH": str(ROOT),
        }
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_as_deployed_by_default_the_x_ray_sdk_is_never_imported() -> None:
    # Given the template's default (TraceAwsCalls=false: POWERTOOLS_TRACE_DISABLED=true)
    outcome = run_child("true")
    # Then the handler answers and the SDK is loaded neither at import nor by the invocation
    assert outcome["result"] == {"answer": 42}
    assert outcome["at_import"] is False
    assert outcome["after_call"] is False


def test_with_tracing_on_the_sdk_arrives_with_the_first_invocation_and_patches_botocore_only() -> None:
    # Given TraceAwsCalls=true
    outcome = run_child("false")
    # Then importing the module still does not load the SDK; the first invocation does, and
    # it patches botocore alone (the one library whose calls the functions make)
    assert outcome["result"] == {"answer": 42}
    assert outcome["at_import"] is False
    assert outcome["after_call"] is True
    assert outcome["patched"] == ["botocore"]
