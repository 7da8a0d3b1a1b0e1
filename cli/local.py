"""``press-intake local``: run the whole pipeline on this machine."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cli.common import EXIT_USAGE, fail

console = Console()


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
        bool, typer.Option("--verbose", "-v", help="Function logs and debug lines too.")
    ] = False,
) -> None:
    """Run the whole pipeline here: emulated AWS, the API on HTTP, consumers and schedules."""
    from infra.local.stack import LocalOptions, LocalStackRunner, PortInUse
    from infra.template import TemplateError

    if port == aws_port:
        fail("--port and --aws-port must differ")
    if template is not None and not template.is_file():
        fail(f"--template {template}: no such file")
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
    )
    runner = LocalStackRunner(options)
    stop = threading.Event()

    def request_stop(signum: int, _: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            info = runner.start()
        except PortInUse as error:
            option = "--aws-port" if error.what == "AWS" else "--port"
            fail(f"{error}; stop what uses it or choose another with {option}", code=EXIT_USAGE)
        except TemplateError as error:
            fail(f"the template cannot be read: {error}", code=EXIT_USAGE)
        _banner(info.as_json(), runner.ready_seconds or 0.0, options.info_path)
        stop.wait()
        console.print("\nStopping...")
    finally:
        runner.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print("Stopped.")


def _banner(info: dict[str, Any], seconds: float, info_path: Path) -> None:
    api, key = info["api_url"], info["demo_api_key"]
    console.print(f"[bold green]press-intake local is ready[/] in {seconds:.1f} s\n")
    console.print(f"  API        {api}   (OpenAPI: {api}/openapi.json)")
    console.print(f"  Site       {info['site_url']}")
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
