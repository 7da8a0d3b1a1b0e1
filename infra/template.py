"""Read ``template.yaml`` with cfn-lint's decoder and resolve intrinsics.

cfn-lint's decoder is the one ``make lint`` validates the template with: short-form tags
(``!Ref``, ``!GetAtt``, ``!Sub``...) become their long forms, duplicate keys are errors, and
JSON templates work too. The local stack and the functional tests create their AWS resources
from the template itself, so the two cannot drift. This module knows the template;
``infra.bootstrap`` creates resources.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any


class TemplateError(ValueError):
    """The template cannot be read; the message says where."""


def repo_template_path() -> Path | None:
    """The template next to this checkout (editable installs and the repository itself)."""
    candidate = Path(__file__).resolve().parent.parent / "template.yaml"
    return candidate if candidate.is_file() else None


def default_template_path() -> Path:
    """The ``template.yaml`` of this installation: the checkout's, else the packaged copy."""
    found = repo_template_path()
    if found is not None:
        return found
    packaged = Path(__file__).resolve().parent / "template.yaml"
    if packaged.is_file():
        return packaged
    raise FileNotFoundError("template.yaml not found; pass --template PATH")


def load_template(path: Path | str | None = None) -> dict[str, Any]:
    """The template as plain dicts, lists and scalars (intrinsics in their long form).

    Importing cfn-lint takes about half a second, so a decoded template is kept (as JSON, keyed by
    the template's bytes and cfn-lint's version) in the user's cache folder and read from there
    the next time the same template is loaded.
    """
    source = Path(path or default_template_path())
    text = source.read_text(encoding="utf-8")
    cached = _cache_file(text)
    if cached is not None:
        with contextlib.suppress(OSError, ValueError):
            document: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
            return document
    document = _decode(source, text)
    if cached is not None:
        with contextlib.suppress(OSError, TypeError):
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(document), encoding="utf-8")
            partial.replace(cached)  # readers never see a half-written file
    return document


def _decode(source: Path, text: str) -> dict[str, Any]:
    from cfnlint.decode import decode_str

    document, problems = decode_str(text)
    if problems:
        raise TemplateError(f"{source}: " + "; ".join(str(p.message) for p in problems))
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{source} is not a CloudFormation template (no Resources)")
    plain: dict[str, Any] = _plain(document)
    return plain


def _cache_file(text: str) -> Path | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        decoder = version("cfn-lint")
    except PackageNotFoundError:
        return None
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "press-intake" / "templates"
    digest = hashlib.sha256(f"cfn-lint {decoder}\n{text}".encode()).hexdigest()
    return folder / f"{digest}.json"


def _plain(value: Any) -> Any:
    """cfn-lint's nodes (str/dict/list subclasses carrying line marks) as built-in types."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, date):  # an unquoted 2010-09-09: CloudFormation reads it as a string
        return value.isoformat()
    return value


class NoValue:
    """``AWS::NoValue``: the property is removed."""


NO_VALUE = NoValue()


@dataclass
class Physical:
    """What the template's intrinsics can ask about a created resource."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class Resolver:
    """Evaluates intrinsic functions against parameters and created resources."""

    template: Mapping[str, Any]
    stack_name: str
    region: str
    account_id: str
    parameters: dict[str, str] = field(default_factory=dict)
    physical: dict[str, Physical] = field(default_factory=dict)

    def __post_init__(self) -> None:
        declared = self.template.get("Parameters") or {}
        for name, spec in declared.items():
            if name not in self.parameters and "Default" in spec:
                self.parameters[name] = str(spec["Default"])

    # -- pseudo parameters and references -------------------------------------------------------

    def _pseudo(self, name: str) -> Any:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }[name]

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self._pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name].ref
        resource, _, generated = name.partition(".")  # SAM's generated resources: !Ref MyApi.Stage
        if generated and generated in (self.physical.get(resource) or Physical("")).attributes:
            return self.physical[resource].attributes[generated]
        raise KeyError(f"!Ref {name}: not a parameter or a created resource")

    def get_att(self, resource: str, attribute: str) -> str:
        if resource not in self.physical:
            raise KeyError(f"!GetAtt {resource}.{attribute}: resource not created")
        attributes = self.physical[resource].attributes
        if attribute not in attributes:
            raise KeyError(f"!GetAtt {resource}.{attribute}: attribute not known locally")
        return attributes[attribute]

    # -- conditions ---------------------------------------------------------------------------

    def condition(self, name: str) -> bool:
        conditions = self.template.get("Conditions") or {}
        return bool(self.resolve(conditions[name]))

    # -- evaluation ---------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function evaluated (``AWS::NoValue`` entries dropped)."""
        if isinstance(value, list):
            return [v for v in map(self.resolve, value) if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        intrinsic = _INTRINSICS.get(next(iter(value))) if len(value) == 1 else None
        if intrinsic is not None:
            return intrinsic(self, next(iter(value.values())))
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                return self.get_att(resource, attribute)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))

    # -- SAM conveniences -----------------------------------------------------------------------

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """A function's environment as Lambda would see it: Globals merged with its own."""
        globals_env = (
            ((self.template.get("Globals") or {}).get("Function") or {}).get("Environment") or {}
        ).get("Variables") or {}
        properties = self.template["Resources"][logical_id].get("Properties") or {}
        own = (properties.get("Environment") or {}).get("Variables") or {}
        merged = {**globals_env, **own}
        return {name: str(self.resolve(value)) for name, value in merged.items()}

    def outputs(self) -> dict[str, str]:
        result = {}
        for name, spec in (self.template.get("Outputs") or {}).items():
            try:
                result[name] = str(self.resolve(spec["Value"]))
            except KeyError:
                continue  # refers to something that has no local equivalent
        return result


def _get_att(resolver: Resolver, arg: Any) -> str:
    resource, attribute = arg if isinstance(arg, list) else str(arg).split(".", 1)
    return resolver.get_att(resource, attribute)


def _join(resolver: Resolver, arg: Any) -> str:
    delimiter, items = arg
    return str(delimiter).join(str(i) for i in resolver.resolve(items))


def _select(resolver: Resolver, arg: Any) -> Any:
    index, items = arg
    return resolver.resolve(items)[int(resolver.resolve(index))]


def _split(resolver: Resolver, arg: Any) -> list[str]:
    delimiter, text = arg
    return str(resolver.resolve(text)).split(delimiter)


def _if(resolver: Resolver, arg: Any) -> Any:
    name, when_true, when_false = arg
    return resolver.resolve(when_true if resolver.condition(name) else when_false)


def _equals(resolver: Resolver, arg: Any) -> bool:
    left, right = (resolver.resolve(a) for a in arg)
    return str(left) == str(right)


# One evaluator per intrinsic function, in its long form (the decoder expands the short forms).
_INTRINSICS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": lambda resolver, arg: resolver.ref(arg),
    "Condition": lambda resolver, arg: resolver.condition(arg),
    "Fn::GetAtt": _get_att,
    "Fn::Sub": lambda resolver, arg: resolver._sub(arg),
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Not": lambda resolver, arg: not resolver.resolve(arg[0]),
    "Fn::And": lambda resolver, arg: all(resolver.resolve(a) for a in arg),
    "Fn::Or": lambda resolver, arg: any(resolver.resolve(a) for a in arg),
    "Fn::ToJsonString": lambda resolver, arg: json.dumps(resolver.resolve(arg)),
}


def resources_of_type(template: Mapping[str, Any], *types: str) -> dict[str, dict[str, Any]]:
    return {
        name: spec for name, spec in (template.get("Resources") or {}).items() if spec.get("Type") in types
    }
