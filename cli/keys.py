"""``press-intake keys create|list|revoke|limits|notify``: API keys, rate limits and notification
addresses per organisation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.common import EXIT_FAILED, Options, fail, target_from
from functions.adapters.apigateway_usage_plans import ApiGatewayUsagePlans, OrgPlan
from functions.adapters.dynamodb_keys import DynamoKeyRepository
from functions.domain import keys as key_rules

app = typer.Typer(
    help="Create, list and revoke organisations' API keys; set their rate limits.", no_args_is_help=True
)
console = Console()

REVOCATION_DELAY_SECONDS = 60  # the authorizer cache TTL (ReauthorizeEvery in template.yaml)


def _repo(options: Options) -> DynamoKeyRepository:
    target = target_from(options)
    # A stack deployed before KeysOrgIndexName existed has only the index it replaces.
    index = target.outputs.get("KeysOrgIndexName", "by_org")
    return DynamoKeyRepository(target.client("dynamodb"), target.output("KeysTableName"), org_index=index)


def _plans(options: Options) -> ApiGatewayUsagePlans:
    target = target_from(options)
    return ApiGatewayUsagePlans(target.client("apigateway"), target.output("OrganisationsUsagePlanId"))


def _check_org(org: str) -> None:
    if not key_rules.ORG_ID.match(org):
        fail(
            "--org must be 2-63 characters: lowercase letters, digits and '-', "
            "starting with a letter or digit"
        )


RateOption = Annotated[
    int | None,
    typer.Option("--rate", min=1, help="Requests per second this organisation may send (steady state)."),
]
BurstOption = Annotated[
    int | None, typer.Option("--burst", min=1, help="Requests this organisation may send in a burst.")
]


def _apply_limits(plans: ApiGatewayUsagePlans, org: str, rate: int | None, burst: int | None) -> OrgPlan:
    """Give the organisation its own plan; a limit not given keeps its current value."""
    current = plans.plan_of(org)
    known = current.limits if current is not None else None
    if known is None and (rate is None or burst is None):
        fail("this organisation's plan has no limits to keep: give both --rate and --burst")
    new_rate = float(rate) if rate is not None else known.rate if known else 0.0
    new_burst = burst if burst is not None else known.burst if known else 0
    try:
        limits = key_rules.org_limits(new_rate, new_burst)
    except ValueError as error:
        fail(str(error))
    return plans.set_limits(org, limits)


def _number(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def _describe(plan: OrgPlan | None) -> dict[str, object]:
    if plan is None:
        return {"plan": None, "rate": None, "burst": None}
    return {
        "plan": "own" if plan.dedicated else "default",
        "usage_plan_id": plan.plan_id,
        "rate": _number(plan.limits.rate) if plan.limits else None,
        "burst": plan.limits.burst if plan.limits else None,
    }


def _limits_line(plan: OrgPlan | None) -> str:
    if plan is None or plan.limits is None:
        return "no per-organisation limits (only the stage's)"
    which = "its own plan" if plan.dedicated else "the default plan"
    return f"{plan.limits.rate:g} requests/s, bursts of {plan.limits.burst} ({which})"


@app.command()
def create(
    ctx: typer.Context,
    org: Annotated[str, typer.Option("--org", help="Organisation id: lowercase letters, digits, '-'.")],
    name: Annotated[str, typer.Option("--name", help="Organisation name, as moderators will see it.")],
    role: Annotated[str, typer.Option(help="Role of the key.")] = "submitter",
    rate: RateOption = None,
    burst: BurstOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {key_id, key, org_id, org_name, limits} as JSON.")
    ] = False,
) -> None:
    """Issue a key for an organisation. The secret is printed once and never stored.

    The organisation's first key also gives it its usage key in the default usage plan
    (OrgRateLimit/OrgBurstLimit); --rate/--burst give it limits of its own instead.
    """
    _check_org(org)
    name = name.strip()
    if not 1 <= len(name) <= 200:
        fail("--name must be 1-200 characters")
    if role not in key_rules.ROLES:
        fail(f"--role must be one of: {', '.join(key_rules.ROLES)}")
    plans = _plans(ctx.obj)
    issued = key_rules.create_key(
        _repo(ctx.obj), plans, org_id=org, org_name=name, role=role, now=datetime.now(UTC)
    )
    plan = (
        _apply_limits(plans, org, rate, burst)
        if rate is not None or burst is not None
        else plans.plan_of(org)
    )
    if as_json:
        document = {"key_id": issued.key_id, "key": issued.token, "org_id": org, "org_name": name}
        typer.echo(json.dumps({**document, "limits": _describe(plan)}))
        return
    console.print(f"Key [bold]{issued.key_id}[/] for [bold]{name}[/] ({org}):")
    typer.echo(issued.token)
    console.print("[yellow]Store it now: the secret is not stored and cannot be shown again.[/]")
    console.print(f"Limits: {_limits_line(plan)}.")


@app.command()
def limits(
    ctx: typer.Context,
    org: Annotated[str, typer.Option("--org", help="The organisation whose limits to show or set.")],
    rate: RateOption = None,
    burst: BurstOption = None,
    default: Annotated[
        bool,
        typer.Option("--default", help="Back to the default plan's limits (OrgRateLimit/OrgBurstLimit)."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {org_id, plan, rate, burst} as JSON.")
    ] = False,
) -> None:
    """Show an organisation's rate limits, or set them (--rate/--burst: a usage plan of its own)."""
    _check_org(org)
    if default and (rate is not None or burst is not None):
        fail("--default cannot be combined with --rate or --burst")
    if not _repo(ctx.obj).list(org):
        fail(f"no keys for organisation {org}; create one with `press-intake keys create`", code=EXIT_FAILED)
    plans = _plans(ctx.obj)
    if default:
        plan: OrgPlan | None = plans.reset_limits(org)
    elif rate is not None or burst is not None:
        plan = _apply_limits(plans, org, rate, burst)
    else:
        plan = plans.plan_of(org)
    if as_json:
        typer.echo(json.dumps({"org_id": org, **_describe(plan)}))
        return
    console.print(f"{org}: {_limits_line(plan)}.")


