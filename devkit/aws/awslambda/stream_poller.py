"""The stream trigger: reads a DynamoDB table's stream and invokes its function as Lambda's event
source mapping does (services-ddb-params, services-ddb-batchfailurereporting, services-dynamodb-errors).

- ``StartingPosition`` ``LATEST`` (after the newest record when the mapping starts) or ``TRIM_HORIZON``;
- ``BatchSize`` records at most, gathered for up to ``MaximumBatchingWindowInSeconds`` (in the
  stack's time);
- ``FilterCriteria``: only records matching a pattern are delivered (the others are passed over,
  as if processed);
- a failed invocation is retried with the same batch, ``MaximumRetryAttempts`` times (-1: until
  the record expires, which locally is never); with ``BisectBatchOnFunctionError`` a failed batch
  is split in two and each half retried, without counting towards the attempts;
- with ``ReportBatchItemFailures``, the lowest ``itemIdentifier`` (a sequence number) returned is
  the checkpoint: everything from it on is retried; an unknown or empty identifier fails the batch;
- a batch out of attempts goes, as its stream position, to the ``OnFailure`` destination (an SQS
  queue), and the shard moves on.
"""

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from devkit.aws.clock import Clock

logger = logging.getLogger("devkit.local")

Invoke = Callable[[str, dict[str, Any], str | None], Any]
Record = dict[str, Any]
POLL_SECONDS = 0.05  # real seconds between reads of an idle shard


@dataclass(frozen=True)
class StreamMapping:
    """An event source mapping from a table's stream to a function, as the template declares it."""

    function: str
    table: str
    starting_position: str = "LATEST"
    batch_size: int = 100
    batching_window: float = 0.0
    maximum_retry_attempts: int = -1
    bisect_on_error: bool = False
    reports_item_failures: bool = False
    filters: tuple[Mapping[str, Any], ...] = ()
    on_failure_queue_url: str | None = None

    def describe(self, function_arn: str, stream_arn: str, on_failure_arn: str | None) -> dict[str, Any]:
        """The mapping as Lambda's ListEventSourceMappings describes it."""
        description: dict[str, Any] = {
            "UUID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{function_arn} {stream_arn}")),
            "EventSourceArn": stream_arn,
            "FunctionArn": function_arn,
            "StartingPosition": self.starting_position,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": int(self.batching_window),
            "MaximumRetryAttempts": self.maximum_retry_attempts,
            "BisectBatchOnFunctionError": self.bisect_on_error,
            "FunctionResponseTypes": ["ReportBatchItemFailures"] if self.reports_item_failures else [],
            "State": "Enabled",
            "StateTransitionReason": "User action",
        }
        if self.filters:
            description["FilterCriteria"] = {"Filters": [{"Pattern": json.dumps(f)} for f in self.filters]}
        if on_failure_arn is not None:
            description["DestinationConfig"] = {"OnFailure": {"Destination": on_failure_arn}}
        return description

    @classmethod
    def from_properties(
        cls, function: str, table: str, properties: Mapping[str, Any], queue_url: str | None
    ) -> "StreamMapping":
        patterns = [
            json.loads(item["Pattern"]) for item in properties.get("FilterCriteria", {}).get("Filters", [])
        ]
        return cls(
            function=function,
            table=table,
            starting_position=str(properties.get("StartingPosition", "LATEST")),
            batch_size=int(properties.get("BatchSize", 100)),
            batching_window=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
            bisect_on_error=bool(properties.get("BisectBatchOnFunctionError", False)),
            reports_item_failures="ReportBatchItemFailures" in properties.get("FunctionResponseTypes", []),
            filters=tuple(patterns),
            on_failure_queue_url=queue_url,
        )


def matches(pattern: Any, value: Any) -> bool:
    """Lambda's event filtering on one record: every key of the pattern must match.

    A list of allowed values matches when the record's value is one of them, or matches one of
    its ``{"prefix": ...}`` items; a nested object matches the nested record.
    """
    if isinstance(pattern, Mapping):
        return isinstance(value, Mapping) and all(
            key in value and matches(sub, value[key]) for key, sub in pattern.items()
        )
    if isinstance(pattern, list):
        for allowed in pattern:
            if isinstance(allowed, Mapping) and "prefix" in allowed:
                if isinstance(value, str) and value.startswith(allowed["prefix"]):
                    return True
            elif allowed == value:
                return True
        return False
    return bool(pattern == value)


@dataclass
class Attempts:
    """What happened to the batches of one shard: for tests and the rehearsal's report."""

    invocations: int = 0
    retries: int = 0
    bisections: int = 0
    set_aside: list[dict[str, Any]] = field(default_factory=list)


