"""API Gateway usage plans: one API key per organisation (its usage key), throttled by a plan.

Every organisation's usage key starts in the stack's default plan (``OrganisationsUsagePlan``);
``set_limits`` moves it to a plan of its own with the given limits (created once, updated after)
and ``reset_limits`` moves it back and deletes that plan. API Gateway allows a key in one plan per
API stage, so a move takes the key out of one plan before it adds it to the other.

Used by the operators' CLI (``press-intake keys``) and the local stack's seeding; never by a
Lambda function.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from functions.domain.keys import OrgLimits, UsageKey


@dataclass(frozen=True)
class OrgPlan:
    """The usage plan an organisation's usage key is in, and the limits it gives."""

    plan_id: str
    name: str
    limits: OrgLimits | None
    dedicated: bool


def _limits(plan: dict[str, Any]) -> OrgLimits | None:
    throttle = plan.get("throttle") or {}
    if "rateLimit" not in throttle or "burstLimit" not in throttle:
        return None
    return OrgLimits(rate=float(throttle["rateLimit"]), burst=int(throttle["burstLimit"]))


def _throttle(limits: OrgLimits) -> dict[str, Any]:
    return {"rateLimit": float(limits.rate), "burstLimit": int(limits.burst)}


class ApiGatewayUsagePlans:
    def __init__(self, client: Any, default_plan_id: str) -> None:
        self._client = client
        self._default_id = default_plan_id

    @cached_property
    def _default(self) -> dict[str, Any]:
        plan: dict[str, Any] = self._client.get_usage_plan(usagePlanId=self._default_id)
        return plan

    def _stages(self, plan: dict[str, Any]) -> set[tuple[str, str]]:
        return {(s["apiId"], s["stage"]) for s in plan.get("apiStages") or []}

    def _name_for(self, org_id: str) -> str:
        """The name of the organisation's usage key, and of its own plan when it has one."""
        return f"{self._default['name']}/{org_id}"

    # -- usage keys -----------------------------------------------------------------------------

    def _find_key(self, org_id: str) -> UsageKey | None:
        name = self._name_for(org_id)
        for page in self._client.get_paginator("get_api_keys").paginate(nameQuery=name, includeValues=True):
            for item in page.get("items", []):
                if item.get("name") == name:  # nameQuery matches prefixes
                    return UsageKey(key_id=item["id"], value=item["value"])
        return None

    def for_organisation(self, org_id: str) -> UsageKey:
        """The organisation's usage key; created, and added to the default plan, on first use."""
        key = self._find_key(org_id)
        if key is None:
            created = self._client.create_api_key(
                name=self._name_for(org_id),
                description=f"press-intake organisation {org_id}: usage plan key, never shown to clients.",
                enabled=True,
                value=secrets.token_urlsafe(30),
            )
            key = UsageKey(key_id=created["id"], value=created["value"])
        if not self._plans_of(key.key_id):
            self._client.create_usage_plan_key(
                usagePlanId=self._default_id, keyId=key.key_id, keyType="API_KEY"
            )
        return key

    # -- plans ----------------------------------------------------------------------------------

    def _all_plans(self, **filters: Any) -> list[dict[str, Any]]:
        plans: list[dict[str, Any]] = []
        for page in self._client.get_paginator("get_usage_plans").paginate(**filters):
            plans.extend(page.get("items", []))
        return plans

    def _plans_of(self, key_id: str) -> list[dict[str, Any]]:
        """The plans of this API stage that hold the key."""
        ours = self._stages(self._default)
        return [plan for plan in self._all_plans(keyId=key_id) if self._stages(plan) & ours]

    def _dedicated(self, org_id: str) -> dict[str, Any] | None:
        name = self._name_for(org_id)
        return next((plan for plan in self._all_plans() if plan.get("name") == name), None)

    def _org_plan(self, plan: dict[str, Any]) -> OrgPlan:
        return OrgPlan(
            plan_id=plan["id"],
            name=str(plan.get("name") or ""),
            limits=_limits(plan),
            dedicated=plan["id"] != self._default_id,
        )

    def plan_of(self, org_id: str) -> OrgPlan | None:
        """The plan the organisation's usage key is in; None when it has no usage key yet."""
        key = self._find_key(org_id)
        if key is None:
            return None
        plans = self._plans_of(key.key_id)
        return self._org_plan(plans[0]) if plans else None

    def _move(self, key: UsageKey, to_plan_id: str) -> None:
        for plan in self._plans_of(key.key_id):
            if plan["id"] != to_plan_id:
                self._client.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key.key_id)
        if to_plan_id not in {plan["id"] for plan in self._plans_of(key.key_id)}:
            self._client.create_usage_plan_key(usagePlanId=to_plan_id, keyId=key.key_id, keyType="API_KEY")

    def set_limits(self, org_id: str, limits: OrgLimits) -> OrgPlan:
        """Give the organisation its own plan with these limits (its usage key moves there)."""
        key = self.for_organisation(org_id)
        plan = self._dedicated(org_id)
        if plan is None:
            plan = self._client.create_usage_plan(
                name=self._name_for(org_id),
                description=f"press-intake: limits of organisation {org_id} (press-intake keys limits).",
                apiStages=self._default.get("apiStages") or [],
                throttle=_throttle(limits),
            )
        else:
            plan = self._client.update_usage_plan(
                usagePlanId=plan["id"],
                patchOperations=[
                    {"op": "replace", "path": "/throttle/rateLimit", "value": f"{limits.rate:g}"},
                    {"op": "replace", "path": "/throttle/burstLimit", "value": str(limits.burst)},
                ],
            )
        self._move(key, plan["id"])
        return self._org_plan(plan)

    def reset_limits(self, org_id: str) -> OrgPlan:
        """Back to the default plan; the organisation's own plan is deleted."""
        key = self.for_organisation(org_id)
        self._move(key, self._default_id)
        if (plan := self._dedicated(org_id)) is not None:
            self._client.delete_usage_plan(usagePlanId=plan["id"])
        return self._org_plan(self._default)
