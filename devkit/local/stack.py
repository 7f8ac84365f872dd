"""The local stack: every piece of template.yaml running on loopback."""

import contextlib
import logging
import random
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, make_server

from devkit.aws.apigateway.apis import RestApi, rest_apis
from devkit.aws.awslambda.queue_poller import QueuePoller
from devkit.aws.awslambda.stream_poller import StreamPoller
from devkit.aws.cloudwatch.metrics import MetricStore
from devkit.aws.cognito.tokens import CognitoTokens
from devkit.local.api import LocalApi
from devkit.local.client import LocalClient
from devkit.local.functions import changed, function_specs, invocation_targets, spec_with_faults
from devkit.local.mappings import describe_mappings, queue_mappings, stream_mappings
from devkit.local.names import LocalNames
from devkit.local.options import LocalOptions, ensure_free, local_api_key
from devkit.local.resources import create_queues, create_tables, create_user_pools, put_parameters
from devkit.runtime.functions import FunctionRunner, FunctionSpec, wait_all
from devkit.template import Template, expand, load_template, resources_of_type
from devkit.template.intrinsics import ACCOUNT_ID, Resolver

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger("devkit.local")


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
        self.api: RestApi | None = None
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
                self.functions.add(spec_with_faults(spec, options.faults.get(spec.logical_id)))
                self.hook_names[spec.logical_id] = spec.name
        self._observe(queue_names)
        workers.join()
        wait_all(list(self.runners.values()))  # raises a worker's start-up failure, if there was one

        apis = rest_apis(self.expanded, self._targets(), self.resolver())
        self.api = apis[0] if apis else None
        front = LocalApi(
            self.api,
            self.api_key,
            self.invoke,
            self.tokens.claims,
            self.functions,
            self.metrics,
            options.clock,
            options.api_url,
        )
        self._server = make_server(options.host, options.api_port, front, threaded=True)
        self._threads.append(threading.Thread(target=self._server.serve_forever, name="api", daemon=True))
        self._pollers = [
            QueuePoller(mapping, sqs, self.invoke, options.clock)
            for mapping in queue_mappings(self.expanded, self.queue_urls, self._targets(), sqs)
        ]
        self.streams = [
            StreamPoller(
                mapping, dynamodb, self.client("dynamodbstreams"), sqs, self.invoke, clock=options.clock
            )
            for mapping in stream_mappings(self.expanded, self.table_names, self.queue_urls, self._targets())
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
                live = self.functions.publish(spec.name, spec_with_faults(spec, faults))
            else:
                released = base.get(spec.logical_id, spec)
                live = self.functions.publish(
                    spec.name, spec_with_faults(released, options.base_faults.get(spec.logical_id))
                )
                if spec.logical_id not in base or changed(base[spec.logical_id], spec):
                    self.candidates[spec.logical_id] = self.functions.publish(
                        spec.name, spec_with_faults(spec, faults)
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
        if self._users is None:
            self._users = LocalClient.of(self.options)
        return self._users

    def client(self, service: str) -> Any:
        """A boto3 client for the embedded AWS endpoint."""
        return self.users.aws(service)

    def invoke(self, function: str, event: dict[str, Any], request_id: str | None) -> Any:
        """Invoke a function by logical id (its live alias) or ``name:qualifier``; raise on its error."""
        target = f"{self.function_names[function]}:live" if function in self.function_names else function
        try:
            outcome = self.functions.invoke(target, event, request_id).outcome
        finally:
            if self._state is not None:
                self._state.changed()
        return outcome.value()

    def _observe(self, queue_names: Mapping[str, str]) -> None:
        """Metrics of the queues, the template's SSM parameters and alarms, and their evaluation."""
        from devkit.aws.cloudwatch.observability import AlarmRunner, Periodic, QueueActivity  # noqa: PLC0415

        options, clock = self.options, self.options.clock
        resolver = self.resolver()
        activity = QueueActivity(ACCOUNT_ID, options.region, queue_names.values())
        put_parameters(self.client("ssm"), self.source, resolver, options.api_url)
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

    def _create_resources(self) -> "tuple[DynamoDBClient, SQSClient]":
        """The template's tables, queues and user pools in the embedded endpoint; their clients."""
        dynamodb, sqs = self.client("dynamodb"), self.client("sqs")
        create_tables(dynamodb, self.source, self.table_names)
        created = create_queues(sqs, self.source, self.queue_names)
        if created != self.queue_urls:
            raise RuntimeError(f"queue URLs differ from those the functions were given: {created}")
        cognito = self.client("cognito-idp")
        self.user_pools, self.pool_clients = create_user_pools(cognito, self.source, self.resolver().resolve)
        if self.user_pools:  # the users sign in through the template's one pool
            (pool,) = [p["Ref"] for p in self.user_pools.values()]
            self.users.pool = pool
        self.tokens = CognitoTokens(cognito, self.options.aws_endpoint, self.options.region)
        return dynamodb, sqs

    def resolver(self, expanded: Mapping[str, Any] | None = None, *, released: bool = False) -> Resolver:
        """Resolves the template's intrinsics to this stack's local names, URLs and ARNs.

        ``expanded`` is the template whose other resources it names (the stack's own by default);
        ``released``: every function's version is the released one (1), not the rehearsal's candidate.
        """
        names = LocalNames(
            self.options,
            self.source,
            self.table_names,
            self.queue_urls,
            self.queue_names,
            self.user_pools,
            self.pool_clients,
        )
        return names.resolver(
            self.expanded if expanded is None else expanded, {} if released else self.candidates
        )

    def _function_specs(
        self,
        resolver: Resolver,
        root: Path | None = None,
        source: Template | None = None,
        *,
        hooks_only: bool = False,
    ) -> Iterator[FunctionSpec]:
        """The template's functions (or another tree's: ``root`` with its ``source``), as SAM deploys them."""
        root, source = root or self.options.template.parent, source or self.source
        return function_specs(self.options, resolver, root, source, hooks_only=hooks_only)

    def _targets(self) -> dict[str, str]:
        return invocation_targets(self.expanded, self.function_names)

    def _describe_mappings(self) -> list[dict[str, Any]]:
        def arn(reference: str) -> str:
            return str(self.functions.arn(*self.functions.parse(reference)))

        return describe_mappings(
            [poller.mapping for poller in self._pollers],
            [stream.mapping for stream in self.streams],
            arn,
            self.queue_urls,
            self.queue_names,
            self.options.region,
        )

    def _reloaded(self, spec: FunctionSpec) -> None:
        logger.info("Code changed: %s restarts on this invocation", spec.logical_id)


@contextlib.contextmanager
def running(options: LocalOptions) -> Iterator[LocalStack]:
    """The local stack, started, and stopped on the way out."""
    stack = LocalStack(options)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