class StreamPoller(threading.Thread):
    """Reads every shard of a table's stream and delivers its records to a function."""

    def __init__(
        self,
        mapping: StreamMapping,
        dynamodb: Any,
        streams: Any,
        sqs: Any,
        invoke: Invoke,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(name=f"stream-{mapping.function}", daemon=True)
        self.mapping = mapping
        self._dynamodb, self._streams, self._sqs, self._invoke = dynamodb, streams, sqs, invoke
        self._window = (clock or Clock()).real_seconds(mapping.batching_window)
        self._stopping = threading.Event()
        self.attempts = Attempts()
        self.stream_arn = ""
        self._iterators: dict[str, str] = {}
        self._ready = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def wait_ready(self, seconds: float = 10) -> bool:
        """True once the shards' iterators are taken (records written from then on are delivered)."""
        return self._ready.wait(seconds)

    def run(self) -> None:
        try:
            self._open()
        except Exception:
            logger.exception("The stream of %s could not be read", self.mapping.table)
            return
        finally:
            self._ready.set()
        pending: dict[str, list[Record]] = {}
        gathering: dict[str, float] = {}
        while not self._stopping.is_set():
            try:
                idle = self._poll(pending, gathering)
            except Exception:  # the trigger outlives a failed read or delivery, as Lambda's does
                logger.exception("Delivering the stream of %s failed; going on", self.mapping.table)
                idle = True
            if idle:
                self._stopping.wait(POLL_SECONDS)

    def _poll(self, pending: dict[str, list[Record]], gathering: dict[str, float]) -> bool:
        """Read each shard once and deliver what is due; True when nothing was read."""
        idle = True
        for shard in list(self._iterators):
            records = self._read(shard, self.mapping.batch_size - len(pending.get(shard, [])))
            if records:
                idle = False
                pending.setdefault(shard, []).extend(records)
                gathering.setdefault(shard, time.monotonic())
            batch = pending.get(shard, [])
            full = len(batch) >= self.mapping.batch_size
            if batch and (full or time.monotonic() - gathering[shard] >= self._window):
                pending.pop(shard, None)
                gathering.pop(shard, None)
                self._deliver(shard, batch)
        return idle

    def _open(self) -> None:
        described = self._dynamodb.describe_table(TableName=self.mapping.table)["Table"]
        self.stream_arn = described["LatestStreamArn"]
        shards = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            self._iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType=self.mapping.starting_position,
            )["ShardIterator"]

    def _read(self, shard: str, limit: int) -> list[Record]:
        if limit <= 0:
            return []
        try:
            response = self._streams.get_records(ShardIterator=self._iterators[shard], Limit=limit)
        except Exception:
            logger.exception("Reading shard %s of %s failed; retrying", shard, self.mapping.table)
            return []
        if response.get("NextShardIterator"):
            self._iterators[shard] = response["NextShardIterator"]
        return [self._event_record(record) for record in response.get("Records", [])]

    def _event_record(self, record: Mapping[str, Any]) -> Record:
        """A record as Lambda hands it over: the stream's record plus its source ARN and region."""
        event: Record = json.loads(json.dumps(record, default=_json_default))
        event["eventSourceARN"] = self.stream_arn
        event.setdefault("awsRegion", self.stream_arn.split(":")[3] if self.stream_arn else "")
        return event

    def _deliver(self, shard: str, batch: list[Record]) -> None:
        delivered = [
            r for r in batch if not self.mapping.filters or any(matches(p, r) for p in self.mapping.filters)
        ]
        if delivered:
            self._settle(shard, delivered, attempt=0)

    def _settle(self, shard: str, batch: Sequence[Record], attempt: int) -> None:
        """Invoke with ``batch`` until it succeeds, is split, or runs out of attempts."""
        mapping = self.mapping
        while not self._stopping.is_set():
            self.attempts.invocations += 1
            failed_from = self._failed_from(batch)
            if failed_from is None:
                return
            if failed_from > 0:  # the records before the checkpoint are done
                batch = batch[failed_from:]
            if mapping.bisect_on_error and len(batch) > 1:
                self.attempts.bisections += 1
                middle = len(batch) // 2
                self._settle(shard, batch[:middle], attempt)
                self._settle(shard, batch[middle:], attempt)
                return
            if 0 <= mapping.maximum_retry_attempts <= attempt:
                self._set_aside(shard, batch, attempt + 1)
                return
            attempt += 1
            self.attempts.retries += 1

    def _failed_from(self, batch: Sequence[Record]) -> int | None:
        """None when the batch succeeded; else the index from which it is retried."""
        try:
            result = self._invoke(self.mapping.function, {"Records": list(batch)}, None)
        except Exception as error:  # noqa: BLE001 (a function error: the whole batch is retried)
            logger.warning("%s failed on %d stream records: %s", self.mapping.function, len(batch), error)
            return 0
        if not self.mapping.reports_item_failures or not isinstance(result, dict):
            return None
        failures = result.get("batchItemFailures") or []
        if not failures:
            return None
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        identifiers = [item.get("itemIdentifier") for item in failures if isinstance(item, dict)]
        if len(identifiers) != len(failures) or any(i not in sequence for i in identifiers):
            return 0  # an identifier that names no record of the batch fails it whole
        return min(sequence.index(i) for i in identifiers)

    def _set_aside(self, shard: str, batch: Sequence[Record], attempts: int) -> None:
        """The on-failure record Lambda sends: the batch's position in the stream, not its records."""
        first, last = batch[0], batch[-1]
        record = {
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
                "functionArn": self.mapping.function,
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        self.attempts.set_aside.append(record)
        logger.error("%s: %d stream records out of attempts, set aside", self.mapping.function, len(batch))
        if self.mapping.on_failure_queue_url:
            self._sqs.send_message(QueueUrl=self.mapping.on_failure_queue_url, MessageBody=json.dumps(record))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes | bytearray):
        return value.decode(errors="replace")
    raise TypeError(f"not JSON: {type(value).__name__}")
