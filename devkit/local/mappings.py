"""The template's event source mappings, locally: a queue's or a table stream's, to a function."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from devkit.aws.awslambda.queue_poller import QueueMapping
from devkit.aws.awslambda.stream_poller import StreamMapping
from devkit.local.resources import queue_arn
from devkit.template import Template, resources_of_type
from devkit.template.intrinsics import ACCOUNT_ID


def queue_mappings(
    expanded: Template, queue_urls: Mapping[str, str], targets: Mapping[str, str], sqs: Any
) -> list[QueueMapping]:
    """The template's mappings from a queue to a function (its alias, as ``targets`` names it)."""
    mappings = []
    for mapping in resources_of_type(expanded, "AWS::Lambda::EventSourceMapping").values():
        properties = mapping["Properties"]
        source = properties["EventSourceArn"]
        if not (isinstance(source, dict) and source.get("Fn::GetAtt", [None])[0] in queue_urls):
            continue
        url = queue_urls[source["Fn::GetAtt"][0]]
        function = properties["FunctionName"]["Ref"]
        mappings.append(
            QueueMapping(
                function=targets.get(function, function),
                queue_url=url,
                queue_arn=queue_arn(sqs, url),
                batch_size=int(properties.get("BatchSize", 10)),
                batching_window=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
                reports_item_failures="ReportBatchItemFailures"
                in properties.get("FunctionResponseTypes", []),
            )
        )
    return mappings


def stream_mappings(
    expanded: Template,
    table_names: Mapping[str, str],
    queue_urls: Mapping[str, str],
    targets: Mapping[str, str],
) -> list[StreamMapping]:
    """The template's mappings from a table's stream to a function."""
    mappings = []
    for mapping in resources_of_type(expanded, "AWS::Lambda::EventSourceMapping").values():
        properties = mapping["Properties"]
        source = properties["EventSourceArn"]
        if not (isinstance(source, dict) and source.get("Fn::GetAtt", [None, None])[1] == "StreamArn"):
            continue
        destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        queue = destination.get("Fn::GetAtt", [None])[0] if isinstance(destination, dict) else None
        named = properties["FunctionName"]  # !Ref of a function or alias, or !GetAtt Function.Arn
        function = named["Ref"] if "Ref" in named else named["Fn::GetAtt"][0]
        mappings.append(
            StreamMapping.from_properties(
                targets.get(function, function),
                table_names[source["Fn::GetAtt"][0]],
                properties,
                queue_urls.get(queue or ""),
            )
        )
    return mappings


def describe_mappings(  # noqa: PLR0917 (the stack's pieces a description names)
    queues: Sequence[QueueMapping],
    streams: Sequence[StreamMapping],
    function_arn: Callable[[str], str],
    queue_urls: Mapping[str, str],
    queue_names: Mapping[str, str],
    region: str,
) -> list[dict[str, Any]]:
    """The event source mappings, as Lambda's ListEventSourceMappings describes them."""
    logical = {url: name for name, url in queue_urls.items()}
    described = [mapping.describe(function_arn(mapping.function)) for mapping in queues]
    for mapping in streams:
        table = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{mapping.table}"
        queue = logical.get(mapping.on_failure_queue_url or "")
        on_failure = f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{queue_names[queue]}" if queue else None
        described.append(
            mapping.describe(function_arn(mapping.function), f"{table}/stream/local", on_failure)
        )
    return described
