"""Run the template's functions in this process, the way Lambda would call them.

Each function is found by its ``Handler`` string, called with a fresh context carrying its
timeout and memory from the template, and sees the environment the template gives it. All
functions share one process, so their environments are merged; a variable that two
functions would see with different values is refused rather than silently shared.

Like one Lambda execution environment, a function serves one invocation at a time: its code
may keep module-level state between invocations (the Powertools resolver does), never share it
between two. Concurrent callers of the same function wait their turn; different functions run
side by side.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.bootstrap import LocalStack
from infra.lambda_context import LocalLambdaContext
from infra.template import resources_of_type

Handler = Callable[[Any, Any], Any]


@dataclass
class LocalFunction:
    logical_id: str
    handler_path: str
    timeout: float
    memory: int
    name: str
    _handler: Handler | None = field(default=None, repr=False)
    _busy: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def handler(self) -> Handler:
        if self._handler is None:
            module_name, _, attribute = self.handler_path.rpartition(".")
            self._handler = getattr(importlib.import_module(module_name), attribute)
        return self._handler

    def context(self) -> LocalLambdaContext:
        return LocalLambdaContext(
            function_name=self.name, memory_limit_in_mb=self.memory, timeout_seconds=self.timeout
        )

    def invoke(self, event: Any) -> Any:
        with self._busy:  # one invocation at a time per execution environment
            return self.handler(event, self.context())


class EnvironmentConflict(ValueError):
    pass


@dataclass
class LocalFunctions:
    functions: dict[str, LocalFunction]
    environment: dict[str, str]

    def __getitem__(self, logical_id: str) -> LocalFunction:
        return self.functions[logical_id]

    def invoke(self, logical_id: str, event: Any) -> Any:
        return self.functions[logical_id].invoke(event)


def local_functions(stack: LocalStack, overrides: Mapping[str, str] | None = None) -> LocalFunctions:
    template = stack.template
    defaults = (template.get("Globals") or {}).get("Function") or {}
    functions: dict[str, LocalFunction] = {}
    environment: dict[str, str] = {}
    owners: dict[str, str] = {}
    for logical_id, spec in resources_of_type(template, "AWS::Serverless::Function").items():
        props = spec.get("Properties") or {}
        functions[logical_id] = LocalFunction(
            logical_id=logical_id,
            handler_path=props.get("Handler") or defaults["Handler"],
            timeout=float(props.get("Timeout", defaults.get("Timeout", 3))),
            memory=int(props.get("MemorySize", defaults.get("MemorySize", 128))),
            name=stack.ref(logical_id),
        )
        for name, value in stack.function_environment(logical_id).items():
            if name in environment and environment[name] != value:
                raise EnvironmentConflict(
                    f"{name} is {environment[name]!r} for {owners[name]} but {value!r} for {logical_id}"
                )
            environment[name] = value
            owners[name] = logical_id
    environment.update(overrides or {})
    return LocalFunctions(functions=functions, environment=environment)
