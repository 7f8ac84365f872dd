"""buildspec.yml and buildspec-integration.yml: valid, and running only what the Makefile defines."""

import fnmatch
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from devkit.template import ROOT

BUILDSPECS = ["buildspec.yml", "buildspec-integration.yml"]


def buildspec(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / name).read_text())
    return loaded


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), flags=re.MULTILINE))


def commands(spec: dict[str, Any]) -> list[str]:
    return [command for phase in spec["phases"].values() for command in phase.get("commands", [])]


@pytest.mark.parametrize("name", BUILDSPECS)
def test_is_a_version_02_buildspec_on_python_313(name: str) -> None:
    spec = buildspec(name)

    assert spec["version"] == 0.2
    assert spec["phases"]["install"]["runtime-versions"] == {"python": 3.13}


@pytest.mark.parametrize("name", BUILDSPECS)
def test_every_command_is_a_make_target_that_exists(name: str) -> None:
    targets = make_targets()

    for command in commands(buildspec(name)):
        words = shlex.split(command)
        make = words.index("make")
        assert all("=" in word for word in words[:make]), f"{command}: only variables before make"
        assert set(words[make + 1 :]) <= targets, f"{command}: unknown target"


def test_the_build_rehearses_the_release_against_the_one_in_production_before_packaging() -> None:
    # A rolled-back rehearsal exits 1, which fails the build: nothing is packaged or deployed.
    gate = re.search(r"^release-gate:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)

    assert gate is not None
    assert "--base-parameter /store-and-reply/$(APP_STACK_PREFIX)-prod/released-commit" in gate.group(1)
    assert "--env prod" in gate.group(1)


def test_the_build_lints_scans_tests_and_packages_in_order() -> None:
    phases = buildspec("buildspec.yml")["phases"]

    assert phases["pre_build"]["commands"] == [
        "make lint",
        "make security",
        "make docs",
        "make unit",
        "make stack-tests",
        "make rehearsal-tests",
        "make release-gate",
    ]
    assert phases["build"]["commands"] == ["make package"]


def test_ci_and_the_build_share_the_test_command() -> None:
    # CI runs make test; the build runs each of its targets, in its order, before the release gate.
    found = re.search(r"^test: ([a-z -]+) ##", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)
    pre_build = buildspec("buildspec.yml")["phases"]["pre_build"]["commands"]

    assert "make test" in (ROOT / ".ci/run").read_text()
    assert found is not None
    assert [f"make {target}" for target in found.group(1).split()] == pre_build[
        : pre_build.index("make release-gate")
    ]


def test_codebuild_shows_junit_results_and_cobertura_coverage_of_every_test_target() -> None:
    reports = buildspec("buildspec.yml")["reports"]
    makefile = Path(ROOT / "Makefile").read_text()
    junit = re.findall(r"--junitxml=reports/(\S+)", makefile)
    (pattern,) = reports["tests"]["files"]

    assert reports["tests"]["file-format"] == "JUNITXML"
    assert reports["coverage"]["file-format"] == "COBERTURAXML"
    assert len(junit) == len(set(junit)) == 4  # unit, stack, rehearsal; integration has its own
    assert all(fnmatch.fnmatch(name, pattern) for name in junit if name != "integration.xml")
    # the fast suite measures coverage (the end-to-end suites run the code in worker processes)
    unit = re.search(r"^unit:.*\n\t(.*)$", makefile, flags=re.MULTILINE)
    assert unit is not None
    assert "--cov-report=xml:reports/coverage.xml" in unit.group(1)
    assert makefile.count("--cov ") == 1


def test_dependencies_are_cached_between_builds() -> None:
    spec = buildspec("buildspec.yml")

    assert any("uv" in path for path in spec["cache"]["paths"])
    assert spec["env"]["variables"]["UV_CACHE_DIR"].startswith("/root/.cache")


def test_the_artifacts_are_the_packaged_template_one_configuration_per_environment_and_the_api_document() -> (
    None
):
    artifacts = buildspec("buildspec.yml")["artifacts"]

    assert artifacts["base-directory"] == "dist"
    assert artifacts["files"] == ["packaged.yaml", "config/*.json", "openapi.json"]


def test_the_package_step_writes_the_api_s_openapi_document() -> None:
    makefile = (ROOT / "Makefile").read_text()
    package_recipe = makefile.split("\npackage:", 1)[1].split("\n\n", 1)[0]

    assert "store_reply_api.openapi dist/openapi.json" in package_recipe
