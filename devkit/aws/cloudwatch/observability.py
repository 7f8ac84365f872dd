"""What makes the embedded endpoint's CloudWatch come alive: metrics in, alarms evaluated.

- ``MotoMirror`` copies every datapoint into moto's CloudWatch, so ``get-metric-statistics`` and
  ``list-metrics`` against the endpoint see what the alarms see.
- ``QueueActivity`` counts what SQS counts per queue (messages sent, received, deleted) and
  samples depth and the oldest message's age once a period, as ``AWS/SQS`` metrics.
- ``AlarmRunner`` creates the template's alarms in moto and moves their state as CloudWatch would,
  evaluating every ``interval`` seconds of simulated time; each change is one log line.
"""

import functools
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from devkit.aws.clock import Clock
from devkit.aws.cloudwatch.alarms import AlarmSpec, Evaluation, State, evaluate
from devkit.aws.cloudwatch.metrics import RETENTION_SECONDS, Datum, MetricId, MetricStore

logger = logging.getLogger("devkit.local")


def _moto_time(epoch: float) -> datetime:
    """UTC without a zone, as moto keeps the datapoints it is sent and compares requests' times."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


class MotoMirror:
    """Writes datapoints into moto's CloudWatch backend, in-process."""

    def __init__(self, account: str, region: str) -> None:
        self._account, self._region = account, region
        self._lock = threading.Lock()

    def _backend(self) -> Any:
        from moto.cloudwatch.models import cloudwatch_backends  # noqa: PLC0415

        return cloudwatch_backends[self._account][self._region]

    def __call__(self, data: Sequence[Datum]) -> None:
        from moto.cloudwatch.models import MetricDatum  # noqa: PLC0415

        backend = self._backend()
        converted = [
            MetricDatum(
                datum.metric.namespace,
                datum.metric.name,
                datum.value,
                [{"Name": name, "Value": value} for name, value in sorted(datum.metric.dimensions)],
                _moto_time(datum.timestamp),
                datum.unit,
            )
            for datum in data
        ]
        with self._lock:
            backend.metric_data.extend(converted)

    def prune(self, before: float) -> None:
        """Forget datapoints older than ``before``."""
        cutoff = _moto_time(before)
        backend = self._backend()
        with self._lock:
            backend.metric_data[:] = [datum for datum in backend.metric_data if datum.timestamp >= cutoff]


class QueueActivity:
    """Counts SendMessage, ReceiveMessage and DeleteMessage per queue in moto's SQS backend."""

    COUNTED: ClassVar[dict[str, tuple[str, Callable[[Any], int]]]] = {
        "send_message": ("NumberOfMessagesSent", lambda _: 1),
        "send_message_batch": ("NumberOfMessagesSent", lambda result: len(result[0])),
        "receive_message": ("NumberOfMessagesReceived", len),
        "delete_message": ("NumberOfMessagesDeleted", lambda _: 1),
        "delete_message_batch": ("NumberOfMessagesDeleted", lambda result: len(result[0])),
    }

    def __init__(self, account: str, region: str, queues: Iterable[str]) -> None:
        from moto.sqs.models import sqs_backends  # noqa: PLC0415

        self._backend = sqs_backends[account][region]
        self._queues = set(queues)
        self._counts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        # moto's backends live as long as the process: wrap its own methods, replacing the wrapper of
        # any stack started before in this process, so calls never pass through a chain of them.
        for method, (metric, count) in self.COUNTED.items():
            kept = f"_devkit_original_{method}"
            if not hasattr(self._backend, kept):
                setattr(self._backend, kept, getattr(self._backend, method))
            setattr(self._backend, method, self._counting(getattr(self._backend, kept), metric, count))

    def _counting(
        self, original: Callable[..., Any], metric: str, count: Callable[[Any], int]
    ) -> Callable[..., Any]:
        @functools.wraps(original)
        def counted(queue_name: str, *args: Any, **kwargs: Any) -> Any:
            result = original(queue_name, *args, **kwargs)
            if queue_name in self._queues:
                with self._lock:
                    key = (queue_name, metric)
                    self._counts[key] = self._counts.get(key, 0) + count(result)
            return result

        return counted

    def sample(self, clock: Clock) -> list[Datum]:
        """The period's counts (then reset), and each queue's depth and oldest message's age now."""
        now = clock.now()
        with self._lock:
            counts, self._counts = self._counts, {}
        data = []
        for queue in sorted(self._queues):
            dimensions = {"QueueName": queue}
            for metric in ("NumberOfMessagesSent", "NumberOfMessagesReceived", "NumberOfMessagesDeleted"):
                value = float(counts.get((queue, metric), 0))
                data.append(Datum(MetricId.of("AWS/SQS", metric, dimensions), now, value, "Count"))
            messages = [m for m in self._backend.get_queue(queue)._messages if m.visible]  # noqa: SLF001 (no API lists them)
            sent = [int(stamp) for m in messages if (stamp := getattr(m, "sent_timestamp", None))]
            oldest = min(sent, default=None)
            age = clock.since_real(oldest / 1000) if oldest is not None else 0.0
            data += [
                Datum(
                    MetricId.of("AWS/SQS", "ApproximateNumberOfMessagesVisible", dimensions),
                    now,
                    float(len(messages)),
                    "Count",
                ),
                Datum(
                    MetricId.of("AWS/SQS", "ApproximateAgeOfOldestMessage", dimensions), now, age, "Seconds"
                ),
            ]
        return data


