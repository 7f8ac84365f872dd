"""devkit.release.iam.decide against the rules of IAM's documentation it reproduces.

- Policy evaluation logic: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
- Condition operators: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
- Multivalued keys: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
"""

from typing import Any

import pytest

from devkit.release.iam import Request, UnsupportedPolicy, decide, matches_format, resource_formats

QUEUE = "arn:aws:sqs:us-east-1:123456789012:orders"


def allow(action: Any = "sqs:SendMessage", resource: Any = QUEUE, **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def test_an_explicit_deny_overrides_any_allow() -> None:
    deny = {"Effect": "Deny", "Action": "sqs:*", "Resource": "*"}

    assert decide([allow(), deny], Request("sqs:SendMessage", QUEUE)) == "Deny"


def test_without_an_allow_a_request_is_implicitly_denied() -> None:
    assert decide([allow()], Request("sqs:DeleteQueue", QUEUE)) == "ImplicitDeny"


def test_actions_match_case_insensitively_and_resources_case_sensitively() -> None:
    assert decide([allow("SQS:sendmessage")], Request("sqs:SendMessage", QUEUE)) == "Allow"
    assert decide([allow(resource=QUEUE.upper())], Request("sqs:SendMessage", QUEUE)) == "ImplicitDeny"


def test_resource_wildcards_span_any_characters_or_exactly_one() -> None:
    assert (
        decide([allow(resource="arn:aws:sqs:*:123456789012:ord?rs")], Request("sqs:SendMessage", QUEUE))
        == "Allow"
    )
    assert (
        decide([allow(resource="arn:aws:sqs:*:123456789012:ord?")], Request("sqs:SendMessage", QUEUE))
        != "Allow"
    )


def test_not_action_and_not_resource_match_everything_else() -> None:
    statement = {"Effect": "Allow", "NotAction": "sqs:DeleteQueue", "NotResource": "arn:aws:sqs:*:*:secret"}

    assert decide([statement], Request("sqs:SendMessage", QUEUE)) == "Allow"
    assert decide([statement], Request("sqs:DeleteQueue", QUEUE)) == "ImplicitDeny"


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        (
            "StringEquals",
            False,
        ),  # "If the key ... is not present in the request context, the values do not match"
        (
            "StringNotEquals",
            True,
        ),  # "...such as StringNotLike ... and the right key is not present, the condition is true"
        ("StringEqualsIfExists", True),
        ("ForAllValues:StringEquals", True),  # an empty set of values: every one of them matches
        ("ForAnyValue:StringEquals", False),
    ],
)
def test_a_key_missing_from_the_request_context(operator: str, expected: bool) -> None:
    statement = allow(**{operator: {"aws:ResourceTag/team": "orders"}})

    assert (decide([statement], Request("sqs:SendMessage", QUEUE)) == "Allow") is expected


def test_values_of_one_key_are_or_and_keys_are_and() -> None:
    statement = allow(
        StringEquals={"aws:ResourceTag/team": ["orders", "billing"], "aws:ResourceTag/env": "prod"}
    )

    def decided(**tags: str) -> str:
        return decide(
            [statement],
            Request("sqs:SendMessage", QUEUE, {f"aws:ResourceTag/{k}": v for k, v in tags.items()}),
        )

    assert decided(team="billing", env="prod") == "Allow"
    assert decided(team="billing", env="dev") == "ImplicitDeny"


def test_condition_key_names_are_case_insensitive_but_values_are_not() -> None:
    statement = allow(StringEquals={"iam:PassedToService": "lambda.amazonaws.com"})

    assert (
        decide(
            [statement], Request("sqs:SendMessage", QUEUE, {"IAM:passedtoservice": "lambda.amazonaws.com"})
        )
        == "Allow"
    )
    assert (
        decide(
            [statement], Request("sqs:SendMessage", QUEUE, {"iam:PassedToService": "LAMBDA.amazonaws.com"})
        )
        != "Allow"
    )


def test_for_all_values_needs_every_request_value_among_the_policy_s() -> None:
    statement = allow(**{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["USER#__check__*"]}})

    def leading(*keys: str) -> str:
        return decide([statement], Request("sqs:SendMessage", QUEUE, {"dynamodb:LeadingKeys": list(keys)}))

    assert leading("USER#__check__d-1") == "Allow"
    assert leading("USER#__check__d-1", "USER#alice") == "ImplicitDeny"


def test_arn_like_and_null() -> None:
    arn_like = allow(ArnLike={"lambda:FunctionArn": "arn:aws:lambda:*:*:function:app-*"})
    null = allow(Null={"aws:ResourceTag/team": "true"})

    assert (
        decide(
            [arn_like],
            Request(
                "sqs:SendMessage",
                QUEUE,
                {"lambda:FunctionArn": "arn:aws:lambda:eu-west-1:1:function:app-api:live"},
            ),
        )
        == "Allow"
    )
    assert decide([null], Request("sqs:SendMessage", QUEUE)) == "Allow"
    assert decide([null], Request("sqs:SendMessage", QUEUE, {"aws:ResourceTag/team": "x"})) == "ImplicitDeny"


def test_what_it_does_not_evaluate_is_an_error_not_a_guess() -> None:
    with pytest.raises(UnsupportedPolicy):
        decide(
            [allow(IpAddress={"aws:SourceIp": "10.0.0.0/8"})],
            Request("sqs:SendMessage", QUEUE, {"aws:SourceIp": "10.1.1.1"}),
        )
    with pytest.raises(UnsupportedPolicy):
        decide(
            [allow("s3:GetObject", resource="arn:aws:s3:::bucket/${aws:username}/*")],
            Request("s3:GetObject", "arn:aws:s3:::bucket/alice/x"),
        )


def test_an_action_s_resource_formats_come_from_the_service_authorization_reference() -> None:
    (function,) = resource_formats("lambda:GetFunction")

    assert matches_format("arn:aws:lambda:us-east-1:123456789012:function:api", function)
    assert not matches_format("arn:aws:lambda:us-east-1:123456789012:function:api:live", function)
    assert resource_formats("sqs:ListQueues") == []
