"""Shared by every tier: the functions' global environment comes from template.yaml's Globals,
as it does in Lambda, before any handler module is imported."""

from __future__ import annotations

import os

from infra.template import Resolver, load_template

_template = load_template()
_resolver = Resolver(template=_template, stack_name="pytest", region="us-east-1", account_id="123456789012")
_globals = (
    ((_template.get("Globals") or {}).get("Function") or {}).get("Environment", {}).get("Variables", {})
)
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # Lambda traces; tests need not import X-Ray
for _name, _value in _globals.items():
    os.environ.setdefault(_name, str(_resolver.resolve(_value)))
