"""The web desk offers exactly the actions the API's state machine allows in each status."""

from __future__ import annotations

import json
import re
from pathlib import Path

from functions.domain.states import TRANSITIONS, Action, Status

STATES_JS = Path(__file__).resolve().parents[2] / "desk" / "js" / "states.js"


def _desk_table(name: str) -> dict[str, list[str]]:
    text = STATES_JS.read_text(encoding="utf-8")
    match = re.search(rf"export const {name} = (\{{.*?\}});", text, re.DOTALL)
    assert match, f"{name} not found in {STATES_JS}"
    body = re.sub(r",\s*}", "}", re.sub(r"^\s*([a-z_]+):", r'"\1":', match.group(1), flags=re.MULTILINE))
    table: dict[str, list[str]] = json.loads(body)
    return table


def test_the_desks_actions_are_the_state_machines() -> None:
    actions = _desk_table("ACTIONS")
    assert actions == {
        action: sorted(status.value for status in TRANSITIONS[Action(action)].sources)
        for action in ("revise", "withdraw", "correct")
    }


def test_every_status_has_a_label() -> None:
    labels = _desk_table("STATUS_LABELS")
    assert set(labels) == {status.value for status in Status}
