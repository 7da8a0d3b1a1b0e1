"""The policy evaluator the template's policy tests rely on follows IAM's rules."""

from __future__ import annotations

import pytest

from tests.iam import Request, allowed, dynamodb_context, expression_attributes

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/t"


def _policy(condition: dict[str, object], action: str = "dynamodb:UpdateItem") -> dict[str, object]:
    return {"Statement": [{"Effect": "Allow", "Action": action, "Resource": TABLE, "Condition": condition}]}


def test_for_all_values_needs_every_value_to_match_and_holds_for_none() -> None:
    policy = _policy({"ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "status"]}})
    assert allowed(policy, Request("dynamodb:UpdateItem", TABLE, {"dynamodb:Attributes": ["pk", "status"]}))
    assert not allowed(
        policy, Request("dynamodb:UpdateItem", TABLE, {"dynamodb:Attributes": ["pk", "org_id"]})
    )
    assert allowed(policy, Request("dynamodb:UpdateItem", TABLE, {}))  # as in IAM: why Select matters


def test_string_like_wildcards_and_if_exists() -> None:
    policy = _policy(
        {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["release#*"]},
            "StringEqualsIfExists": {"dynamodb:ReturnValues": ["NONE", "UPDATED_NEW"]},
        }
    )
    assert allowed(policy, Request("dynamodb:UpdateItem", TABLE, {"dynamodb:LeadingKeys": ["release#1"]}))
    assert not allowed(
        policy, Request("dynamodb:UpdateItem", TABLE, {"dynamodb:LeadingKeys": ["catalog#all"]})
    )
    context = {"dynamodb:LeadingKeys": ["release#1"], "dynamodb:ReturnValues": "ALL_NEW"}
    assert not allowed(policy, Request("dynamodb:UpdateItem", TABLE, context))
    assert not allowed(policy, Request("dynamodb:PutItem", TABLE, {"dynamodb:LeadingKeys": ["release#1"]}))
    assert not allowed(
        policy, Request("dynamodb:UpdateItem", TABLE + "2", {"dynamodb:LeadingKeys": ["release#1"]})
    )


def test_an_explicit_deny_wins_and_unknown_operators_are_refused() -> None:
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
        ]
    }
    assert allowed(policy, Request("s3:GetObject", "arn:aws:s3:::b/k"))
    assert not allowed(policy, Request("s3:DeleteObject", "arn:aws:s3:::b/k"))
    with pytest.raises(ValueError, match="not supported"):
        allowed(_policy({"NumericLessThan": {"x": "1"}}), Request("dynamodb:UpdateItem", TABLE, {"x": "0"}))


def test_request_contexts_name_every_attribute_an_expression_touches() -> None:
    names = {"#s": "status", "#h": "history"}
    assert expression_attributes(
        "SET #s = :to, a.b = :x, c[0] = :y, #h = list_append(#h, :h) REMOVE outbox, outbox_at", names
    ) == {"status", "a", "c", "history", "outbox", "outbox_at"}
    assert expression_attributes("attribute_exists(pk) AND size(body) > :n AND #s IN (:a, :b)", names) == {
        "pk",
        "body",
        "status",
    }
    context = dynamodb_context(
        {
            "Key": {"pk": {"S": "release#1"}},
            "UpdateExpression": "SET #s = :to",
            "ConditionExpression": "version = :v",
            "ExpressionAttributeNames": {"#s": "status"},
            "ReturnValues": "UPDATED_NEW",
        },
        "pk",
    )
    assert context == {
        "dynamodb:LeadingKeys": ["release#1"],
        "dynamodb:Attributes": ["pk", "status", "version"],
        "dynamodb:ReturnValues": "UPDATED_NEW",
    }
