"""Finding the local stack's info file, and telling a live stack from a file left behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from infra.local.info import API_TITLE, check_running, find_info, write_info


def _info_at(folder: Path) -> Path:
    path = folder / ".press-intake" / "local.json"
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    return path


def test_it_is_found_in_the_folder_itself_or_the_nearest_parent(tmp_path: Path) -> None:
    outer = _info_at(tmp_path)
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_info(deep, environ={}) == outer
    inner = _info_at(tmp_path / "a")
    assert find_info(deep, environ={}) == inner  # the nearest wins, as with .git
    assert find_info(tmp_path, environ={}) == outer


def test_press_intake_local_names_the_file(tmp_path: Path) -> None:
    _info_at(tmp_path)
    elsewhere = tmp_path / "other.json"
    assert find_info(tmp_path, environ={"PRESS_INTAKE_LOCAL": str(elsewhere)}) == elsewhere


def test_nothing_found_is_none(tmp_path: Path) -> None:
    assert find_info(tmp_path, environ={}) is None


def test_it_is_written_for_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / ".press-intake" / "local.json"
    write_info(path, {"api_url": "http://127.0.0.1:1"})
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["local.json"]


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_file_from_a_process_that_exited_is_not_running() -> None:
    liveness = check_running({"pid": _dead_pid(), "api_url": "http://127.0.0.1:1"})
    assert not liveness.running
    assert "has exited" in liveness.reason


def test_a_file_whose_port_does_not_answer_is_not_running() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connections are refused
        liveness = check_running({"pid": os.getpid(), "api_url": f"http://127.0.0.1:{port}"})
    assert not liveness.running
    assert f"nothing answers at http://127.0.0.1:{port}" in liveness.reason


def test_a_live_process_with_answering_ports_is_running() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        assert check_running({"pid": os.getpid(), "api_url": url, "aws_endpoint_url": url}).running


def test_the_title_it_recognises_is_the_apis() -> None:
    from functions.api.app import API_TITLE as title

    assert title == API_TITLE
