"""CloudFormation template-configuration files, one per environment, from samconfig.toml.

The pipeline's CloudFormation deploy actions read a template configuration (``Parameters`` and
``Tags``) beside the packaged template; writing them from samconfig.toml keeps one source for
what each environment is, whether deployed by hand (``sam deploy --config-env``) or by the pipeline.
"""

import json
import shlex
import sys
import tomllib
from pathlib import Path
from typing import Any

from devkit.template import ROOT

ENVIRONMENTS = {"dev": "default", "staging": "staging", "prod": "prod"}


def _pairs(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(text))


def template_configuration(samconfig: dict[str, Any], section: str) -> dict[str, Any]:
    """The template configuration of one samconfig.toml environment."""
    deploy = samconfig[section]["deploy"]["parameters"]
    return {
        "Parameters": _pairs(deploy.get("parameter_overrides", "")),
        "Tags": _pairs(deploy.get("tags", "")),
    }


def write_configurations(folder: Path, samconfig_path: Path = ROOT / "samconfig.toml") -> list[Path]:
    """Write ``<folder>/<environment>.json`` for every environment; return the paths."""
    samconfig = tomllib.loads(samconfig_path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for environment, section in ENVIRONMENTS.items():
        path = folder / f"{environment}.json"
        path.write_text(json.dumps(template_configuration(samconfig, section), indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_configurations(Path(sys.argv[1])):
        print(f"wrote {path}")
