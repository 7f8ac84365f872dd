"""CloudFormation template-configuration files, one per environment, from samconfig.toml.

The pipeline's CloudFormation deploy actions read a template configuration (``Parameters`` and
``Tags``) beside the packaged template; writing them from samconfig.toml keeps one source for
what each environment is, whether deployed by hand (``sam deploy --config-env``) or by the pipeline.

Given the packaged template, each configuration also carries the version digests of the guarded
functions: SHA-256 of the function's expanded properties with that environment's parameter
values resolved. SAM names a function's versions by hashing its properties as written, where a
parameter is only its name, so a deploy that changes only a parameter (a reply text, the detection
mode, SnapStart) would update the function but publish no version, and the live alias would keep
the old configuration (aws/serverless-application-model#1640, #3820). The template hands these
digests to ``AutoPublishCodeSha256``, which SAM resolves against the parameters.

Another resource a function names (its table, its dead-letter queue, its role) stands in the digest
as its logical id and its identity: the values of the properties whose change replaces it (the
provider schema's ``createOnlyProperties``). A replaced table has a new name, which ``$LATEST``
reads at once; its digest changes too, so a version that reads the new name is published.
"""

import hashlib
import json
import shlex
import sys
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from devkit.template import ROOT, Template, expand, load_template
from devkit.template.intrinsics import LocalResource, Resolver

ENVIRONMENTS = {"dev": "default", "staging": "staging", "prod": "prod"}
# What holds users' data or the keys to it: a release may change them in place, never replace or
# remove them (a replaced table is a new, empty one; a replaced pool loses every user).
STATEFUL_TYPES = {"AWS::DynamoDB::Table", "AWS::Cognito::UserPool", "AWS::SQS::Queue", "AWS::KMS::Key"}
# The functions CodeDeploy releases, and the parameter that names their versions.
VERSION_DIGESTS = {"ApiFunction": "ApiVersionDigest", "QueueConsumerFunction": "QueueConsumerVersionDigest"}


def _pairs(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(text))


class _Placeholders(Mapping[str, str]):
    """Any attribute of a resource, as ``Name.Attribute``: a resource's name is not configuration."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getitem__(self, attribute: str) -> str:
        return f"{self._name}.{attribute}"

    def __contains__(self, attribute: object) -> bool:
        return isinstance(attribute, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


# Documented as "Update requires: Replacement" in the CloudFormation reference but absent from the
# provider schema's createOnlyProperties.
ALSO_REPLACING = {"AWS::DynamoDB::Table": ("KeySchema",)}
IDENTITY_ROUNDS = 3  # a replacement that replaces what names it: a table whose name a queue's reads


def _replacing_properties(resource_type: str, region: str) -> tuple[str, ...]:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # noqa: PLC0415 (loads on first use)

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except Exception:  # noqa: BLE001 (an unknown type: only its logical id identifies it)
        schema = {}
    pointers = schema.get("createOnlyProperties", [])
    names = [p.removeprefix("/properties/").split("/")[0] for p in pointers if p.startswith("/properties/")]
    return tuple(dict.fromkeys([*names, *ALSO_REPLACING.get(resource_type, ())]))


def _identities(
    expanded: Template, resolver_for: Callable[[Mapping[str, str]], Resolver], region: str
) -> dict[str, str]:
    """Each resource's logical id and a digest of its replacing properties, resolved."""
    identities = {name: name for name in expanded["Resources"]}
    for _ in range(IDENTITY_ROUNDS):
        resolver = resolver_for(identities)
        following = {}
        for name, resource in expanded["Resources"].items():
            properties = resource.get("Properties", {})
            replacing = {
                key: properties[key]
                for key in _replacing_properties(resource["Type"], region)
                if key in properties
            }
            try:
                resolved = resolver.resolve(replacing)
            except (IndexError, KeyError, ValueError, TypeError):  # needs a real ARN: as written, then
                resolved = replacing
            canonical = json.dumps(resolved, sort_keys=True, separators=(",", ":"))
            following[name] = f"{name}@{hashlib.sha256(canonical.encode()).hexdigest()[:16]}"
        if following == identities:
            break
        identities = following
    return identities


