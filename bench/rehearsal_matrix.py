"""The rehearsal against every kind of fault: does the canary catch each, and only the faulty ones?

For each scenario, RUNS seeded rehearsals of a candidate that changes the shared layer (both
functions deploy in parallel) over the working tree, Environment=prod (Canary10Percent10Minutes).
Prints, per scenario: promoted and rolled back counts, the traffic weight and simulated minute at
which each rollback happened, what decided it (an alarm or a hook), and the wall time per run.

Target: clean promoted every time (no false rollback); every faulty scenario rolled back every
time, none of them after the shift to 100 %.

Scenarios named ``...@users`` strike only the rehearsal's users, never the hooks' check user: only
the outcome alarms can catch them.

Run: .venv/bin/python bench/rehearsal_matrix.py [--runs 20] [--speed 15] [--scenario NAME ...]
"""

import argparse
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from devkit.rehearsal.run import RehearsalOptions, rehearse
from devkit.rehearsal.trees import export

SCENARIOS = {
    "clean": "",
    # Versions that answer 200 and are wrong: every message or a share, hooks' users included or not.
    "lose=0.25": "lose=0.25",
    "lose=0.25@users": "lose=0.25@rehearsal",
    "wronglanguage=1": "wronglanguage=1",
    "wronglanguage=1@users": "wronglanguage=1@rehearsal",
    "wrongreply=1": "wrongreply=1",
    "latency=+400ms": "latency=+400ms",
    "errors=0.05": "errors=0.05",
    "errors=0.2": "errors=0.2",
    "latency=+2000ms": "latency=+2000ms",
    "http5xx=0.1": "http5xx=0.1",
    "degraded=0.3": "degraded=0.3",
    "nolocal=1": "nolocal=1",
    "crash": "crash",
    "hook-silent": "hook-silent",
}


def decided_by(reason: str) -> str:
    if "hook" in reason:
        return reason.split(" hook ", maxsplit=1)[0] + " hook"
    if reason.startswith("alarm "):
        return reason.removeprefix("alarm ").split(" in ALARM")[0].split("-local-")[-1]
    return reason[:40]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    # The rehearsal's own speed: faster, this machine cannot carry the load the canary's minimum
    # samples need, and the witness falls behind its stream.
    parser.add_argument("--speed", type=float, default=15.0)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rehearsal-matrix-"))
    base, candidate = work / "base", work / "candidate"
    export("worktree", base)
    shutil.copytree(base, candidate)
    layer = candidate / "layers/shared/store_reply/replies.py"
    layer.write_text(layer.read_text() + "\n# a change to the shared layer\n")
    print(f"{arguments.runs} runs per scenario, Environment=prod, time x{arguments.speed:g}")
    print(
        f"{'scenario':<17}{'promoted':>9}{'rolled back':>12}{'at 100 %':>9}  "
        f"{'at weight / minute (most often)':<32}decided by   wall s"
    )
    for name in arguments.scenario or SCENARIOS:
        promoted, rolled, at_full, where, why, walls = 0, 0, 0, Counter[str](), Counter[str](), []
        for seed in range(arguments.runs):
            started = time.monotonic()
            result = rehearse(
                RehearsalOptions(
                    base=base,
                    candidate=candidate,
                    environment="prod",
                    speed=arguments.speed,
                    faults=SCENARIOS[name],
                    seed=seed,
                    data_dir=work / f"data-{name}-{seed}",
                    reports=work / "reports",
                    quiet=True,
                )
            )
            walls.append(time.monotonic() - started)
            if result.exit_code == 0:
                promoted += 1
            for outcome in result.outcomes:
                if outcome.status == "Failed":
                    rolled += 1
                    at_full += (outcome.weight_when_stopped or 0) >= 1.0
                    minute = ((outcome.stopped_at or result.started) - result.started) / 60
                    where[f"{outcome.weight_when_stopped or 0:.0%} / {minute:.0f} min"] += 1
                    why[decided_by(outcome.reason)] += 1
        shown_where = ", ".join(f"{k} x{v}" for k, v in where.most_common(2)) or "-"
        shown_why = ", ".join(f"{k} x{v}" for k, v in why.most_common(2)) or "-"
        print(
            f"{name:<17}{promoted:>9}{rolled:>12}{at_full:>9}  {shown_where:<31} {shown_why}   "
            f"{statistics.median(walls):.0f}",
            flush=True,
        )
    print("(promoted counts runs; rolled back and at 100 % count deployments: a layer change deploys both)")


if __name__ == "__main__":
    main()
