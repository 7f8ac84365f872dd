"""The local stream trigger delivers a table's stream as Lambda's DynamoDB event source mapping does.

Each rule is from AWS's Lambda developer guide: services-ddb-params (starting position, batch
size, retries), services-ddb-batchfailurereporting (the lowest reported sequence number is the
checkpoint; an identifier naming no record fails the batch), services-dynamodb-errors
(bisection, the on-failure destination's record), and invocation filtering.
"""

import json
import threading
import time
from typing import Any

import pytest

from devkit.aws.awslambda.stream_poller import StreamMapping, StreamPoller, matches

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-12-02T00:00:00.000"


def record(n: int, event: str = "INSERT", sk: str = "MSG#x") -> dict[str, Any]:
    return {
        "eventID": str(n),
        "eventName": event,
        "dynamodb": {"Keys": {"sk": {"S": sk}}, "SequenceNumber": f"{n:021d}"},
    }


class FakeTable:
    def describe_table(self, TableName: str) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        return {"Table": {"LatestStreamArn": ARN}}


class FakeStream:
    """One shard: records already in it before the trigger started, and records written after."""

    def __init__(self, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> None:
        self.records = before + after
        self.latest = len(before)
        self.positions: list[str] = []

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:  # noqa: N803
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str) -> dict[str, Any]:  # noqa: N803
        self.positions.append(ShardIteratorType)
        return {"ShardIterator": "0" if ShardIteratorType == "TRIM_HORIZON" else str(self.latest)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803
        start = int(ShardIterator)
        found = self.records[start : start + Limit]
        return {"Records": found, "NextShardIterator": str(start + len(found))}


class FakeQueue:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> None:  # noqa: N803
        self.sent.append(json.loads(MessageBody))


class Function:
    """Invocations received, and the answer each gives (an exception, or a result)."""

    def __init__(self, answer: Any = None) -> None:
        self.batches: list[list[str]] = []
        self._answer = answer

    def __call__(self, function: str, event: dict[str, Any], request_id: str | None) -> Any:
        batch = [r["eventID"] for r in event["Records"]]
        self.batches.append(batch)
        return self._answer(batch) if callable(self._answer) else self._answer


def deliver(
    function: Function,
    after: list[dict[str, Any]],
    before: list[dict[str, Any]] | None = None,
    **mapping: Any,
) -> tuple[StreamPoller, FakeQueue, FakeStream]:
    """Run the trigger until it has nothing more to do."""
    stream, queue = FakeStream(before or [], after), FakeQueue()
    settings = {"function": "witness", "table": "t", "on_failure_queue_url": "https://queue", **mapping}
    poller = StreamPoller(StreamMapping(**settings), FakeTable(), stream, queue, function)
    poller.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        idle = len(function.batches)
        time.sleep(0.2)
        if len(function.batches) == idle and poller.wait_ready(0):
            break
    poller.stop()
    poller.join(2)
    return poller, queue, stream


def test_latest_starts_after_what_the_stream_held_and_trim_horizon_from_its_oldest_record() -> None:
    old, new = [record(1), record(2)], [record(3)]

    latest, horizon = Function({"batchItemFailures": []}), Function({"batchItemFailures": []})
    deliver(latest, new, old, starting_position="LATEST")
    deliver(horizon, new, old, starting_position="TRIM_HORIZON")

    assert latest.batches == [["3"]]
    assert horizon.batches == [["1", "2", "3"]]


def test_a_batch_holds_at_most_batch_size_records() -> None:
    function = Function()

    deliver(function, [record(n) for n in range(1, 6)], batch_size=2)

    assert function.batches == [["1", "2"], ["3", "4"], ["5"]]


def test_records_the_filter_does_not_match_are_never_delivered() -> None:
    function = Function()
    pattern = {"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "MSG#"}]}}}}

    deliver(function, [record(1), record(2, event="MODIFY"), record(3, sk="KEY#k")], filters=(pattern,))

    assert function.batches == [["1"]]


def test_a_failing_batch_is_retried_then_set_aside_as_its_position_in_the_stream() -> None:
    def fail(_: list[str]) -> Any:
        raise RuntimeError("boom")

    function = Function(fail)

    poller, queue, _ = deliver(function, [record(1), record(2)], maximum_retry_attempts=2)

    assert function.batches == [["1", "2"]] * 3  # the first attempt and two retries
    (aside,) = queue.sent
    assert aside["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert aside["DDBStreamBatchInfo"] == {
        "shardId": "shard-1",
        "startSequenceNumber": f"{1:021d}",
        "endSequenceNumber": f"{2:021d}",
        "batchSize": 2,
        "streamArn": ARN,
    }
    assert poller.attempts.retries == 2


def test_bisection_splits_a_failing_batch_until_the_bad_record_is_alone() -> None:
    def fail_on_three(batch: list[str]) -> Any:
        if "3" in batch:
            raise RuntimeError("record 3 is bad")
        return None

    function = Function(fail_on_three)

    _, queue, _ = deliver(
        function, [record(n) for n in range(1, 5)], bisect_on_error=True, maximum_retry_attempts=0
    )

    assert function.batches[0] == ["1", "2", "3", "4"]
    assert ["1", "2"] in function.batches
    assert [aside["DDBStreamBatchInfo"]["batchSize"] for aside in queue.sent] == [1]
    assert queue.sent[0]["DDBStreamBatchInfo"]["startSequenceNumber"] == f"{3:021d}"


def test_a_reported_item_failure_is_the_checkpoint_everything_after_it_is_retried() -> None:
    answers = iter(
        [{"batchItemFailures": [{"itemIdentifier": f"{3:021d}"}, {"itemIdentifier": f"{4:021d}"}]}]
    )

    function = Function(lambda _: next(answers, {"batchItemFailures": []}))

    deliver(function, [record(n) for n in range(1, 5)], reports_item_failures=True)

    assert function.batches == [["1", "2", "3", "4"], ["3", "4"]]


def test_an_identifier_that_names_no_record_fails_the_whole_batch() -> None:
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "not-a-sequence-number"}]}])

    function = Function(lambda _: next(answers, {"batchItemFailures": []}))

    deliver(function, [record(1), record(2)], reports_item_failures=True)

    assert function.batches == [["1", "2"], ["1", "2"]]


@pytest.mark.parametrize(
    ("value", "expected"), [("MSG#2026", True), ("KEY#k", False), (None, False), (7, False)]
)
def test_a_prefix_matches_only_strings_that_begin_with_it(value: Any, expected: bool) -> None:
    assert matches({"sk": [{"prefix": "MSG#"}]}, {"sk": value}) is expected


def test_the_trigger_outlives_a_read_that_fails() -> None:
    class FlakyStream(FakeStream):
        failed = threading.Event()

        def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803
            if not self.failed.is_set():
                self.failed.set()
                raise RuntimeError("throttled")
            return super().get_records(ShardIterator, Limit)

    function = Function()
    stream, queue = FlakyStream([], [record(1)]), FakeQueue()
    poller = StreamPoller(StreamMapping("witness", "t"), FakeTable(), stream, queue, function)
    poller.start()
    time.sleep(0.5)
    poller.stop()

    assert function.batches == [["1"]]