def version_digests(
    packaged: Template, parameters: Mapping[str, str], region: str, stack_name: str
) -> dict[str, str]:
    """The version digest of each guarded function, for one environment's parameter values.

    The function's properties after SAM's expansion (code location, layer version, environment,
    memory, SnapStart and the rest), with parameters, conditions and mappings resolved; other
    resources stand as their names and identities. Parameters the configuration does not set take
    their defaults.
    """
    unset = dict.fromkeys(VERSION_DIGESTS.values(), "")
    expanded = expand(packaged, {**parameters, **unset})
    values = (
        {
            name: str(declaration.get("Default", ""))
            for name, declaration in expanded.get("Parameters", {}).items()
        }
        | dict(parameters)
        | unset
    )

    def resolver_for(identities: Mapping[str, str]) -> Resolver:
        return Resolver(
            parameters=values,
            resources={
                name: LocalResource(ref=identity, attributes=_Placeholders(identity))
                for name, identity in identities.items()
            },
            conditions=expanded.get("Conditions", {}),
            region=region,
            stack_name=stack_name,
            mappings=expanded.get("Mappings", {}),
        )

    resolver = resolver_for(_identities(expanded, resolver_for, region))
    digests = {}
    for function, parameter in VERSION_DIGESTS.items():
        properties = resolver.resolve(expanded["Resources"][function]["Properties"])
        canonical = json.dumps(properties, sort_keys=True, separators=(",", ":"))
        digests[parameter] = hashlib.sha256(canonical.encode()).hexdigest()
    return digests


def stack_policy(template: Template) -> dict[str, Any]:
    """A stack policy that lets a release update everything, and replace or delete nothing stateful.

    Changing one of those resources in a way that replaces it, or removing it from the template,
    then fails the change set's execution; a person who means it overrides the policy for that one
    update (``aws cloudformation update-stack --stack-policy-during-update-body``)."""
    stateful = sorted(
        name for name, resource in template["Resources"].items() if resource["Type"] in STATEFUL_TYPES
    )
    return {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["Update:Replace", "Update:Delete"],
                "Resource": [f"LogicalResourceId/{name}" for name in stateful],
            },
        ]
    }


def template_configuration(
    samconfig: dict[str, Any], section: str, packaged: Template | None = None
) -> dict[str, Any]:
    """One samconfig.toml environment's template configuration, with its stack policy; with the
    package, its version digests."""
    deploy = samconfig[section]["deploy"]["parameters"]
    parameters = _pairs(deploy.get("parameter_overrides", ""))
    if packaged is not None:
        stack = samconfig[section]["global"]["parameters"]
        parameters |= version_digests(packaged, parameters, stack["region"], stack["stack_name"])
    return {
        "Parameters": parameters,
        "Tags": _pairs(deploy.get("tags", "")),
        "StackPolicy": stack_policy(packaged if packaged is not None else load_template()),
    }


def write_configurations(
    folder: Path, samconfig_path: Path = ROOT / "samconfig.toml", packaged_path: Path | None = None
) -> list[Path]:
    """Write ``<folder>/<environment>.json`` for every environment; return the paths."""
    samconfig = tomllib.loads(samconfig_path.read_text())
    packaged = load_template(packaged_path) if packaged_path is not None else None
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for environment, section in ENVIRONMENTS.items():
        path = folder / f"{environment}.json"
        configuration = template_configuration(samconfig, section, packaged)
        path.write_text(json.dumps(configuration, indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    # python -m devkit.release.package <folder> [packaged template]
    packaged_template = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    for path in write_configurations(Path(sys.argv[1]), packaged_path=packaged_template):
        print(f"wrote {path}")
