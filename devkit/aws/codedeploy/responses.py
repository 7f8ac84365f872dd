"""CodeDeploy's ``PutLifecycleEventHookExecutionStatus`` over HTTP (JSON 1.1), which moto lacks."""

import json

from werkzeug.wrappers import Request, Response

from devkit.aws.codedeploy.hooks import CodeDeployError, LifecycleHooks
from devkit.aws.responses import json_response

TARGET = "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus"


class CodeDeployResponses:
    """The hooks' reports, kept in ``LifecycleHooks``."""

    def __init__(self, hooks: LifecycleHooks) -> None:
        self.hooks = hooks

    def put_lifecycle_event_hook_execution_status(self, request: Request) -> Response:
        try:
            return json_response(200, self.hooks.put(json.loads(request.get_data() or b"{}")))
        except CodeDeployError as error:
            return json_response(400, {"__type": error.kind, "message": str(error)})
