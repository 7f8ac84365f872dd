"""The local stack: every piece of template.yaml running on loopback."""

import contextlib
import json
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from devkit.aws.apigateway import gateway
from devkit.aws.awslambda.queue_poller import QueueMapping, QueuePoller
from devkit.aws.awslambda.stream_poller import StreamMapping, StreamPoller
from devkit.aws.clock import Clock
from devkit.aws.cloudwatch.metrics import Datum, MetricId, MetricStore
from devkit.aws.cognito.tokens import CognitoTokens
from devkit.local.client import LocalClient
from devkit.local.resources import create_queues, create_tables, create_user_pools, queue_arn
from devkit.runtime.functions import FunctionRunner, FunctionSpec, wait_all
from devkit.runtime.language_model import model_path
from devkit.template import TEMPLATE, Template, code_digest, expand, load_template, resources_of_type
from devkit.template.intrinsics import ACCOUNT_ID, LocalResource, Resolver

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger("devkit.local")

# Variables of the developer's shell that a function may see; everything AWS comes from the stack.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
DOCS_PAGE = """<!doctype html>
<html><head><title>Store &amp; Reply API (local)</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>"""


class PortInUse(Exception):
    """A port the stack needs is taken."""


@dataclass(frozen=True)
class LocalOptions:
    """Where and how the local stack runs."""

    host: str = "127.0.0.1"
    api_port: int = 3000
    aws_port: int = 3001
    data_dir: Path = TEMPLATE.parent / ".local"
    template: Path = TEMPLATE
    region: str = "us-east-1"
    stack_name: str = "store-and-reply-local"
    parameters: Mapping[str, str] = field(default_factory=dict)
    clock: Clock = field(default_factory=Clock)
    # DEVKIT_FAULTS of a function's live version, by logical id (tests; the rehearsal's candidate).
    faults: Mapping[str, str] = field(default_factory=dict)
    alarm_interval: float = 10.0  # simulated seconds between alarm evaluations
    # A rehearsal: the live version is built from this tree (the released one), the template's
    # own tree is the candidate, published as a new version where it differs, and the traffic
    # hooks run as functions.
    base_root: Path | None = None
    # DEVKIT_FAULTS of the released version (version 1) in a rehearsal, by logical id.
    base_faults: Mapping[str, str] = field(default_factory=dict)
    quiet_functions: bool = False  # the functions' output is not echoed (a rehearsal's terminal)
    seed: int | None = None  # alias routing and injected faults draw from seeded generators

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"