def _row(record: key_rules.KeyRecord) -> dict[str, str | None]:
    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "key_id": record.key_id,
        "org_id": record.org_id,
        "org_name": record.org_name,
        "role": record.role,
        "status": record.status,
        "created_at": record.created_at.isoformat(),
        "last_used_at": when(record.last_used_at),
        "revoked_at": when(record.revoked_at),
    }


def _table(rows: list[dict[str, str | None]]) -> Table:
    table = Table()
    table.add_column("key id", no_wrap=True, min_width=16)
    table.add_column("organisation", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("created", no_wrap=True)
    table.add_column("last used", no_wrap=True)
    for row in rows:
        table.add_row(
            row["key_id"],
            f"{row['org_name']}\n[dim]{row['org_id']}[/]",
            row["status"],
            (row["created_at"] or "")[:10],
            (row["last_used_at"] or "never")[:16].replace("T", " "),
            style="dim" if row["status"] != key_rules.ACTIVE else "",
        )
    return table


@app.command("list")
def list_keys(
    ctx: typer.Context,
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation's keys.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List keys (never their secrets)."""
    if org is not None and not key_rules.ORG_ID.match(org):
        fail("--org must be 2-63 characters: lowercase letters, digits and '-'")
    rows = [_row(record) for record in _repo(ctx.obj).list(org)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        console.print("No keys." if org is None else f"No keys for {org}.")
        return
    console.print(_table(rows))


@app.command()
def revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="The key id (16 characters), as `keys list` shows it.")],
) -> None:
    """Revoke a key. Requests with it fail within a minute (the authorizer's cache)."""
    if not key_rules.KEY_ID.match(key_id):
        fail(f"{key_id!r} is not a key id (16 characters a-z, 2-7); see `press-intake keys list`")
    record = _repo(ctx.obj).revoke(key_id, datetime.now(UTC))
    if record is None:
        fail(f"no key {key_id}", code=1)
    console.print(
        f"Key {key_id} of {record.org_name} ({record.org_id}) is revoked; "
        f"requests with it are refused within {REVOCATION_DELAY_SECONDS} seconds."
    )


@app.command()
def notify(
    ctx: typer.Context,
    org: Annotated[str, typer.Option("--org", help="The organisation.")],
    email: Annotated[
        str | None, typer.Option("--email", help="The address to send the organisation's notices to.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Send them to releases' contacts only.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print {org_id, notify_address} as JSON.")] = False,
) -> None:
    """Show, set (--email) or remove (--clear) an organisation's notification address.

    It gets, besides each release's contact, the e-mail sent when one of the organisation's
    releases is sent back for changes, rejected, published or killed, and the notice when one of
    its webhooks is disabled.
    """
    from pydantic import ValidationError, validate_email

    from functions.adapters.dynamodb_webhooks import DynamoWebhooks

    _check_org(org)
    if email is not None and clear:
        fail("--email sets the address and --clear removes it: give one of them")
    if email is not None:
        try:
            email = validate_email(email.strip())[1]
        except (ValidationError, ValueError) as error:
            fail(f"--email {email!r} is not an e-mail address ({error})")
    target = target_from(ctx.obj)
    if (email is not None or clear) and not _repo(ctx.obj).list(org):
        fail(
            f"there is no organisation {org} (it has no keys); create one with keys create", code=EXIT_FAILED
        )
    hooks = DynamoWebhooks(target.client("dynamodb"), target.output("WebhooksTableName"))
    if email is not None or clear:
        hooks.set_notify_address(org, email)
    address = hooks.notify_address(org)
    if as_json:
        typer.echo(json.dumps({"org_id": org, "notify_address": address}))
    elif address:
        console.print(f"{org}: notices go to {address} and to each release's contact.", highlight=False)
    else:
        console.print(f"{org}: notices go to each release's contact only.", highlight=False)
