"""The template's ``Api`` events as routes, and which route serves a request.

Each ``Type: Api`` event of a function is one route: path template, method, the function, whether
the API's authorizer runs in front of it and whether it needs an API key (SAM's ``Auth`` of the
event, else of the API). Static paths sort before parameterised ones, as API Gateway matches them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from infra.template import resources_of_type


@dataclass(frozen=True)
class ApiRoute:
    """One ``Type: Api`` event of a function: path template, method, and who handles it."""

    path: str
    method: str
    function: str
    authorized: bool
    api_key_required: bool = False

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}/?$")


def _api_auth(template: Mapping[str, Any], event_props: Mapping[str, Any]) -> Mapping[str, Any]:
    """``Auth`` of the API an event belongs to (its ``RestApiId``), or nothing."""
    api = event_props.get("RestApiId")
    name = api.get("Ref") if isinstance(api, Mapping) else api
    spec = (template.get("Resources") or {}).get(str(name)) or {}
    return (spec.get("Properties") or {}).get("Auth") or {}


def api_routes(template: Mapping[str, Any]) -> list[ApiRoute]:
    """Every API event declared in the template, static paths before parameterised ones."""
    routes = []
    for name, spec in resources_of_type(template, "AWS::Serverless::Function").items():
        for event in ((spec.get("Properties") or {}).get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            props = event.get("Properties") or {}
            auth = props.get("Auth") or {}
            api_auth = _api_auth(template, props)
            routes.append(
                ApiRoute(
                    path=props["Path"],
                    method=str(props["Method"]).upper(),
                    function=name,
                    authorized=auth.get("Authorizer") != "NONE",
                    api_key_required=bool(auth.get("ApiKeyRequired", api_auth.get("ApiKeyRequired", False))),
                )
            )
    return sorted(routes, key=lambda r: (r.path.count("{"), -len(r.path)))


def match_route(routes: Sequence[ApiRoute], method: str, path: str) -> tuple[ApiRoute, dict[str, str]] | None:
    """The route serving ``method path`` and its path parameters (ANY matches every method)."""
    candidates = []
    for route in routes:
        found = route.pattern.match(path)
        if found and route.method in (method.upper(), "ANY"):
            candidates.append((route, found.groupdict()))
    if not candidates:
        return None
    # An exact method beats ANY.
    candidates.sort(key=lambda c: c[0].method == "ANY")
    return candidates[0]
