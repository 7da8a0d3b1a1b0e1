"""A small evaluator of IAM identity policies, enough to test the template's own policies.

It answers whether a request (action, resource ARN, condition keys) is allowed: some Allow
statement matches and no Deny statement does. It knows the operators the template uses
(StringEquals, StringLike, their IfExists forms, ForAllValues:/ForAnyValue: set operators, Bool)
and refuses any other, so a policy using something it does not understand fails the test
instead of passing it. Request contexts are built from real boto3 call parameters, so the
tests ask about the calls the code actually makes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Context = Mapping[str, str | Sequence[str]]


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Context = field(default_factory=dict)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    expression = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(expression, value, re.IGNORECASE if ignore_case else 0) is not None


def _single(operator: str, expected: list[str], actual: str) -> bool:
    if operator == "StringEquals":
        return actual in expected
    if operator == "StringLike":
        return any(_like(p, actual) for p in expected)
    if operator == "Bool":
        return actual.lower() in (e.lower() for e in expected)
    raise ValueError(f"operator {operator} is not supported by this evaluator")


def _condition_holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    expected = [str(e) for e in _listed(expected)]
    present = key in context
    actual = context.get(key)
    if operator.startswith(("ForAllValues:", "ForAnyValue:")):
        qualifier, base = operator.split(":", 1)
        values = [] if actual is None else [actual] if isinstance(actual, str) else list(actual)
        if qualifier == "ForAllValues":
            return all(_single(base, expected, v) for v in values)  # true for no values, as in IAM
        return any(_single(base, expected, v) for v in values)
    base, if_exists = (
        (operator[: -len("IfExists")], True) if operator.endswith("IfExists") else (operator, False)
    )
    if not present:
        return if_exists
    if not isinstance(actual, str):
        raise ValueError(f"{key} is multivalued: a single-valued operator ({operator}) cannot test it")
    return _single(base, expected, actual)


def _statement_matches(statement: Mapping[str, Any], request: Request) -> bool:
    if "NotAction" in statement or "NotResource" in statement or "Principal" in statement:
        raise ValueError("NotAction, NotResource and Principal are not supported by this evaluator")
    if not any(_like(a, request.action, ignore_case=True) for a in _listed(statement["Action"])):
        return False
    if not any(_like(r, request.resource) for r in _listed(statement["Resource"])):
        return False
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key, expected, request.context):
                return False
    return True


def allowed(policy: Mapping[str, Any], request: Request) -> bool:
    statements = _listed(policy["Statement"])
    if any(s["Effect"] == "Deny" and _statement_matches(s, request) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _statement_matches(s, request) for s in statements)


# -- request contexts from boto3 call parameters ----------------------------------------------------

_KEYWORDS = {"set", "remove", "add", "delete", "and", "or", "not", "in", "between"}
_FUNCTIONS = {
    "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains", "size",
    "list_append", "if_not_exists",
}  # fmt: skip
_NAME = re.compile(r"(?<![\w.#:\]])(#?[A-Za-z_]\w*)")


def expression_attributes(expression: str, names: Mapping[str, str]) -> set[str]:
    """Top-level attribute names an update/condition/projection expression refers to."""
    without_values = re.sub(r":\w+", " ", expression)
    found = set()
    for token in _NAME.findall(without_values):
        if token.lower() in _KEYWORDS or token in _FUNCTIONS:
            continue
        found.add(names[token] if token.startswith("#") else token)
    return found


def dynamodb_context(params: Mapping[str, Any], partition_key: str) -> dict[str, str | list[str]]:
    """The DynamoDB condition keys of one item request: dynamodb:LeadingKeys (partition key
    values), dynamodb:Attributes (every attribute named: key, update, condition, projection),
    dynamodb:ReturnValues and dynamodb:Select when given."""
    key = params.get("Key") or params.get("Item") or {}
    context: dict[str, str | list[str]] = {}
    if partition_key in key:
        context["dynamodb:LeadingKeys"] = [next(iter(key[partition_key].values()))]
    names = params.get("ExpressionAttributeNames") or {}
    attributes = set(key)
    for parameter in ("UpdateExpression", "ConditionExpression", "ProjectionExpression"):
        if parameter in params:
            attributes |= expression_attributes(params[parameter], names)
    if "Item" in params or "UpdateExpression" in params or "ProjectionExpression" in params:
        context["dynamodb:Attributes"] = sorted(attributes)
    for name in ("ReturnValues", "Select"):
        if name in params:
            context[f"dynamodb:{name}"] = str(params[name])
    return context