def ensure_free(host: str, port: int) -> None:
    """Raise ``PortInUse`` if something listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise PortInUse(f"port {port} on {host} is in use") from None


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, for a stack started beside others (tests, benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def local_api_key(data_dir: Path) -> str:
    """The local API key: made once, kept with the local data."""
    path = data_dir / "api-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()


def _traffic_hooks(source: Template) -> set[str]:
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


def _with_faults(spec: FunctionSpec, faults: str | None) -> FunctionSpec:
    """The spec with DEVKIT_FAULTS set, when there are faults to inject."""
    return replace(spec, environment={**spec.environment, "DEVKIT_FAULTS": faults}) if faults else spec


def _changed(base: FunctionSpec, candidate: FunctionSpec) -> bool:
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


class LocalStack:
    """Starts and stops everything ``make start`` runs."""

    def __init__(self, options: LocalOptions) -> None:
        self.options = options
        self.api_key = ""
        # The template's user pools and app clients, once made in the embedded endpoint.
        self.user_pools: dict[str, dict[str, str]] = {}
        self._users: LocalClient | None = None
        self.pool_clients: dict[str, str] = {}
        self.source: Template = {}
        self.expanded: Template = {}
        self.api: gateway.RestApi | None = None
        self.table_names: dict[str, str] = {}
        self.queue_urls: dict[str, str] = {}
        self.runners: dict[str, FunctionRunner] = {}  # the live version's worker, by logical id
        self.environments: dict[str, dict[str, str]] = {}
        self.function_names: dict[str, str] = {}
        self.candidates: dict[str, str] = {}  # rehearsal: the candidate's version, by logical id
        self.hook_names: dict[str, str] = {}  # rehearsal: the traffic hooks' local names
        self.metrics = MetricStore()
        self.functions: Any = None  # the LocalLambda, imported in start()
        self.hooks: Any = None  # the LifecycleHooks store
        self.alarms: Any = None  # the AlarmRunner
        self._periodic: list[Any] = []
        self._mirror: Any = None  # moto's copy of the metrics
        self.queue_names: dict[str, str] = {}
        self._moto: Any = None  # the endpoint server, imported in start()
        self._server: BaseWSGIServer | None = None
        self._pollers: list[QueuePoller] = []
        self.streams: list[StreamPoller] = []
        self._state: Any = None  # a LocalState, imported in start()
        self._threads: list[threading.Thread] = []

    # -- start and stop -------------------------------------------------------------------------

    def start(self) -> None:
        """Start every piece; raise ``PortInUse`` before starting any if a port is taken.

        The functions' workers start once the AWS endpoint holds the template's resources (their
        environment names the user pool's app clients); their cold starts overlap the rest.
        """
        options = self.options
        for port in (options.api_port, options.aws_port):
            ensure_free(options.host, port)
        options.data_dir.mkdir(parents=True, exist_ok=True)
        self.api_key = local_api_key(options.data_dir)
        self.source = load_template(options.template)
        prefix = options.stack_name
        tables = resources_of_type(self.source, "AWS::DynamoDB::Table")
        self.table_names = {name: f"{prefix}-{name}" for name in tables}
        queue_names = {name: f"{prefix}-{name}" for name in resources_of_type(self.source, "AWS::SQS::Queue")}
        self.queue_names = queue_names
        self.queue_urls = {
            name: f"{options.aws_endpoint}/{ACCOUNT_ID}/{queue}" for name, queue in queue_names.items()
        }
        from devkit.aws.awslambda.service import LocalLambda  # noqa: PLC0415

        self.functions = LocalLambda(
            options.clock,
            self.metrics,
            options.region,
            ACCOUNT_ID,
            choice=random.Random(options.seed) if options.seed is not None else None,  # noqa: S311
            runner_factory=lambda spec: FunctionRunner(
                spec, on_restart=self._reloaded, quiet=self.options.quiet_functions
            ),
        )
        from devkit.aws.cloudwatch.observability import MotoMirror  # noqa: PLC0415
        from devkit.aws.codedeploy.hooks import LifecycleHooks  # noqa: PLC0415
        from devkit.aws.endpoint import Endpoint, EndpointServer, moto_application  # noqa: PLC0415
        from devkit.local.state import LocalState  # noqa: PLC0415

        self.expanded = expand(self.source, options.parameters, options.region, root=options.template.parent)
        self.hooks = LifecycleHooks()
        self._mirror = MotoMirror(ACCOUNT_ID, options.region)
        self.metrics = self.functions.store = MetricStore(on_put=self._mirror)
        self._moto = EndpointServer(
            options.host,
            options.aws_port,
            Endpoint(moto_application(), self.functions, self.hooks, self._describe_mappings),
        )
        self._moto.start()
        dynamodb, sqs = self._create_resources()
        # The functions' environment names the pool's app clients, whose ids exist from here on.
        self._publish_functions(self.resolver())
        workers = threading.Thread(target=wait_all, args=(list(self.runners.values()),), daemon=True)
        workers.start()

        self._state = LocalState(
            path=options.data_dir / "state.json",
            dynamodb=dynamodb,
            sqs=sqs,
            tables=self.table_names,
            queues=self.queue_urls,
            region=options.region,
        )
        items, messages = self._state.restore()
        if items or messages:
            logger.info("Restored %d items and %d queue messages from %s", items, messages, options.data_dir)
        self._state.start()
        if options.base_root is not None:
            for spec in self._function_specs(self.resolver(), hooks_only=True):
                self.functions.add(_with_faults(spec, options.faults.get(spec.logical_id)))
                self.hook_names[spec.logical_id] = spec.name
        self._observe(queue_names)
        workers.join()
        wait_all(list(self.runners.values()))  # raises a worker's start-up failure, if there was one

        apis = gateway.rest_apis(self.expanded, self._invocation_targets(), self.resolver())
        self.api = apis[0] if apis else None
        self._server = make_server(options.host, options.api_port, self._wsgi, threaded=True)
        self._threads.append(threading.Thread(target=self._server.serve_forever, name="api", daemon=True))
        self._pollers = [
            QueuePoller(mapping, sqs, self.invoke, options.clock) for mapping in self._queue_mappings(sqs)
        ]
        self.streams = [
            StreamPoller(
                mapping, dynamodb, self.client("dynamodbstreams"), sqs, self.invoke, clock=options.clock
            )
            for mapping in self._stream_mappings()
        ]
        for thread in [*self._threads, *self._pollers, *self.streams]:
            thread.start()
        for stream in self.streams:  # records written from now on reach their functions
            stream.wait_ready()

    def _publish_functions(self, resolver: Resolver) -> None:
        """Each function at $LATEST and as version 1 behind its live alias; in a rehearsal, version 1
        is the base tree's and the candidate is version 2 where it differs."""
        options = self.options
        base: dict[str, FunctionSpec] = {}
        if options.base_root is not None:
            base_source = load_template(options.base_root / options.template.name)
            base = {s.logical_id: s for s in self._function_specs(resolver, options.base_root, base_source)}
        guarded = {
            name
            for name, function in resources_of_type(self.source, "AWS::Serverless::Function").items()
            if "DeploymentPreference" in function.get("Properties", {})
        }
        for spec in self._function_specs(resolver):
            self.environments[spec.logical_id] = dict(spec.environment)
            self.function_names[spec.logical_id] = spec.name
            self.functions.add(spec)
            faults = options.faults.get(spec.logical_id)
            if options.base_root is None or spec.logical_id not in guarded:  # deployed at once
                live = self.functions.publish(spec.name, _with_faults(spec, faults))
            else:
                released = base.get(spec.logical_id, spec)
                live = self.functions.publish(
                    spec.name, _with_faults(released, options.base_faults.get(spec.logical_id))
                )
                if spec.logical_id not in base or _changed(base[spec.logical_id], spec):
                    self.candidates[spec.logical_id] = self.functions.publish(
                        spec.name, _with_faults(spec, faults)
                    )
            self.functions.set_alias(spec.name, "live", live)
            self.runners[spec.logical_id] = self.functions.functions[spec.name].runners[live]

    def stop(self) -> None:
        """Stop everything, saving the local data last."""
        for task in [*self._pollers, *self.streams, *self._periodic]:
            task.stop()
        if self._server is not None:
            self._server.shutdown()
        for poller in self._pollers:
            poller.join(timeout=5)
        if self.functions is not None:
            self.functions.stop()
        if self._state is not None:
            self._state.stop()
        if self._moto is not None:
            self._moto.stop()

    # -- pieces ---------------------------------------------------------------------------------

    @property
    def users(self) -> LocalClient:
        """The stack's API and endpoint as its users call them, signed in through its pool."""
        pool = next((pool["Ref"] for pool in self.user_pools.values()), None)
        if self._users is None or self._users.pool != pool:
            options = self.options
            self._users = LocalClient(
                options.api_url,
                options.aws_endpoint,
                stack_name=options.stack_name,
                region=options.region,
                pool=pool,
            )
        return self._users

    def client(self, service: str) -> Any:
        """A boto3 client for the embedded AWS endpoint."""
        return self.users.aws(service)

    def id_token(self, user: str) -> str:
        """An ID token of this stack's user pool for ``user``, signed up first if needed."""
        return self.users.id_token(user)

    def invoke(self, function: str, event: dict[str, Any], request_id: str | None) -> Any:
        """Invoke a function by logical id (its live alias) or ``name:qualifier``; raise on its error."""
        target = f"{self.function_names[function]}:live" if function in self.function_names else function
        try:
            outcome = self.functions.invoke(target, event, request_id).outcome
        finally:
            if self._state is not None:
                self._state.changed()
        return outcome.value()

    def _invocation_targets(self) -> dict[str, str]:
        """What an integration or mapping names (a function, version or alias), as ``name:qualifier``."""
        targets = {logical: f"{name}:live" for logical, name in self.function_names.items()}
        aliases = _aliases(self.expanded)
        for alias_or_version, function in _alias_targets(self.expanded).items():
            if function in self.function_names:
                qualifier = aliases.get(alias_or_version, "live")
                targets[alias_or_version] = f"{self.function_names[function]}:{qualifier}"
        return targets

    def _observe(self, queue_names: Mapping[str, str]) -> None:
        """Metrics of the queues, the template's SSM parameters and alarms, and their evaluation."""
        from devkit.aws.cloudwatch.observability import AlarmRunner, Periodic, QueueActivity  # noqa: PLC0415

        options, clock = self.options, self.options.clock
        resolver = self.resolver()
        activity = QueueActivity(ACCOUNT_ID, options.region, queue_names.values())
        ssm = self.client("ssm")
        for name, parameter in resources_of_type(self.source, "AWS::SSM::Parameter").items():
            properties = parameter["Properties"]
            value = self._local_value(properties["Value"], resolver)
            ssm.put_parameter(
                Name=resolver.resolve(properties["Name"]), Value=value, Type="String", Overwrite=True
            )
            logger.debug("SSM parameter %s = %s", name, value)
        self.alarms = AlarmRunner(self.client("cloudwatch"), self.metrics, clock, self._mirror)
        if options.base_root is None:
            self._put_alarms(self.expanded, resolver)
        else:  # the released stack's alarms, for version 1, until the rehearsal updates the stack
            released = expand(
                load_template(options.base_root / options.template.name),
                options.parameters,
                options.region,
                root=options.base_root,
            )
            self._put_alarms(released, self.resolver(released, released=True))
        self._periodic = [
            Periodic("alarms", clock, options.alarm_interval, self.alarms.tick),
            Periodic("queue-metrics", clock, 60, lambda: self.metrics.put(activity.sample(clock))),
            Periodic("metric-retention", clock, 600, self.alarms.prune),
        ]
        for task in self._periodic:
            task.start()

    def _put_alarms(self, expanded: Mapping[str, Any], resolver: Resolver) -> list[str]:
        """PutMetricAlarm for each of ``expanded``'s alarms, as CloudFormation creates or updates them."""
        names = []
        for name, alarm in resources_of_type(dict(expanded), "AWS::CloudWatch::Alarm").items():
            names.append(resolver.ref(name))
            self.alarms.put(names[-1], resolver.resolve(alarm["Properties"]))
        return names

    def update_alarms(self) -> list[str]:
        """The rehearsal's stack update, for the alarms: the candidate template's, each created, or
        updated in place (keeping its state) where its name is unchanged; returns the names of the
        released alarms it replaced, which CloudFormation deletes once the update completes."""
        before = set(self.alarms.alarms)
        now = set(self._put_alarms(self.expanded, self.resolver()))
        return sorted(before - now)

    def _local_value(self, value: Any, resolver: Resolver) -> str:
        """A parameter's value locally: a reference to the REST API is the local API's URL."""
        text = value.get("Fn::Sub", "") if isinstance(value, dict) else ""
        apis = resources_of_type(self.source, "AWS::Serverless::Api")
        if isinstance(text, str) and any("${" + name + "}" in text for name in apis):
            return self.options.api_url
        return str(resolver.resolve(value))

    def _create_resources(self) -> "tuple[DynamoDBClient, SQSClient]":
        """The template's tables, queues and user pools in the embedded endpoint; their clients."""
        dynamodb, sqs = self.client("dynamodb"), self.client("sqs")
        create_tables(dynamodb, self.source, self.table_names)
        created = create_queues(sqs, self.source, self.queue_names)
        if created != self.queue_urls:
            raise RuntimeError(f"queue URLs differ from those the functions were given: {created}")
        cognito = self.client("cognito-idp")
        self.user_pools, self.pool_clients = create_user_pools(cognito, self.source, self.resolver().resolve)
        self.tokens = CognitoTokens(cognito, self.options.aws_endpoint, self.options.region)
        return dynamodb, sqs

    def resolver(self, expanded: Mapping[str, Any] | None = None, *, released: bool = False) -> Resolver:
        """Resolves the template's intrinsics to this stack's local names, URLs and ARNs.

        ``expanded`` is the template whose other resources it names (the stack's own by default);
        ``released``: every function's version is the released one (1), not the rehearsal's candidate.
        """
        options, region, queue_names = self.options, self.options.region, self.queue_names
        expanded = self.expanded if expanded is None else expanded
        versions = {} if released else self.candidates
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

    def _function_specs(
        self,
        resolver: Resolver,
        root: Path | None = None,
        source: Template | None = None,
        *,
        hooks_only: bool = False,
    ) -> Iterator[FunctionSpec]:
        """Each function as SAM deploys it: Globals merged into its own properties, references resolved.

        From the template's own folder, or from ``root`` with ``source`` (another tree of the
        project, such as the version a rehearsal starts from); the traffic hooks only with
        ``hooks_only``. Lambda mounts layers at /opt: a variable naming /opt names the function's
        own layer's folder.
        """
        options = self.options
        root = root or options.template.parent
        source = source or self.source
        globals_ = source.get("Globals", {}).get("Function", {})
        layers = resources_of_type(source, "AWS::Serverless::LayerVersion")
        passed = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        hooks = _traffic_hooks(source)
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

    def _queue_mappings(self, sqs: Any) -> list[QueueMapping]:
        targets = self._invocation_targets()
        mappings = []
        for mapping in resources_of_type(self.expanded, "AWS::Lambda::EventSourceMapping").values():
            properties = mapping["Properties"]
            source = properties["EventSourceArn"]
            if not (isinstance(source, dict) and source.get("Fn::GetAtt", [None])[0] in self.queue_urls):
                continue
            url = self.queue_urls[source["Fn::GetAtt"][0]]
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

    def _stream_mappings(self) -> list[StreamMapping]:
        """The template's mappings from a table's stream to a function."""
        targets = self._invocation_targets()
        mappings = []
        for mapping in resources_of_type(self.expanded, "AWS::Lambda::EventSourceMapping").values():
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
                    self.table_names[source["Fn::GetAtt"][0]],
                    properties,
                    self.queue_urls.get(queue or ""),
                )
            )
        return mappings

    def _describe_mappings(self) -> list[dict[str, Any]]:
        """The event source mappings, as Lambda's ListEventSourceMappings describes them."""

        def arn(reference: str) -> str:
            return str(self.functions.arn(*self.functions.parse(reference)))

        region, queues = self.options.region, {url: name for name, url in self.queue_urls.items()}
        described = [poller.mapping.describe(arn(poller.mapping.function)) for poller in self._pollers]
        for stream in self.streams:
            mapping = stream.mapping
            table = f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{mapping.table}"
            queue = queues.get(mapping.on_failure_queue_url or "")
            on_failure = f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{self.queue_names[queue]}" if queue else None
            described.append(mapping.describe(arn(mapping.function), f"{table}/stream/local", on_failure))
        return described

    def _reloaded(self, spec: FunctionSpec) -> None:
        logger.info("Code changed: %s restarts on this invocation", spec.logical_id)

    # -- HTTP -----------------------------------------------------------------------------------

    def _wsgi(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Any:
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
        if self.api is None:
            return gateway.json_response(404, {"message": "template.yaml declares no REST API"})
        return gateway.handle(
            self.api,
            request,
            self.api_key,
            self.invoke,
            observe=self._record_request,
            verify_token=self.tokens.claims,
        )

    def _record_request(self, status: int, latency_ms: float, integration_ms: float | None) -> None:
        """AWS/ApiGateway metrics of one request, by ApiName and Stage."""
        if self.api is None:
            return
        dimensions = {"ApiName": self.api.name, "Stage": self.api.stage}
        values = {
            "Count": (1.0, "Count"),
            "4XXError": (float(400 <= status < 500), "Count"),
            "5XXError": (float(status >= 500), "Count"),
            "Latency": (latency_ms, "Milliseconds"),
        }
        if integration_ms is not None:
            values["IntegrationLatency"] = (integration_ms, "Milliseconds")
        now = self.options.clock.now()
        try:
            self.metrics.put(
                Datum(MetricId.of("AWS/ApiGateway", name, dimensions), now, value, unit)
                for name, (value, unit) in values.items()
            )
        except Exception:  # a metric must never fail a request
            logger.exception("API metrics were not recorded")

    def _openapi(self) -> Response:
        if self.api is None:
            return gateway.json_response(404, {"message": "template.yaml declares no REST API"})
        reference = next(
            operation.integration
            for resource in self.api.resources
            for operation in resource.operations.values()
            if isinstance(operation.integration, str)  # the function's, not a mock
        )
        name, qualifier = self.functions.parse(reference)
        function = self.functions.function(name)
        alias = function.aliases.get(qualifier)
        runner = function.runners[alias.version if alias else qualifier or "$LATEST"]
        document = json.loads(runner.openapi({"version": "local", "url": self.options.api_url}))
        return gateway.json_response(200, document)

    def _static(self, name: str) -> Response:
        import swagger_ui_bundle  # noqa: PLC0415 (only the docs page needs it)

        folder = Path(swagger_ui_bundle.swagger_ui_path)
        path = (folder / name).resolve()
        if not path.is_file() or folder.resolve() not in path.parents:
            return gateway.json_response(404, {"message": "Not found"})
        kinds = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".html": "text/html"}
        return Response(path.read_bytes(), content_type=kinds.get(path.suffix, "application/octet-stream"))


@contextlib.contextmanager
def running(options: LocalOptions) -> Iterator[LocalStack]:
    """The local stack, started, and stopped on the way out."""
    stack = LocalStack(options)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
