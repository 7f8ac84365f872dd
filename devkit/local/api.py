"""The local API's port: the REST API as API Gateway serves it, its docs page and OpenAPI document."""

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from devkit.aws.apigateway import gateway
from devkit.aws.apigateway.apis import RestApi
from devkit.aws.clock import Clock
from devkit.aws.cloudwatch.metrics import Datum, MetricId, MetricStore
from devkit.aws.responses import json_response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from devkit.aws.awslambda.service import LocalLambda

logger = logging.getLogger("devkit.local")

DOCS_PAGE = """<!doctype html>
<html><head><title>Store &amp; Reply API (local)</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>"""


class LocalApi:
    """A WSGI application: the template's REST API (``rest_api``), ``/docs`` and ``/openapi.json``."""

    def __init__(  # noqa: PLR0917 (what the API's port is made of)
        self,
        rest_api: RestApi | None,
        api_key: str,
        invoke: gateway.Invoke,
        verify_token: gateway.VerifyToken,
        functions: "LocalLambda",
        metrics: MetricStore,
        clock: Clock,
        url: str,
    ) -> None:
        self.rest_api, self.api_key, self.invoke, self.verify_token = rest_api, api_key, invoke, verify_token
        self.functions, self.metrics, self.clock, self.url = functions, metrics, clock, url

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Any:
        request = Request(environ)
        started = time.monotonic()
        response = self._respond(request)
        logger.info(
            "%s %s %d %.1f ms",
            request.method,
            request.full_path.rstrip("?"),
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.path == "/openapi.json" and request.method == "GET":
            return self._openapi()
        if request.path in {"/docs", "/docs/"} and request.method == "GET":
            return Response(DOCS_PAGE, content_type="text/html")
        if request.path.startswith("/docs/static/") and request.method == "GET":
            return self._static(request.path.removeprefix("/docs/static/"))
        if self.rest_api is None:
            return json_response(404, {"message": "template.yaml declares no REST API"})
        return gateway.handle(
            self.rest_api,
            request,
            self.api_key,
            self.invoke,
            observe=self._record_request,
            verify_token=self.verify_token,
        )

    def _record_request(self, status: int, latency_ms: float, integration_ms: float | None) -> None:
        """AWS/ApiGateway metrics of one request, by ApiName and Stage."""
        if self.rest_api is None:
            return
        dimensions = {"ApiName": self.rest_api.name, "Stage": self.rest_api.stage}
        values = {
            "Count": (1.0, "Count"),
            "4XXError": (float(400 <= status < 500), "Count"),
            "5XXError": (float(status >= 500), "Count"),
            "Latency": (latency_ms, "Milliseconds"),
        }
        if integration_ms is not None:
            values["IntegrationLatency"] = (integration_ms, "Milliseconds")
        now = self.clock.now()
        try:
            self.metrics.put(
                Datum(MetricId.of("AWS/ApiGateway", name, dimensions), now, value, unit)
                for name, (value, unit) in values.items()
            )
        except Exception:  # a metric must never fail a request
            logger.exception("API metrics were not recorded")

    def _openapi(self) -> Response:
        if self.rest_api is None:
            return json_response(404, {"message": "template.yaml declares no REST API"})
        reference = next(
            operation.integration
            for resource in self.rest_api.resources
            for operation in resource.operations.values()
            if isinstance(operation.integration, str)  # the function's, not a mock
        )
        name, qualifier = self.functions.parse(reference)
        function = self.functions.function(name)
        alias = function.aliases.get(qualifier) if qualifier else None
        runner = function.runners[alias.version if alias else qualifier or "$LATEST"]
        document = json.loads(runner.openapi({"version": "local", "url": self.url}))
        return json_response(200, document)

    def _static(self, name: str) -> Response:
        import swagger_ui_bundle  # noqa: PLC0415 (only the docs page needs it)

        folder = Path(swagger_ui_bundle.swagger_ui_path)
        path = (folder / name).resolve()
        if not path.is_file() or folder.resolve() not in path.parents:
            return json_response(404, {"message": "Not found"})
        kinds = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".html": "text/html"}
        return Response(path.read_bytes(), content_type=kinds.get(path.suffix, "application/octet-stream"))
