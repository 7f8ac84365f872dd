"""A rehearsal judges a canary only if its load reached both versions while traffic was split."""

from devkit.rehearsal.engine import Event
from devkit.rehearsal.load import canary_windows, unreached


def shifted(at: float, function: str, weight: float) -> Event:
    return Event(at, "d-1", function, "TrafficShifted", {"weight": weight})


def test_the_canary_window_runs_from_the_partial_shift_to_the_next_shift() -> None:
    events = [shifted(10, "Api", 0.1), shifted(610, "Api", 1.0)]

    assert canary_windows(events) == {"Api": (10, 610)}


def test_a_stop_closes_the_window() -> None:
    stopped = Event(130, "d-1", "Api", "DeploymentFailure", {"reason": "alarm"})

    assert canary_windows([shifted(10, "Api", 0.1), stopped]) == {"Api": (10, 130)}


def test_all_at_once_has_no_window_to_judge() -> None:
    assert canary_windows([shifted(10, "Api", 1.0)]) == {}


def test_a_version_that_served_no_user_during_a_long_enough_canary_is_named() -> None:
    reach = {"Api": {"1": 420, "2": 0}, "Consumer": {"1": 90, "2": 11}}
    windows = {"Api": (0.0, 600.0), "Consumer": (0.0, 600.0)}

    assert unreached(reach, windows) == ["Api (v1 420 requests, v2 0 requests)"]


def test_a_canary_stopped_within_its_first_minute_is_not_held_to_the_reach_rule() -> None:
    assert unreached({"Api": {"1": 3, "2": 0}}, {"Api": (0.0, 20.0)}) == []
