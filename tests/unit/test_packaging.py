"""What Lambda installs (functions/requirements.txt) is what the project declares (pyproject)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _requirements() -> dict[str, str]:
    found = {}
    for line in (ROOT / "functions" / "requirements.txt").read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if spec:
            name = re.split(r"[<>=!~\[]", spec, maxsplit=1)[0].strip().lower()
            found[name] = spec.replace(" ", "")
    return found


def _declared() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        re.split(r"[<>=!~\[]", spec, maxsplit=1)[0].strip().lower(): spec.replace(" ", "")
        for spec in project["dependencies"]
    }


def test_every_lambda_requirement_is_declared_with_the_same_version_range() -> None:
    declared = _declared()
    for name, spec in _requirements().items():
        assert declared.get(name) == spec, (
            f"{name}: functions/requirements.txt says {spec}, pyproject {declared.get(name)}"
        )


def test_cli_only_libraries_stay_out_of_lambda() -> None:
    assert not {"typer", "rich", "textual", "moto", "pyyaml"} & set(_requirements())


def _handlers() -> dict[str, str]:
    """Each function of template.yaml and the module its ``Handler`` names."""
    from infra.template import load_template, resources_of_type

    functions = resources_of_type(load_template(), "AWS::Serverless::Function")
    return {name: str(spec["Properties"]["Handler"]).rpartition(".")[0] for name, spec in functions.items()}


def test_sam_build_has_a_make_target_for_every_function_and_layer_built_by_make() -> None:
    # Given what template.yaml builds with ``BuildMethod: makefile`` from functions/ (functions
    # take the Globals' CodeUri, functions/; the desk's layer is built by desk/Makefile)
    from infra.template import load_template

    def source(spec: dict[str, Any]) -> str:
        properties = spec.get("Properties") or {}
        return str(properties.get("CodeUri") or properties.get("ContentUri") or "functions/")

    built_here = {
        name
        for name, spec in load_template()["Resources"].items()
        if (spec.get("Metadata") or {}).get("BuildMethod") == "makefile"
        and source(spec).rstrip("/") == "functions"
    }
    # When sam build runs ``make build-<LogicalId>`` in functions/ for each of them
    makefile = (ROOT / "functions" / "Makefile").read_text().replace("\\\n", " ")
    listed = re.search(r"^FUNCTIONS :=(.*)$", makefile, re.M)
    assert listed is not None
    targets = set(listed.group(1).split()) | set(re.findall(r"^build-(\w+):", makefile, re.M))
    # Then every one of them has its target (else sam build fails: "No rule to make target")
    assert "ApiFunction" in built_here
    assert built_here - targets == set()


def _child(code: str, env: Mapping[str, str | None]) -> str:
    """What a fresh interpreter running ``code`` prints, with this environment as ``env`` changes
    it (a variable set to None is removed)."""
    import os
    import subprocess
    import sys

    environment = {**os.environ, **env}
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={name: value for name, value in environment.items() if value is not None},
    )
    return done.stdout


def _imported_by(module: str, then: str = "", env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter has loaded after importing ``module`` (Lambda's INIT) and
    running ``then`` (with ``env`` added to its environment)."""
    import json

    code = f"import json, sys\nimport {module}\n{then}\nprint(json.dumps(sorted(sys.modules)))"
    return set(json.loads(_child(code, env or {})))


def _top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_every_function_has_one_module_holding_its_handler() -> None:
    handlers = _handlers()
    assert handlers == {
        "ApiFunction": "functions.handlers.api",
        "AuthorizerFunction": "functions.handlers.authorizer",
        "PublisherFunction": "functions.handlers.publisher",
        "SiteRefreshFunction": "functions.handlers.site_refresh",
        "OutboxSweepFunction": "functions.handlers.outbox_sweep",
        "DeskFilesFunction": "functions.handlers.desk",
        "SiteFilesFunction": "functions.handlers.site_files",
        "EventsFunction": "functions.handlers.events",
        "DeliveryFunction": "functions.handlers.deliver",
        "MediaVerifyFunction": "functions.handlers.media_verify",
    }


