"""DEVKIT_FAULTS: what a local execution environment is told to get wrong."""

import pytest

from devkit.runtime.faults import Fault, Faults


def test_faults_read_rates_markers_flags_and_latency() -> None:
    faults = Faults.parse("errors=0.2, lose=0.25@rehearsal, crash, latency=+400ms")

    assert faults.errors == Fault(0.2)
    assert faults.lose == Fault(0.25, "rehearsal")
    assert faults.crash
    assert faults.latency == 400.0
    assert faults.http5xx.rate == 0


def test_an_unknown_fault_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ValueError, match="unknown fault 'lsoe'"):
        Faults.parse("lsoe=0.5")


def test_a_marked_fault_strikes_only_events_that_carry_its_marker() -> None:
    fault = Fault(1.0, "rehearsal")

    assert fault.strikes({"body": '{"user": "rehearsal-3"}'})
    assert not fault.strikes({"body": '{"user": "deployment-check"}'})
    assert not Fault(0.0).strikes({"anything": 1})
