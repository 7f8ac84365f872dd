"""What the template's resources are called locally: the names, URLs and ARNs its intrinsics resolve to."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devkit.local.options import LocalOptions
from devkit.template import Template, resources_of_type
from devkit.template.intrinsics import ACCOUNT_ID, LocalResource, Resolver


@dataclass(frozen=True)
class LocalNames:
    """The local stack's resources, as made in the embedded endpoint, by logical id."""

    options: LocalOptions
    source: Template
    table_names: Mapping[str, str]
    queue_urls: Mapping[str, str]
    queue_names: Mapping[str, str]
    user_pools: Mapping[str, Mapping[str, str]]
    pool_clients: Mapping[str, str]

    def resolver(self, expanded: Mapping[str, Any], versions: Mapping[str, str]) -> Resolver:
        """Resolves ``expanded``'s intrinsics to local names, URLs and ARNs; ``versions`` are the
        functions' versions this update publishes, by logical id (version 1 where none is named)."""
        options, region, queue_names = self.options, self.options.region, self.queue_names
        resources: dict[str, LocalResource] = {}
        for name, table in self.table_names.items():
            arn = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}"
            # The stream's real ARN carries its creation time: the stream trigger asks the table.
            resources[name] = LocalResource(table, {"Arn": arn, "StreamArn": f"{arn}/stream/local"})
        for name, url in self.queue_urls.items():
            arn = f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{queue_names[name]}"
            resources[name] = LocalResource(
                url, {"Arn": arn, "QueueUrl": url, "QueueName": queue_names[name]}
            )
        for name in resources_of_type(self.source, "AWS::Serverless::Function"):
            function = f"{options.stack_name}-{name}"
            arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function}"
            resources[name] = LocalResource(function, {"Arn": arn})
            # SAM's !Ref Function.Version and !Ref Function.Alias
            resources[f"{name}.Version"] = LocalResource(f"{arn}:{versions.get(name, '1')}")
            resources[f"{name}.Alias"] = LocalResource(f"{arn}:live")
        for name, pool in self.user_pools.items():
            resources[name] = LocalResource(pool["Ref"], {k: v for k, v in pool.items() if k != "Ref"})
        for name, client_id in self.pool_clients.items():
            resources[name] = LocalResource(client_id, {"ClientId": client_id})
        for name, resource in expanded.get("Resources", {}).items():
            if name not in resources:
                resources[name] = self._local_resource(name, resource, resources, versions)
        # An alarm that names itself (the rollback alarms: after the version they judge) is known by it.
        named = self._resolving(resources)
        for name, alarm in resources_of_type(dict(expanded), "AWS::CloudWatch::Alarm").items():
            if "AlarmName" in alarm["Properties"]:
                alarm_name = str(named.resolve(alarm["Properties"]["AlarmName"]))
                arn = f"arn:aws:cloudwatch:{region}:{ACCOUNT_ID}:alarm:{alarm_name}"
                resources[name] = LocalResource(alarm_name, {"Arn": arn})
        return self._resolving(resources)

    def _resolving(self, resources: Mapping[str, LocalResource]) -> Resolver:
        options = self.options
        parameters = {
            name: str(options.parameters.get(name, definition.get("Default", "")))
            for name, definition in self.source.get("Parameters", {}).items()
        }
        return Resolver(
            parameters=parameters,
            resources=dict(resources),
            conditions=self.source.get("Conditions", {}),
            region=options.region,
            stack_name=options.stack_name,
            mappings=self.source.get("Mappings", {}),
        )

    def _local_resource(
        self,
        name: str,
        resource: Mapping[str, Any],
        known: Mapping[str, LocalResource],
        versions: Mapping[str, str],
    ) -> LocalResource:
        """What Ref and GetAtt give locally for a resource of the expanded template."""
        region, stack = self.options.region, self.options.stack_name
        kind = resource["Type"]
        if kind in {"AWS::Lambda::Version", "AWS::Lambda::Alias"}:
            logical = resource["Properties"]["FunctionName"]["Ref"]
            function = known[logical].ref
            version = versions.get(logical, "1")  # !Ref Function.Version: the version this update publishes
            qualifier = version if kind == "AWS::Lambda::Version" else str(resource["Properties"]["Name"])
            arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function}:{qualifier}"
            return LocalResource(arn, {"Version": qualifier})
        local = f"{stack}-{name}"
        service = kind.split("::")[1].lower()
        if kind == "AWS::CloudWatch::Alarm":
            return LocalResource(local, {"Arn": f"arn:aws:cloudwatch:{region}:{ACCOUNT_ID}:alarm:{local}"})
        arn = f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{local}"
        if kind == "AWS::SNS::Topic":
            return LocalResource(arn, {"TopicArn": arn, "TopicName": local})
        return LocalResource(local, {"Arn": arn})
