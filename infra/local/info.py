"""The local stack's info file (``.press-intake/local.json``): where it is, whether it is current.

``press-intake local`` writes it (owner-only, 0600: it holds the demo key) with its process
id and URLs. The other commands find it as git finds ``.git``: ``PRESS_INTAKE_LOCAL`` if set,
else the first ``.press-intake/local.json`` in the current folder or one of its parents. A
file left by a stack that was killed is recognised (its process is gone, or its port does
not answer) so that a command says "not running" at once instead of timing out.

Light on imports: every CLI command loads it.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

INFO_DIR = ".press-intake"
INFO_NAME = "local.json"
ENV_VAR = "PRESS_INTAKE_LOCAL"
API_TITLE = "Press-release intake API"  # the title of the API's OpenAPI document


def find_info(start: Path | None = None, environ: dict[str, str] | None = None) -> Path | None:
    """``$PRESS_INTAKE_LOCAL``, else the nearest ``.press-intake/local.json`` at or above ``start``."""
    environ = dict(os.environ) if environ is None else environ
    if given := environ.get(ENV_VAR):
        return Path(given).expanduser()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / INFO_DIR / INFO_NAME
        if candidate.is_file():
            return candidate
    return None


def write_info(path: Path, info: dict[str, Any]) -> None:
    """Atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as output:
        output.write(json.dumps(info, indent=2) + "\n")
    os.replace(temporary, path)  # readers never see a half-written file


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def port_answers(url: str, timeout: float = 1.0) -> bool:
    split = urlsplit(url)
    if not split.hostname or not split.port:
        return False
    try:
        with socket.create_connection((split.hostname, split.port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class Liveness:
    running: bool
    reason: str = ""


def check_running(info: dict[str, Any]) -> Liveness:
    """Is the stack that wrote ``info`` still there? (Its process, then its two ports.)"""
    pid = info.get("pid")
    if isinstance(pid, int) and not pid_alive(pid):
        return Liveness(False, f"its process {pid} has exited")
    for name in ("api_url", "aws_endpoint_url"):
        url = info.get(name)
        if isinstance(url, str) and not port_answers(url):
            return Liveness(False, f"nothing answers at {url}")
    return Liveness(True)


def looks_like_press_intake(url: str, timeout: float = 2.0) -> bool:
    """Does ``url`` serve this project's API (its OpenAPI document has our title)?"""
    try:
        with urllib.request.urlopen(f"{url}/openapi.json", timeout=timeout) as answer:  # noqa: S310 - loopback
            document = json.loads(answer.read(1_000_000))
    except (OSError, ValueError, urllib.error.URLError):
        return False
    return isinstance(document, dict) and (document.get("info") or {}).get("title") == API_TITLE
