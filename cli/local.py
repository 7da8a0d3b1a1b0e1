"""``press-intake local``: run the whole pipeline on this machine."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cli.common import EXIT_FAILED, EXIT_USAGE, Options, fail, target_from

console = Console()

DEFAULT_DATA = Path(".press-intake") / "data"


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    logger = logging.getLogger("press_intake")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def local(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the API and the site.", min=1, max=65535)] = 3000,
    aws_port: Annotated[
        int, typer.Option(help="Port of the emulated AWS endpoint.", min=1, max=65535)
    ] = 5000,
    template: Annotated[
        Path | None, typer.Option(help="template.yaml to run (default: this installation's).")
    ] = None,
    sweep_interval: Annotated[
        float | None,
        typer.Option(
            help="Run scheduled functions (the outbox sweep) every N seconds instead of their rate.", min=0.1
        ),
    ] = None,
    scheduler_interval: Annotated[
        float, typer.Option(help="How often due one-time schedules are fired, in seconds.", min=0.1)
    ] = 1.0,
    read_timeout: Annotated[
        float,
        typer.Option(help="Seconds a client has to send its whole request (then 408).", min=0.1, max=300),
    ] = 5.0,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Also the functions' own log lines (INFO and up) and debug lines."
        ),
    ] = False,
    data: Annotated[
        Path,
        typer.Option(help="Folder where the data is kept across restarts.", file_okay=False),
    ] = DEFAULT_DATA,
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="Start empty (the previous snapshot is kept as snapshot.json.old)."),
    ] = False,
    memory: Annotated[
        bool, typer.Option("--memory", help="Keep nothing: no data folder, everything is lost at the stop.")
    ] = False,
    save_interval: Annotated[
        float,
        typer.Option(
            help="Seconds between two saves while running (what a crash can lose).", min=0.2, max=60
        ),
    ] = 5.0,
    site_name: Annotated[
        str | None,
        typer.Option(help="The newsroom's name (template parameter SiteName).", rich_help_panel="Site"),
    ] = None,
    site_tagline: Annotated[
        str | None, typer.Option(help="A line under the name (SiteTagline).", rich_help_panel="Site")
    ] = None,
    site_logo_url: Annotated[
        str | None, typer.Option(help="https URL of a square logo (SiteLogoUrl).", rich_help_panel="Site")
    ] = None,
    site_language: Annotated[
        str | None,
        typer.Option(help="BCP 47 language of the name and tagline (SiteLanguage).", rich_help_panel="Site"),
    ] = None,
    site_time_zone: Annotated[
        str | None,
        typer.Option(help="IANA zone readers' times are shown in (SiteTimeZone).", rich_help_panel="Site"),
    ] = None,
) -> None:
    """Run the whole pipeline here: emulated AWS, the API on HTTP, consumers and schedules."""
    from infra.local.persistence import SnapshotError
    from infra.local.stack import LocalOptions, LocalStackRunner, PortInUse
    from infra.template import TemplateError

    if port == aws_port:
        fail("--port and --aws-port must differ")
    if template is not None and not template.is_file():
        fail(f"--template {template}: no such file")
    if memory and (fresh or data != DEFAULT_DATA):
        fail("--memory keeps no data: it goes with neither --data nor --fresh")
    parameters = site_parameters(
        name=site_name,
        tagline=site_tagline,
        logo_url=site_logo_url,
        language=site_language,
        time_zone=site_time_zone,
    )
    _configure_logging(verbose)
    options = LocalOptions(
        host=host,
        port=port,
        aws_port=aws_port,
        template=template,
        sweep_interval=sweep_interval,
        scheduler_interval=scheduler_interval,
        read_timeout=read_timeout,
        verbose=verbose,
        data=None if memory else data,
        mail=None if memory else Path(".press-intake") / "mail",
        fresh=fresh,
        save_interval=save_interval,
        parameters=parameters,
    )
    runner = LocalStackRunner(options)
    stopping: list[int] = []  # the signals received

    def request_stop(signum: int, _: Any) -> None:
        # Python runs this in the main thread between two bytecodes, possibly while that thread
        # is inside threading code holding a lock: it must take no lock itself. (It used to call
        # Event.set(), which deadlocked when a signal came while the main thread was waiting on
        # that same Event: the stack then never stopped.)
        stopping.append(signum)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            info = runner.start()
        except PortInUse as error:
            fail(port_in_use_message(error, options.info_path), code=EXIT_USAGE)
        except SnapshotError as error:
            fail(str(error), code=EXIT_FAILED)
        except TemplateError as error:
            fail(f"the template cannot be read: {error}", code=EXIT_USAGE)
        _banner(info.as_json(), runner.ready_seconds or 0.0, options.info_path, runner.restored)
        while not stopping:
            time.sleep(0.2)  # a signal interrupts the sleep; its handler runs right after
        console.print("\nStopping...")
    finally:
        runner.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print("Stopped.")
    # Everything is saved and closed. Tearing down the interpreter (thousands of moto objects
    # and modules) takes seconds on a busy machine and does nothing useful: exit now.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


_SITE_OPTIONS = {
    "name": ("SiteName", "site_name", "--site-name"),
    "tagline": ("SiteTagline", "site_tagline", "--site-tagline"),
    "logo_url": ("SiteLogoUrl", "site_logo_url", "--site-logo-url"),
    "language": ("SiteLanguage", "site_language", "--site-language"),
    "time_zone": ("SiteTimeZone", "site_time_zone", "--site-time-zone"),
}


def site_parameters(**given: str | None) -> dict[str, str]:
    """The template parameters of the site options given, checked as the functions check them
    (``functions.settings.site.SiteSettings``): a bad value is a usage error now, not a failed page later."""
    from pydantic import ValidationError

    from functions.settings.site import SiteSettings

    chosen = {key: value for key, value in given.items() if value is not None}
    values = {_SITE_OPTIONS[key][1]: value for key, value in chosen.items()}
    try:
        SiteSettings.model_validate({"site_url": "http://127.0.0.1/site/", **values})
    except ValidationError as error:
        problem = error.errors()[0]
        option = next(flag for _, field, flag in _SITE_OPTIONS.values() if field == problem["loc"][0])
        fail(f"{option}: {str(problem['msg']).removeprefix('Value error, ')}", code=EXIT_USAGE)
    if "logo_url" in chosen and chosen["logo_url"] and not chosen["logo_url"].startswith("https://"):
        fail(
            "--site-logo-url: use an https URL (the site's pages allow images from https only)",
            code=EXIT_USAGE,
        )
    return {_SITE_OPTIONS[key][0]: value for key, value in chosen.items()}


def port_in_use_message(error: Any, info_path: Path) -> str:
    """Say whether press-intake itself probably holds the port (the usual case: it is running)."""
    from infra.local.info import check_running, looks_like_press_intake

    option = "--aws-port" if error.what == "AWS" else "--port"
    url = f"http://{error.host}:{error.port}"
    message = f"{error}."
    owner = None
    try:
        recorded = json.loads(info_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = None
    if (
        isinstance(recorded, dict)
        and url in (recorded.get("api_url"), recorded.get("aws_endpoint_url"))
        and check_running(recorded).running
    ):
        owner = recorded.get("pid")
    if owner is not None:
        message += (
            f" press-intake local is already running there (pid {owner}, started from this folder: "
            f"{info_path}); use that one, stop it (Ctrl-C in its terminal, or kill {owner}),"
        )
    elif error.what == "HTTP" and looks_like_press_intake(url):
        message += (
            " It answers as press-intake's API: press-intake local is probably already running "
            "there (from another folder); use it or stop it,"
        )
    else:
        message += " Stop what uses it,"
    return f"{message} or choose another port with {option}"


def _banner(info: dict[str, Any], seconds: float, info_path: Path, restored: Any = None) -> None:
    # One write (the console's buffer, rendered at the end of the block): whoever reads the
    # output as it comes (a script waiting for "is ready") sees the whole banner at once.
    with console:
        _print_banner(info, seconds, info_path, restored)


def _print_banner(info: dict[str, Any], seconds: float, info_path: Path, restored: Any) -> None:
    api, key = info["api_url"], info["demo_api_key"]
    console.print(f"[bold green]press-intake local is ready[/] in {seconds:.1f} s\n")
    if info.get("data"):
        state = f"restored: {restored}" if restored else "empty"
        console.print(f"  Data       {info['data']}   ({state})")
    else:
        console.print("  Data       in memory only (--memory): nothing is kept at the stop")
    console.print(f"  API        {api}   (OpenAPI: {api}/openapi.json)", soft_wrap=True)
    console.print(f"  Site       {info['site_url']}")
    if info.get("desk_url"):
        console.print(f"  Web desk   {info['desk_url']}   (sign in with the demo key)")
    if info.get("mail_url"):
        kept = f"; also {info['mail']}" if info.get("mail") else ""
        console.print(f"  Mail       {info['mail_url']}   (what the stack sent, captured{kept})")
    console.print(f"  AWS        {info['aws_endpoint_url']}   (moto; region {info['region']})")
    console.print(f"  Demo org   {info['demo_org_id']}")
    console.print("  Demo key   ", end="")
    console.print(key, soft_wrap=True, highlight=False)
    console.print(f"  Info file  {info_path}   (other press-intake commands read it)\n")
    console.print("Submit a release:\n", highlight=False)
    body = (
        '{"category": "community", "headline": "Friends of the Park plant 200 trees", '
        '"body": "Volunteers planted 200 trees on Saturday.", '
        '"contact": {"name": "Press Office", "email": "press@park.example"}}'
    )
    console.print(
        f"  curl -sS -X POST {api}/releases \\\n"
        f'    -H "Authorization: Bearer {key}" \\\n'
        '    -H "Content-Type: application/json" \\\n'
        f"    -d '{body}'\n",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
    console.print("Press Ctrl-C to stop.")


def info(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(help="One value: api_url, site_url, aws_endpoint_url, region, demo_api_key, ..."),
    ] = None,
) -> None:
    """Print the running local stack's info file (found from this folder or a parent): all of it
    as JSON, or one value, e.g. `KEY=$(press-intake info demo_api_key)`."""
    options: Options = ctx.obj or Options()
    if options.stack:
        fail("info describes the local stack; a deployed stack's outputs are in CloudFormation")
    target = target_from(Options(local=True, region=options.region))
    if name is None:
        typer.echo(json.dumps(target.info, indent=2))
        return
    value = target.info.get(name)
    if value is None or isinstance(value, dict | list):
        known = ", ".join(k for k, v in target.info.items() if not isinstance(v, dict | list))
        fail(f"the info file has no value {name!r}; it has: {known}")
    typer.echo(str(value))
