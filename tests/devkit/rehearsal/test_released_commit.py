"""Which commit the pipeline's gate rehearses against: the one it recorded after the last release."""

import boto3
import pytest

from devkit.rehearsal.__main__ import released_commit

PARAMETER = "/store-and-reply/store-and-reply-prod/released-commit"


def test_the_commit_recorded_after_the_last_production_release(moto: None) -> None:
    boto3.client("ssm").put_parameter(Name=PARAMETER, Value="0123abc", Type="String")

    assert released_commit(PARAMETER) == "0123abc"


def test_nothing_recorded_means_a_first_release(moto: None) -> None:
    assert released_commit(PARAMETER) == ""


def test_any_other_failure_is_not_mistaken_for_a_first_release(
    monkeypatch: pytest.MonkeyPatch, moto: None
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "not-a-region")

    with pytest.raises(Exception):  # noqa: B017, PT011 (any error: the gate must not pass)
        released_commit(PARAMETER)
