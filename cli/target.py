"""Where the commands find their resources: a deployed stack's outputs or the local stack's info file.

Nobody types a queue URL: ``--stack NAME`` reads CloudFormation outputs; ``--local`` (the
default when a local stack's info file is found) reads the file ``press-intake local`` writes:
``$PRESS_INTAKE_LOCAL``, else ``.press-intake/local.json`` in this folder or the nearest parent
that has one. A file left by a stack that no longer runs is reported as such, at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from infra.local.info import ENV_VAR, check_running, find_info

LOCAL_INFO = Path(".press-intake") / "local.json"


class TargetError(Exception):
    """The resources cannot be found; the message says what to do."""


@dataclass
class Target:
    """Resolved resources plus boto3 clients pointed at them."""

    description: str
    outputs: dict[str, str]
    region: str
    endpoint_url: str | None = None
    local: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    stack_name: str | None = None  # a deployed stack's

    def output(self, name: str) -> str:
        try:
            return self.outputs[name]
        except KeyError:
            raise TargetError(f"{self.description} has no output {name!r}; is it up to date?") from None

    def client(self, service: str) -> Any:
        return _client(service, self.region, self.endpoint_url, self.local)


@cache
def _client(service: str, region: str, endpoint_url: str | None, local: bool) -> Any:
    import boto3

    kwargs: dict[str, Any] = {"region_name": region}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    if local:
        # The local stack accepts any credentials; never pick up a real profile by accident.
        kwargs.update(aws_access_key_id="local", aws_secret_access_key="local")  # noqa: S106
    return boto3.client(service, **kwargs)  # type: ignore[call-overload]


def read_local_info(path: Path = LOCAL_INFO) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TargetError(
            f"{path} not found: start the local stack with `press-intake local` first"
        ) from None
    except json.JSONDecodeError as error:
        raise TargetError(f"{path} is not valid JSON ({error}); restart `press-intake local`") from None
    if not isinstance(info, dict) or not isinstance(info.get("resources"), dict):
        raise TargetError(f"{path} has no resources; restart `press-intake local`")
    return info


def resolve(stack: str | None, local: bool, region: str | None, info_path: Path | None = None) -> Target:
    if stack and local:
        raise TargetError("use either --stack NAME or --local, not both")
    if stack:
        return _from_stack(stack, region)
    info_path = info_path or find_info()
    if info_path is None and local:
        raise TargetError(
            f"no {LOCAL_INFO} here or in a parent folder: start the local stack with `make run` "
            f"(or `press-intake local`) in this folder or above it, or set {ENV_VAR}=path/to/local.json"
        )
    if info_path is not None:
        info = read_local_info(info_path)
        liveness = check_running(info)
        if not liveness.running:
            raise TargetError(
                f"the local stack is not running ({info_path} is left from a stack that stopped: "
                f"{liveness.reason}); start it again with `make run`"
                + (f" (its data in {info['data']} is kept)" if info.get("data") else "")
            )
        return Target(
            description=f"the local stack ({info_path})",
            outputs={str(k): str(v) for k, v in info["resources"].items()},
            region=str(info.get("region") or region or "us-east-1"),
            endpoint_url=info.get("aws_endpoint_url"),
            local=True,
            info=info,
        )
    raise TargetError(
        f"no stack chosen: pass --stack NAME for a deployed stack, or start `press-intake local` "
        f"(it writes {LOCAL_INFO}) and run this from that folder or one below it"
    )


def _from_stack(name: str, region: str | None) -> Target:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = (
            boto3.client("cloudformation", region_name=region) if region else boto3.client("cloudformation")
        )
        stacks = client.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        raise TargetError(
            f"stack {name!r}: {error.response.get('Error', {}).get('Message', error)}"
        ) from None
    except BotoCoreError as error:
        raise TargetError(f"stack {name!r}: {error}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    return Target(
        description=f"stack {name!r}",
        outputs=outputs,
        region=client.meta.region_name,
        stack_name=name,
    )