def test_cold_starts_load_nothing_cli_or_local_only_and_no_boto3_client() -> None:
    # Lambda imports the handler's module at INIT; what that loads is what every cold start pays.
    for function, module in _handlers().items():
        loaded = _imported_by(module)
        assert not {"typer", "rich", "textual", "moto", "infra", "cli", "boto3", "aws_xray_sdk"} & _top_level(
            loaded
        ), function
        assert not {m for m in loaded if m.startswith("functions.adapters")}, function  # built on first use
    api = _imported_by("functions.handlers.api")
    # The API function never loads the publisher's renderers, nor the intake service before a request
    assert not {"jinja2", "feedgenerator"} & _top_level(api)
    # nor nh3: sanitising loads it for the bodies that need it (Markdown without raw HTML does not)
    assert "nh3" not in _top_level(api)
    # Pillow and pypdf load only where (and when) an upload is verified
    for module in _handlers().values():
        assert not {"PIL", "pypdf"} & _top_level(_imported_by(module)), module
    assert not {m for m in api if m.startswith(("functions.domain.publish", "functions.domain.intake"))}
    # nor the webhook service and its SSRF policy: the routes name only what POST /webhooks takes
    assert not {"functions.domain.webhooks", "functions.domain.egress"} & api


def test_the_api_functions_intake_service_is_built_without_the_media_service() -> None:
    # A submission builds the intake service (its first request after a cold start); the media
    # service and its adapters are built only for a release that names media
    settings = {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "RELEASES_BUCKET": "releases",
        "RELEASES_TABLE": "releases",
        "IDEMPOTENCY_TABLE": "idempotency",
        "MODERATION_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/moderation",
        "WEBHOOKS_TABLE": "webhooks",
        "WEBHOOK_SECRETS_KEY": "alias/webhooks",
        "EVENTS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/events",
        "MEDIA_TABLE": "media",
        "MEDIA_BUCKET": "uploads",
    }
    loaded = _imported_by("functions.handlers.api", "functions.handlers.api.wiring().service", settings)
    assert "functions.domain.intake" in loaded  # the service was built
    # with the API's settings alone: no other function's models defined, nor the site's
    assert {m for m in loaded if m.startswith("functions.settings")} == {
        "functions.settings",
        "functions.settings.api",
    }
    assert "functions.domain.webhooks" not in loaded  # a submission never needs the webhook service
    media = {
        "functions.domain.media_service",
        "functions.adapters.dynamodb_media",
        "functions.adapters.s3_media",
    }
    assert not media & loaded


def test_each_function_defines_only_its_own_settings_models() -> None:
    # Given each function's handler module, and the settings module named as it (the functions
    # that render for readers share the site's)
    shared_site = {
        "functions.handlers.publisher",
        "functions.handlers.site_refresh",
        "functions.handlers.site_files",
    }
    for function, module in _handlers().items():
        own = "site" if module in shared_site else module.rpartition(".")[2]
        # When Lambda imports it (INIT: the settings module of a handler that builds its settings
        # there, or none yet)
        loaded = {m for m in _imported_by(module) if m.startswith("functions.settings.")}
        # Then no other function's settings models are defined on its cold start
        assert loaded <= {f"functions.settings.{own}"}, (function, loaded)
        assert (ROOT / "functions" / "settings" / f"{own}.py").is_file(), function


def _entry_point_scans(disable_plugins: str | None) -> int:
    """How often a fresh interpreter with ``PYDANTIC_DISABLE_PLUGINS`` set so (None: not set) scans
    the installed packages' entry points while the API function starts: its import, then the
    first validation of a release's models."""
    code = (
        "import importlib.metadata as metadata\n"
        "calls = []\n"
        "scan = metadata.entry_points\n"
        "metadata.entry_points = lambda *a, **k: calls.append(1) or scan(*a, **k)\n"
        "import functions.handlers.api\n"
        "from functions.api.app import _submission_adapter\n"
        "_submission_adapter()\n"
        "print(len(calls))\n"
    )
    return int(_child(code, {"PYDANTIC_DISABLE_PLUGINS": disable_plugins}).split()[-1])


def test_no_cold_start_scans_the_installed_packages_for_pydantic_plugins() -> None:
    # Given the environment template.yaml's Globals give every function
    from infra.template import load_template

    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    setting = variables.get("PYDANTIC_DISABLE_PLUGINS")
    # When the API function starts with it, and without it
    with_setting, without = _entry_point_scans(setting), _entry_point_scans(None)
    # Then pydantic never reads every package's entry points (it does without the setting)
    assert without > 0, "pydantic no longer scans for plugins: the Globals setting may go"
    assert with_setting == 0
