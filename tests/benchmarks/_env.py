"""The environment the functions see in Lambda, for benchmark processes."""

from __future__ import annotations

import os
from typing import Any

from tests.benchmarks._core import ROOT

# What template.yaml's Globals set today; used if the template cannot be read.
_FALLBACK_GLOBALS = {
    "POWERTOOLS_SERVICE_NAME": "press-intake",
    "POWERTOOLS_METRICS_NAMESPACE": "PressIntake",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
# Variables of the benchmarking shell that would change what an import or a request does.
_SCRUB_PREFIXES = ("POWERTOOLS_", "AWS_LAMBDA_", "_X_AMZN_")
_SCRUB = ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME", "PYTHONSTARTUP", "PYTHONINSPECT")


def template_globals() -> dict[str, str]:
    """``Globals.Function.Environment.Variables`` of template.yaml, intrinsics resolved."""
    try:
        from infra.template import Resolver, load_template

        template = load_template()
        resolver = Resolver(
            template=template, stack_name="bench", region="us-east-1", account_id="123456789012"
        )
        variables: dict[str, Any] = (
            ((template.get("Globals") or {}).get("Function") or {})
            .get("Environment", {})
            .get("Variables", {})
        )
        resolved = {name: str(resolver.resolve(value)) for name, value in variables.items()}
    except Exception:
        resolved = {}
    return {**_FALLBACK_GLOBALS, **resolved}


def lambda_child_environment() -> dict[str, str]:
    """Environment for a fresh interpreter that should import like a Lambda execution environment.

    The parent's environment minus anything that alters imports or Powertools behaviour
    (``PYTHONDONTWRITEBYTECODE`` above all: without ``.pyc`` files every child would compile),
    plus the template's Globals and the variables the Lambda runtime itself sets.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _SCRUB and not name.startswith(_SCRUB_PREFIXES)
    }
    env.update(template_globals())
    env.update(
        {
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": "press-intake-ApiFunction",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }
    )
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env
