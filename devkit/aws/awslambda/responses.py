"""Lambda's HTTP API for the local functions, as boto3 and the AWS CLI call it.

ListFunctions, GetFunction(Configuration), Invoke, PublishVersion, aliases (Create, Update, Get,
List), ListVersionsByFunction and ListEventSourceMappings, answered from ``LocalLambda``; errors
as Lambda's (``x-amzn-ErrorType``).
"""

import base64
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from werkzeug.wrappers import Request, Response

from devkit.aws.awslambda.service import (
    LATEST,
    FunctionNotFound,
    InvalidParameter,
    LocalFunction,
    LocalLambda,
)
from devkit.aws.responses import json_response

FUNCTIONS_PATH = "/2015-03-31/functions/"
MAPPINGS_PATH = "/2015-03-31/event-source-mappings"
# The template's event source mappings, as ListEventSourceMappings describes each.
Mappings = Callable[[], list[dict[str, Any]]]


def _error(status: int, kind: str, message: str) -> Response:
    return json_response(status, {"Type": "User", "Message": message}, {"x-amzn-ErrorType": kind})


class LambdaResponses:
    """Lambda's operations on the local functions."""

    def __init__(self, functions: LocalLambda, mappings: Mappings = list) -> None:
        self.functions = functions
        self.mappings = mappings

    def list_functions(self, request: Request) -> Response:
        """ListFunctions: each function's $LATEST, or every version with ``FunctionVersion=ALL``."""
        every_version = request.args.get("FunctionVersion") == "ALL"
        configurations = [
            self._configuration(function.name, version)
            for function in self.functions.functions.values()
            for version in ([LATEST, *function.versions] if every_version else [LATEST])
        ]
        return json_response(200, {"Functions": configurations})

    def list_mappings(self, request: Request) -> Response:
        """ListEventSourceMappings, filtered by ``FunctionName`` (a name, qualified or not, or an ARN)
        and ``EventSourceArn`` as Lambda filters them."""
        function, source = request.args.get("FunctionName"), request.args.get("EventSourceArn")
        mappings = self.mappings()
        if function is not None:
            name, qualifier = self.functions.parse(function)
            wanted = self.functions.arn(name, qualifier)
            mappings = [
                m
                for m in mappings
                if m["FunctionArn"] == wanted
                or (qualifier is None and m["FunctionArn"].startswith(wanted + ":"))
            ]
        if source is not None:
            mappings = [m for m in mappings if m["EventSourceArn"] == source]
        return json_response(200, {"EventSourceMappings": mappings})

    def handle(self, request: Request) -> Response:
        parts = unquote(request.path[len(FUNCTIONS_PATH) :]).split("/")
        query = {key: values[-1] for key, values in parse_qs(request.query_string.decode()).items()}
        try:
            return self._lambda_operation(request, parts, query)
        except FunctionNotFound as error:
            return _error(404, "ResourceNotFoundException", str(error))
        except InvalidParameter as error:
            return _error(400, "InvalidParameterValueException", str(error))

    def _lambda_operation(self, request: Request, parts: list[str], query: dict[str, str]) -> Response:
        reference, rest = parts[0], parts[1:]
        method = request.method
        if rest == ["invocations"] and method == "POST":
            return self._invoke(request, reference, query.get("Qualifier"))
        function = self.functions.function(reference)
        if method == "GET" and (answer := self._lambda_read(function, reference, rest, query)) is not None:
            return answer
        if rest == ["versions"] and method == "POST":
            return json_response(
                201, self._configuration(function.name, self.functions.publish(function.name))
            )
        if len(rest) == 2 and rest[0] == "aliases":
            if method in {"PUT", "POST"}:
                body = json.loads(request.get_data() or b"{}")
                current = function.aliases.get(rest[1])
                version = body.get("FunctionVersion") or (current.version if current else LATEST)
                weights = body.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})
                self.functions.set_alias(function.name, rest[1], version, weights)
            if rest[1] not in function.aliases:
                raise FunctionNotFound(f"Alias not found: {self.functions.arn(function.name, rest[1])}")
            return json_response(200, self._alias(function.name, rest[1]))
        return _error(
            400, "InvalidParameterValueException", f"{method} {request.path} is not supported locally"
        )

    def _lambda_read(
        self, function: LocalFunction, reference: str, rest: list[str], query: dict[str, str]
    ) -> Response | None:
        """GetFunction, GetFunctionConfiguration, ListAliases, ListVersionsByFunction; None for others."""
        _, qualifier = self.functions.parse(reference, query.get("Qualifier"))
        if not rest:
            configuration = self._configuration(function.name, qualifier or LATEST)
            return json_response(200, {"Configuration": configuration, "Code": {}})
        if rest == ["configuration"]:
            return json_response(200, self._configuration(function.name, qualifier or LATEST))
        if rest == ["aliases"]:
            return json_response(
                200, {"Aliases": [self._alias(function.name, alias) for alias in sorted(function.aliases)]}
            )
        if rest == ["versions"]:
            versions = [LATEST, *function.versions]
            return json_response(200, {"Versions": [self._configuration(function.name, v) for v in versions]})
        return None

    def _invoke(self, request: Request, reference: str, qualifier: str | None) -> Response:
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        context_header = request.headers.get("X-Amz-Client-Context")
        client_context = json.loads(base64.b64decode(context_header)) if context_header else None
        event = json.loads(request.get_data() or b"{}")
        self.functions.function(reference)  # 404 before anything runs
        if invocation_type == "DryRun":
            return Response(status=204)
        if invocation_type == "Event":
            thread = threading.Thread(
                target=self.functions.invoke,
                args=(reference, event),
                kwargs={"qualifier": qualifier, "client_context": client_context},
                daemon=True,
            )
            thread.start()
            return Response(status=202)
        invocation = self.functions.invoke(
            reference, event, qualifier=qualifier, client_context=client_context
        )
        headers = {"X-Amz-Executed-Version": invocation.executed_version}
        outcome = invocation.outcome
        if outcome.error is not None:
            headers["X-Amz-Function-Error"] = "Unhandled"
            return json_response(200, outcome.error_payload(), headers)
        return json_response(200, outcome.result, headers)

    def _configuration(self, name: str, version: str) -> dict[str, Any]:
        function = self.functions.functions[name]
        if version in function.aliases:
            version = function.aliases[version].version
        if version not in function.specs:
            raise FunctionNotFound(f"Function not found: {self.functions.arn(name, version)}")
        spec = function.specs[version]
        return {
            "FunctionName": name,
            "FunctionArn": self.functions.arn(name, version),
            "Version": version,
            "Runtime": "python3.13",
            "Handler": spec.handler,
            "Timeout": spec.timeout,
            "MemorySize": spec.memory,
            "Environment": {"Variables": dict(spec.environment)},
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
        }

    def _alias(self, name: str, alias: str) -> dict[str, Any]:
        target = self.functions.functions[name].aliases[alias]
        return {
            "AliasArn": self.functions.arn(name, alias),
            "Name": alias,
            "FunctionVersion": target.version,
            "RoutingConfig": {"AdditionalVersionWeights": dict(target.weights)},
        }
