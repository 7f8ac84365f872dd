"""Lambda functions of the template, with versions and aliases, run by local workers.

Each published version is a worker of its own; an alias points at a version and may send a share
of invocations to one other (``RoutingConfig.AdditionalVersionWeights``), chosen per invocation
as Lambda does. Every invocation records what Lambda publishes to CloudWatch: ``Invocations``,
``Errors``, ``Duration`` and ``ConcurrentExecutions`` under ``FunctionName``, and, when invoked with
a qualifier, under ``FunctionName, Resource`` (``name:qualifier``), plus ``ExecutedVersion`` for an
alias; and the metrics of the function's own EMF lines. A metric that cannot be recorded is
logged, never fails the invocation. Workers run one invocation at a time, so nothing is
throttled locally (``Throttles`` has no datapoints).
"""

import dataclasses
import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devkit.aws.clock import Clock
from devkit.aws.cloudwatch.emf import read_lines
from devkit.aws.cloudwatch.metrics import Datum, MetricId, MetricStore
from devkit.runtime.functions import FunctionRunner, FunctionSpec, Outcome

logger = logging.getLogger("devkit.local")
LATEST = "$LATEST"


class FunctionNotFound(LookupError):
    """No such function, version or alias."""


class InvalidParameter(ValueError):
    """A request Lambda would refuse (InvalidParameterValueException)."""


@dataclass
class Alias:
    """An alias: its version, and at most one other version with a share of the invocations."""

    version: str
    weights: dict[str, float] = field(default_factory=dict)


@dataclass
class LocalFunction:
    """One function of the template: its versions (a worker each) and its aliases."""

    name: str
    logical_id: str
    specs: dict[str, FunctionSpec]
    runners: dict[str, FunctionRunner]
    aliases: dict[str, Alias] = field(default_factory=dict)
    in_flight: int = 0

    @property
    def versions(self) -> list[str]:
        """Published versions, oldest first ($LATEST excluded)."""
        return sorted((v for v in self.specs if v != LATEST), key=int)


@dataclass(frozen=True)
class Invocation:
    """An invocation's outcome and which version ran it."""

    outcome: Outcome
    executed_version: str


