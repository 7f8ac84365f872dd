"""CloudFormation intrinsic functions, resolved against the local stack's resources."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account


class UnresolvedReference(Exception):
    """A value names something the local stack does not have."""


@dataclass(frozen=True)
class LocalResource:
    """What ``Ref`` and ``Fn::GetAtt`` give for one resource."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolver:
    """Resolves ``Ref``, ``Fn::GetAtt``, ``Fn::Sub`` and friends to local names, URLs and ARNs."""

    parameters: Mapping[str, str]
    resources: Mapping[str, LocalResource]
    conditions: Mapping[str, Any]
    region: str
    stack_name: str
    stack_uuid: str = "00000000-0000-4000-8000-000000000000"
    mappings: Mapping[str, Any] = field(default_factory=dict)

    def pseudo(self, name: str) -> str | None:
        stack = f"{self.stack_name}/{self.stack_uuid}"
        stack_id = f"arn:aws:cloudformation:{self.region}:{ACCOUNT_ID}:stack/{stack}"
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": stack_id,
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        if (value := self.pseudo(name)) is not None:
            return value
        if name in self.resources:
            return self.resources[name].ref
        raise UnresolvedReference(f"Ref {name}: no such parameter or local resource")

    def get_att(self, name: str, attribute: str) -> str:
        resource = self.resources.get(name)
        if resource is None or attribute not in resource.attributes:
            raise UnresolvedReference(f"Fn::GetAtt {name}.{attribute}: not available locally")
        return resource.attributes[attribute]

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.conditions[name]))

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return str(self.resolve(variables[expression]))
            if "." in expression and not expression.startswith("AWS::"):
                name, attribute = expression.split(".", 1)
                return self.get_att(name, attribute)
            return self.ref(expression)

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def resolve(self, value: Any) -> Any:  # noqa: C901, PLR0911, PLR0912 (a branch per intrinsic)
        """The value with every intrinsic function replaced by what it stands for locally."""
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not None]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not None}
        ((function, argument),) = value.items()
        match function:
            case "Ref" if argument == "AWS::NoValue":
                return None  # the property is removed: lists and objects drop None values
            case "Ref":
                return self.ref(argument)
            case "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(name, attribute)
            case "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self._sub(text, variables)
            case "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
            case "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            case "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            case "Fn::If":
                name, when_true, when_false = argument
                return self.resolve(when_true if self.condition(name) else when_false)
            case "Fn::Equals":
                left, right = self.resolve(argument)
                return str(left) == str(right)
            case "Fn::Not":
                return not self.resolve(argument[0])
            case "Fn::And":
                return all(self.resolve(item) for item in argument)
            case "Fn::Or":
                return any(self.resolve(item) for item in argument)
            case "Condition":
                return self.condition(argument)
            case "Fn::FindInMap":
                mapping, top, second = (str(item) for item in self.resolve(argument))
                return self.mappings[mapping][top][second]
            case _:
                return {function: self.resolve(argument)}


def offline_resolver(expanded: Mapping[str, Any], parameters: Mapping[str, str] | None = None) -> Resolver:
    """A resolver of an expanded template's parameters, conditions and mappings alone (no resources):
    the template's defaults, overridden by ``parameters``."""
    defaults = {name: str(p.get("Default", "")) for name, p in expanded.get("Parameters", {}).items()}
    return Resolver(
        parameters=defaults | dict(parameters or {}),
        resources={},
        conditions=expanded.get("Conditions", {}),
        region="us-east-1",
        stack_name="store-and-reply",
        mappings=expanded.get("Mappings", {}),
    )
