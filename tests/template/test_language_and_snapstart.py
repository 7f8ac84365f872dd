"""The template's language detection and SnapStart settings, and the layer that carries the model."""

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from devkit.release.package import template_configuration
from devkit.template import expand
from devkit.template.intrinsics import Resolver

ROOT = Path(__file__).resolve().parents[2]
LANGUAGE_FUNCTIONS = ("ApiFunction", "QueueConsumerFunction")


def test_language_detection_is_a_parameter_defaulting_to_hybrid(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]

    assert parameters["LanguageDetection"]["AllowedValues"] == ["comprehend", "hybrid", "local"]
    assert parameters["LanguageDetection"]["Default"] == "hybrid"
    assert (parameters["LanguageConfidence"]["MinValue"], parameters["LanguageConfidence"]["MaxValue"]) == (
        0.5,
        1,
    )
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["LANGUAGE_DETECTION"] == {"Ref": "LanguageDetection"}
    assert variables["LANGUAGE_CONFIDENCE"] == {"Ref": "LanguageConfidence"}
    assert variables["LANGUAGE_MODEL"] == "/opt/language-model/lid.176.ftz"


@pytest.mark.parametrize("function", LANGUAGE_FUNCTIONS)
def test_snapstart_follows_its_parameter_on_the_functions_that_detect_languages(
    template: dict[str, Any], function: str
) -> None:
    for value in ("None", "PublishedVersions"):
        expanded = expand(template, {"Environment": "prod", "SnapStart": value})
        assert expanded["Resources"][function]["Properties"]["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    assert template["Parameters"]["SnapStart"]["AllowedValues"] == ["PublishedVersions", "None"]


def test_only_the_functions_users_wait_for_use_snapstart(template: dict[str, Any]) -> None:
    with_snapstart = {
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function" and "SnapStart" in resource["Properties"]
    }

    assert with_snapstart == set(LANGUAGE_FUNCTIONS)


@pytest.mark.parametrize(
    ("environment", "expected"), [("default", "None"), ("staging", "None"), ("prod", "PublishedVersions")]
)
def test_snapstart_is_on_in_prod_only(template: dict[str, Any], environment: str, expected: str) -> None:
    samconfig = tomllib.loads((ROOT / "samconfig.toml").read_text())
    parameters = template_configuration(samconfig, environment)["Parameters"]

    assert parameters.get("SnapStart", template["Parameters"]["SnapStart"]["Default"]) == expected


def test_the_shared_layer_ships_the_model_for_arm64_checked_by_hash() -> None:
    makefile = (ROOT / "layers/shared/Makefile").read_text()
    requirements = (ROOT / "layers/shared/requirements.txt").read_text()

    assert "--platform manylinux2014_aarch64" in makefile
    assert re.search(r"^fasttext-predict==", requirements, re.MULTILINE)
    assert "numpy" not in requirements.lower()
    assert re.search(r"sha256sum --check", makefile)
    assert '"$(ARTIFACTS_DIR)/language-model/"' in makefile


@pytest.mark.parametrize("alarm", ["ApiLocalLanguageAlarm", "ConsumerLocalLanguageAlarm"])
def test_a_version_whose_local_model_stops_deciding_is_rolled_back(
    template: dict[str, Any], alarm: str
) -> None:
    # The share the local model decides, of every message the version saw: below the floor, or
    # unlike the function's own mix, the canary stops; with comprehend detection the local model
    # decides nothing by design, so the alarm never breaches.
    defaults = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    for mode in ("hybrid", "local", "comprehend"):
        expanded = expand(template, {"LanguageDetection": mode})
        properties = expanded["Resources"][alarm]["Properties"]
        resolver = Resolver(
            parameters={**defaults, "LanguageDetection": mode},
            resources={},
            conditions=expanded["Conditions"],
            region="us-east-1",
            stack_name="store-and-reply-prod",
        )
        metrics = {metric["Id"]: metric for metric in properties["Metrics"]}
        signal = str(resolver.resolve(metrics["signal"]["Expression"]))

        assert (properties["Threshold"], properties["ComparisonOperator"]) == (
            1,
            "GreaterThanOrEqualToThreshold",
        )
        if mode == "comprehend":
            assert signal == "total * 0"
        else:
            # Judged only from the minimum sample: the floor (1) and the mix against the function's (2).
            assert "IF(total >= 10 AND share < 10, 1, 0)" in signal, signal
            # ... by more points than the parameter and more standard errors than chance allows.
            assert "ABS(share - baseline) > 25 AND ABS(share - baseline) > 4 * error, 2, 0)" in signal, signal
    read = {
        metrics[name]["MetricStat"]["Metric"]["MetricName"]
        for name in ("local", "comprehend", "undetermined")
    }
    assert read == {"LanguageDecidedLocally", "LanguageDecidedByComprehend", "LanguageUndetermined"}