class Periodic(threading.Thread):
    """Runs ``task`` every ``interval`` seconds of simulated time until stopped; a failure is logged."""

    def __init__(self, name: str, clock: Clock, interval: float, task: Callable[[], None]) -> None:
        super().__init__(name=name, daemon=True)
        self._clock, self._interval, self._task = clock, interval, task
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self._clock.real_seconds(self._interval)):
            try:
                self._task()
            except Exception:  # the loop outlives one failed round
                logger.exception("%s failed; trying again next time", self.name)

    def stop(self) -> None:
        self._stopping.set()


@dataclass
class AlarmRecord:
    """An alarm's definition and what its last evaluation found."""

    spec: AlarmSpec
    properties: Mapping[str, Any]
    state: State = "INSUFFICIENT_DATA"
    last: Evaluation | None = None


def _as_api_types(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Numbers where CloudFormation resolved template parameters as strings."""
    converted = dict(properties)
    for key in ("EvaluationPeriods", "DatapointsToAlarm", "Period"):
        if key in converted:
            converted[key] = int(converted[key])
    converted["Threshold"] = float(converted["Threshold"])
    if "Metrics" in converted:
        converted["Metrics"] = [
            {**query, "MetricStat": {**query["MetricStat"], "Period": int(query["MetricStat"]["Period"])}}
            if "MetricStat" in query
            else query
            for query in converted["Metrics"]
        ]
    return converted


class AlarmRunner:
    """The template's alarms, created in moto and evaluated on the clock."""

    def __init__(
        self, cloudwatch: Any, store: MetricStore, clock: Clock, mirror: MotoMirror | None = None
    ) -> None:
        self.cloudwatch = cloudwatch
        self.store = store
        self.mirror = mirror
        self.clock = clock
        self.alarms: dict[str, AlarmRecord] = {}
        self.changes: list[tuple[float, str, State, State, Evaluation]] = []
        self._lock = threading.Lock()

    def put(self, name: str, properties: Mapping[str, Any]) -> None:
        """PutMetricAlarm, as CloudWatch applies it: a new alarm starts in INSUFFICIENT_DATA; an
        existing one takes the new definition and keeps its state until its next evaluation."""
        properties = _as_api_types(properties)
        spec = AlarmSpec.from_properties(name, properties)
        arguments = {key: value for key, value in properties.items() if key not in {"AlarmName"}}
        with self._lock:
            existing = self.alarms.get(name)
            state = existing.state if existing is not None else "INSUFFICIENT_DATA"
            self.cloudwatch.put_metric_alarm(AlarmName=name, **arguments)
            # moto resets a put alarm to OK: give it back the state CloudWatch keeps.
            self.cloudwatch.set_alarm_state(
                AlarmName=name,
                StateValue=state,
                StateReason="Unchecked: Initial alarm creation" if existing is None else "Updated alarm",
            )
            if existing is None:
                self.alarms[name] = AlarmRecord(spec, properties)
            else:
                existing.spec, existing.properties = spec, properties

    def delete(self, names: Sequence[str]) -> None:
        """DeleteAlarms."""
        with self._lock:
            for name in names:
                self.alarms.pop(name, None)
        if names:
            self.cloudwatch.delete_alarms(AlarmNames=list(names))

    def tick(self) -> None:
        """Evaluate every alarm now; move those whose state changed."""
        now = self.clock.now()
        for name, record in list(self.alarms.items()):
            evaluation = evaluate(record.spec, self.store, now, record.state)
            with self._lock:
                record.last = evaluation
                previous = record.state
                if evaluation.state == previous:
                    continue
                record.state = evaluation.state
                self.changes.append((now, name, previous, evaluation.state, evaluation))
            self.cloudwatch.set_alarm_state(
                AlarmName=name,
                StateValue=evaluation.state,
                StateReason=evaluation.reason[:1023],
                StateReasonData=evaluation.reason_data(record.spec, now),
            )
            values = [f"{v:g}" if v is not None else "-" for _, v in evaluation.datapoints]
            logger.info(
                "Alarm %s: %s -> %s at %s (simulated); datapoints, oldest first: [%s]",
                name,
                previous,
                evaluation.state,
                datetime.fromtimestamp(now, UTC).strftime("%H:%M:%S"),
                ", ".join(values),
            )

    def prune(self) -> None:
        """Forget metric data older than the retention, here and in moto's copy."""
        before = self.clock.now() - RETENTION_SECONDS
        self.store.prune(before)
        if self.mirror is not None:
            self.mirror.prune(before)
