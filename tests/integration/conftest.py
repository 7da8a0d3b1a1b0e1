"""Integration tier: the real `press-intake local` in a subprocess, used over real HTTP and the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_ports

REPO = Path(__file__).resolve().parents[2]


def wait_for(condition: Any, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """``condition()``'s first truthy value, polled every ``interval`` seconds for at most
    ``timeout`` (the stack's consumers and schedules work in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "press-intake"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0]


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    cwd: Path
    info: dict[str, Any]
    log: Path
    ports: tuple[int, int]

    @property
    def api(self) -> str:
        return str(self.info["api_url"])

    @property
    def key(self) -> str:
        return str(self.info["demo_api_key"])

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        key: str | None = "__demo__",
        data: bytes | None = None,
    ) -> Response:
        all_headers = dict(headers or {})
        use = self.key if key == "__demo__" else key
        if use:
            all_headers["Authorization"] = f"Bearer {use}"
        if json_body is not None:
            data = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        url = path if path.startswith("http") else self.api + path
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310 - loopback
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return Response(
                    answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
                )
        except urllib.error.HTTPError as error:
            return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own CLI
            [*cli_command(), *args], cwd=self.cwd, capture_output=True, text=True, timeout=60, check=False
        )

    def aws(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.info["aws_endpoint_url"],
            region_name=self.info["region"],
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


def stack_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PRESS_INTAKE_"))}
    env["PYTHONPATH"] = str(REPO)  # test-only templates name handlers under tests/
    return env


def start_stack(cwd: Path, *extra: str, ports: tuple[int, int] | None = None) -> RunningStack:
    """``press-intake local`` in ``cwd``; ready once it has written its own info file."""
    api_port, aws_port = ports or tuple(free_ports(2))
    env = stack_env()
    log = cwd / "local.log"
    with log.open("a") as output:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [
                *cli_command(),
                "local",
                "--port",
                str(api_port),
                "--aws-port",
                str(aws_port),
                "--sweep-interval",
                "1",
                "--scheduler-interval",
                "0.3",
                *extra,
            ],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    info_file = cwd / ".press-intake" / "local.json"
    deadline = time.monotonic() + 60
    while (info := _own_info(info_file, process.pid)) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"press-intake local did not start:\n{log.read_text()}")
        time.sleep(0.1)
    return RunningStack(process=process, cwd=cwd, info=info, log=log, ports=(api_port, aws_port))


def _own_info(path: Path, pid: int) -> dict[str, Any] | None:
    """The info file once the process ``pid`` wrote it (a killed stack's file may be there before)."""
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and info.get("pid") == pid else None


def stop_stack(stack: RunningStack, timeout: float = 20) -> int:
    stack.process.send_signal(signal.SIGTERM)
    try:
        return stack.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stack.process.kill()
        raise


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    if shutil.which("press-intake") is None and not (Path(sys.executable).parent / "press-intake").exists():
        pytest.skip("the press-intake command is not installed (make test installs it)")
    stack = start_stack(tmp_path_factory.mktemp("local"))
    yield stack
    code = stop_stack(stack)
    assert code == 0, stack.log.read_text()
