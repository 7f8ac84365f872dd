"""The rehearsal's verdict names what decided a stop, as it was when it decided."""

from types import SimpleNamespace
from typing import Any

from devkit.rehearsal.run import _why


def evaluation(values: list[float | None], reason: str) -> Any:
    return SimpleNamespace(datapoints=[(60.0 * i, v) for i, v in enumerate(values)], reason=reason)


def test_an_alarm_stop_shows_the_datapoints_that_put_it_in_alarm_not_the_latest() -> None:
    fired = evaluation([0, 2, 2], "2 of 2 datapoints must be greater than or equal to the threshold (1)")
    later = evaluation([2, 2, 0], "later")
    alarms = SimpleNamespace(
        alarms={"stack-ApiDurationAlarm-v2": SimpleNamespace(last=later)},
        changes=[(600.0, "stack-ApiDurationAlarm-v2", "OK", "ALARM", fired)],
    )
    stack: Any = SimpleNamespace(alarms=alarms)
    ports: Any = SimpleNamespace(hook_runs={})

    why = _why("alarm stack-ApiDurationAlarm-v2 in ALARM", stack, ports)

    assert why.startswith(" (datapoints, oldest first: [0, 2, 2]; 2 of 2 datapoints must be")
