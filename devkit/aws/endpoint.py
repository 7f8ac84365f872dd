"""The embedded AWS endpoint: moto, plus the operations a release needs that moto lacks.

One WSGI application on one port: Lambda's API for the template's functions (list, configuration,
invoke, versions, aliases, event source mappings) and CodeDeploy's
``PutLifecycleEventHookExecutionStatus`` are answered here; every other request goes to moto
unchanged.
"""

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request

from devkit.aws.awslambda.responses import FUNCTIONS_PATH, MAPPINGS_PATH, LambdaResponses, Mappings
from devkit.aws.awslambda.service import LocalLambda
from devkit.aws.codedeploy.hooks import LifecycleHooks
from devkit.aws.codedeploy.responses import TARGET as CODEDEPLOY_STATUS
from devkit.aws.codedeploy.responses import CodeDeployResponses

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class Endpoint:
    """Routes each request to the local Lambda, the hook status store, or moto."""

    def __init__(
        self,
        moto: "WSGIApplication",
        functions: LocalLambda,
        hooks: LifecycleHooks,
        mappings: Mappings = list,
    ) -> None:
        self._moto = moto
        self.functions = functions
        self.hooks = hooks
        self._lambda = LambdaResponses(functions, mappings)
        self._codedeploy = CodeDeployResponses(hooks)

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD")
        if environ.get("HTTP_X_AMZ_TARGET") == CODEDEPLOY_STATUS:
            answer = self._codedeploy.put_lifecycle_event_hook_execution_status(Request(environ))
            return answer(environ, start_response)
        if path.rstrip("/") == FUNCTIONS_PATH.rstrip("/") and method == "GET":
            return self._lambda.list_functions(Request(environ))(environ, start_response)
        if path.rstrip("/") == MAPPINGS_PATH and method == "GET":
            return self._lambda.list_mappings(Request(environ))(environ, start_response)
        if path.startswith(FUNCTIONS_PATH):
            name = self.functions.parse(unquote(path[len(FUNCTIONS_PATH) :].split("/")[0]))[0]
            if name in self.functions.functions:
                return self._lambda.handle(Request(environ))(environ, start_response)
        return self._moto(environ, start_response)


class EndpointServer:
    """The endpoint on a port, in a thread of its own."""

    def __init__(self, host: str, port: int, application: Callable[..., Any]) -> None:
        from moto.moto_server.werkzeug_app import MotoRequestHandler  # noqa: PLC0415

        self._server: BaseWSGIServer = make_server(
            host, port, application, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-endpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def moto_application() -> "WSGIApplication":
    """moto's server application, as ``moto_server`` builds it."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: PLC0415

    application: WSGIApplication = DomainDispatcherApplication(create_backend_app)
    return application