class LocalLambda:
    """The template's functions, their versions and aliases, and the metrics of every invocation."""

    def __init__(
        self,
        clock: Clock,
        store: MetricStore,
        region: str,
        account: str,
        *,
        runner_factory: Callable[[FunctionSpec], FunctionRunner] = FunctionRunner,
        choice: random.Random | None = None,
    ) -> None:
        self.clock = clock
        self.store = store
        self.region = region
        self.account = account
        self.functions: dict[str, LocalFunction] = {}
        self._runner_factory = runner_factory
        self._random = choice or random.Random()  # noqa: S311 (traffic routing, not secrecy)
        self._lock = threading.Lock()

    def arn(self, name: str, qualifier: str | None = None) -> str:
        base = f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"
        return f"{base}:{qualifier}" if qualifier else base

    # -- functions, versions, aliases ----------------------------------------------------------

    def add(self, spec: FunctionSpec) -> LocalFunction:
        """Add a function at $LATEST."""
        function = LocalFunction(
            spec.name, spec.logical_id, {LATEST: spec}, {LATEST: self._runner_factory(spec)}
        )
        self.functions[spec.name] = function
        return function

    def publish(self, name: str, spec: FunctionSpec | None = None) -> str:
        """Publish a version: of ``spec`` (other code or configuration) or of $LATEST; return its number."""
        function = self.function(name)
        with self._lock:
            version = str(int(function.versions[-1]) + 1 if function.versions else 1)
            base = spec or function.specs[LATEST]
            published = dataclasses.replace(
                base, environment={**base.environment, "AWS_LAMBDA_FUNCTION_VERSION": version}
            )
            function.specs[version] = published
            function.runners[version] = self._runner_factory(published)
        return version

    def set_alias(
        self, name: str, alias: str, version: str, weights: Mapping[str, float] | None = None
    ) -> Alias:
        """Create or update an alias, as CreateAlias/UpdateAlias do, with Lambda's rules for routing."""
        function = self.function(name)
        weights = dict(weights or {})
        for candidate in [version, *weights]:
            if candidate not in function.versions:
                raise InvalidParameter(f"version {candidate} of {name} is not published")
        if len(weights) > 1:
            raise InvalidParameter("an alias routes to at most one additional version")
        if any(not 0.0 <= weight < 1.0 for weight in weights.values()):
            raise InvalidParameter("an additional version's weight is at least 0 and below 1")
        if version in weights:
            raise InvalidParameter("the additional version must differ from the alias's version")
        function.aliases[alias] = Alias(version, weights)
        return function.aliases[alias]

    def function(self, reference: str) -> LocalFunction:
        """A function by name, ``name:qualifier`` or ARN."""
        name, _ = self.parse(reference)
        if name not in self.functions:
            raise FunctionNotFound(f"Function not found: {self.arn(name)}")
        return self.functions[name]

    @staticmethod
    def parse(reference: str, qualifier: str | None = None) -> tuple[str, str | None]:
        """(name, qualifier) of a name, ``name:qualifier`` or a (qualified) ARN."""
        parts = reference.split(":")
        if reference.startswith("arn:"):
            parts = parts[6:]
        name = parts[0]
        return name, qualifier or (parts[1] if len(parts) > 1 else None)

    def start(self, name: str) -> None:
        """Start the workers of every version of a function."""
        for runner in self.function(name).runners.values():
            runner.start()

    def stop(self) -> None:
        """Stop every worker."""
        for function in self.functions.values():
            for runner in function.runners.values():
                runner.stop()

    # -- invoking -------------------------------------------------------------------------------

    def executed_version(self, function: LocalFunction, qualifier: str | None) -> str:
        """Which version serves an invocation with ``qualifier``; an alias chooses per invocation."""
        if qualifier is None or qualifier == LATEST:
            return LATEST
        if qualifier in function.aliases:
            alias = function.aliases[qualifier]
            draw = self._random.random()
            for version, weight in alias.weights.items():
                if draw < weight:
                    return version
                draw -= weight
            return alias.version
        if qualifier in function.specs:
            return qualifier
        raise FunctionNotFound(f"Function not found: {self.arn(function.name, qualifier)}")

    def invoke(
        self,
        reference: str,
        event: Mapping[str, Any],
        request_id: str | None = None,
        qualifier: str | None = None,
        client_context: Mapping[str, Any] | None = None,
    ) -> Invocation:
        """Invoke a function (by name, ``name:qualifier`` or ARN) and record its metrics."""
        name, qualifier = self.parse(reference, qualifier)
        function = self.function(name)
        version = self.executed_version(function, qualifier)
        with self._lock:
            function.in_flight += 1
            concurrency = function.in_flight
        try:
            outcome = function.runners[version].run(event, request_id, qualifier, client_context)
        finally:
            with self._lock:
                function.in_flight -= 1
        try:
            self._record(function, qualifier, version, outcome, concurrency)
        except Exception:  # a metric must never fail an invocation
            logger.exception("Metrics of %s were not recorded", name)
        return Invocation(outcome, version)

    def _record(
        self, function: LocalFunction, qualifier: str | None, version: str, outcome: Outcome, concurrency: int
    ) -> None:
        now = self.clock.now()
        dimension_sets: list[dict[str, str]] = [{"FunctionName": function.name}]
        if qualifier:
            dimension_sets.append({"FunctionName": function.name, "Resource": f"{function.name}:{qualifier}"})
            if qualifier in function.aliases:
                dimension_sets.append({**dimension_sets[-1], "ExecutedVersion": version})
        values = {
            "Invocations": (1.0, "Count"),
            "Errors": (float(outcome.error is not None), "Count"),
            "Duration": (outcome.milliseconds, "Milliseconds"),
        }
        data = [
            Datum(MetricId.of("AWS/Lambda", metric, dimensions), now, value, unit)
            for dimensions in dimension_sets
            for metric, (value, unit) in values.items()
        ]
        data.append(
            Datum(
                MetricId.of("AWS/Lambda", "ConcurrentExecutions", dimension_sets[0]),
                now,
                float(concurrency),
                "Count",
            )
        )
        data += read_lines(outcome.logs, now, lambda epoch: now - self.clock.since_real(epoch))
        self.store.put(data)
