"""The template's functions as SAM deploys them locally: their specs, versions and what invokes them."""

import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from devkit.local.options import LocalOptions
from devkit.runtime.functions import FunctionSpec
from devkit.runtime.language_model import model_path
from devkit.template import Template, code_digest, resources_of_type
from devkit.template.intrinsics import ACCOUNT_ID, Resolver

# Variables of the developer's shell that a function may see; everything AWS comes from the stack.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")


def traffic_hooks(source: Template) -> set[str]:
    """Functions that only CodeDeploy runs, during deployments: the local stack has no deployments."""
    hooks = set()
    for function in resources_of_type(source, "AWS::Serverless::Function").values():
        for hook in function.get("Properties", {}).get("DeploymentPreference", {}).get("Hooks", {}).values():
            if isinstance(hook, dict) and "Ref" in hook:
                hooks.add(hook["Ref"])
    return hooks


def _alias_targets(expanded: Template) -> dict[str, str]:
    """Alias and version logical ids mapped to the function they belong to."""
    targets = {}
    for kind in ("AWS::Lambda::Alias", "AWS::Lambda::Version"):
        for name, resource in resources_of_type(expanded, kind).items():
            targets[name] = resource["Properties"]["FunctionName"]["Ref"]
    return targets


def spec_with_faults(spec: FunctionSpec, faults: str | None) -> FunctionSpec:
    """The spec with DEVKIT_FAULTS set, when there are faults to inject."""
    return replace(spec, environment={**spec.environment, "DEVKIT_FAULTS": faults}) if faults else spec


def changed(base: FunctionSpec, candidate: FunctionSpec) -> bool:
    """True when a new version would be published: code, layers, environment or configuration differ."""

    def fingerprint(spec: FunctionSpec) -> tuple[Any, ...]:
        return (
            spec.handler,
            spec.timeout,
            spec.memory,
            sorted(
                (k, v) for k, v in spec.environment.items() if k != "LAMBDA_TASK_ROOT"
            ),  # a path is no change
            [code_digest(path) for path in spec.code_paths],
        )

    return fingerprint(base) != fingerprint(candidate)


def _aliases(expanded: Template) -> dict[str, str]:
    """Alias logical ids mapped to the alias's name (``live``)."""
    return {
        name: str(resource["Properties"]["Name"])
        for name, resource in resources_of_type(expanded, "AWS::Lambda::Alias").items()
    }


def invocation_targets(expanded: Template, function_names: Mapping[str, str]) -> dict[str, str]:
    """What an integration or mapping names (a function, version or alias), as ``name:qualifier``."""
    targets = {logical: f"{name}:live" for logical, name in function_names.items()}
    aliases = _aliases(expanded)
    for alias_or_version, function in _alias_targets(expanded).items():
        if function in function_names:
            qualifier = aliases.get(alias_or_version, "live")
            targets[alias_or_version] = f"{function_names[function]}:{qualifier}"
    return targets


def function_specs(
    options: LocalOptions,
    resolver: Resolver,
    root: Path,
    source: Template,
    *,
    hooks_only: bool = False,
) -> Iterator[FunctionSpec]:
    """Each function as SAM deploys it: Globals merged into its own properties, references resolved.

    From ``root``, the folder of ``source`` (the template's own, or another tree of the project,
    such as the version a rehearsal starts from); the traffic hooks only with
    ``hooks_only``. Lambda mounts layers at /opt: a variable naming /opt names the function's
    own layer's folder.
    """
    globals_ = source.get("Globals", {}).get("Function", {})
    layers = resources_of_type(source, "AWS::Serverless::LayerVersion")
    passed = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    hooks = traffic_hooks(source)
    for name, function in resources_of_type(source, "AWS::Serverless::Function").items():
        if (name in hooks) != hooks_only:
            continue
        own = function.get("Properties", {})
        properties = {**globals_, **own}
        layer_paths = [  # SAM puts the global layers first, then the function's own
            root / layers[ref["Ref"]]["Properties"]["ContentUri"]
            for ref in [*globals_.get("Layers", []), *own.get("Layers", [])]
            if isinstance(ref, dict) and ref.get("Ref") in layers
        ]
        code = root / properties.get("CodeUri", ".")
        variables = resolver.resolve(
            {
                **globals_.get("Environment", {}).get("Variables", {}),
                **own.get("Environment", {}).get("Variables", {}),
            }
        )
        function_name = resolver.ref(name)
        memory = int(resolver.resolve(properties.get("MemorySize", 128)))
        own_layers = [
            root / layers[r["Ref"]]["Properties"]["ContentUri"]
            for r in own.get("Layers", [])
            if isinstance(r, dict) and r.get("Ref") in layers
        ]
        mounted = str((own_layers or layer_paths or [code])[-1])
        environment = {
            **passed,
            **{key: mounted if str(value) == "/opt" else str(value) for key, value in variables.items()},
            "AWS_ENDPOINT_URL": options.aws_endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_REGION": options.region,
            "AWS_DEFAULT_REGION": options.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_LAMBDA_FUNCTION_NAME": function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
            "LAMBDA_TASK_ROOT": str(code),
            # The template's LANGUAGE_DETECTION stands; Comprehend's place is the offline stand-in's.
            "LANGUAGE_SERVICES": "offline",
            "LANGUAGE_MODEL": str(model_path()),
            "PYTHONUNBUFFERED": "1",
            **({"DEVKIT_SEED": str(options.seed)} if options.seed is not None else {}),
        }
        yield FunctionSpec(
            logical_id=name,
            name=function_name,
            arn=f"arn:aws:lambda:{options.region}:{ACCOUNT_ID}:function:{function_name}",
            handler=str(properties["Handler"]),
            timeout=int(resolver.resolve(properties.get("Timeout", 3))),
            memory=memory,
            environment=environment,
            code_paths=[code, *layer_paths],
        )
