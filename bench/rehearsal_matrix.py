"""The rehearsal against every kind of fault: does the canary catch each, and only the faulty ones?

For each scenario, RUNS seeded rehearsals of a candidate that changes the shared layer (both
functions deploy in parallel) over the working tree, Environment=prod (Canary10Percent10Minutes).
Prints, per scenario: promoted and rolled back counts, the traffic weight and simulated minute at
which each rollback happened, what decided it (an alarm or a hook), and the wall time per run.

Target: clean promoted every time (no false rollback); every faulty scenario rolled back every
time, none of them after the shift to 100 %.

Scenarios named ``...@users`` strike only the rehearsal's users, never the hooks' check user: only
the outcome alarms can catch them.

Each run is recorded as a line of ``--results`` (JSON lines, default
``reports/rehearsal-matrix.jsonl``), under the commit rehearsed: a matrix stopped part-way goes on
where it stopped, and ``--show`` prints the table from the record alone. A tree with uncommitted
changes is recorded as ``<commit>+worktree``.

Run: .venv/bin/python bench/rehearsal_matrix.py [--runs 20] [--speed 15] [--scenario NAME ...]
     .venv/bin/python bench/rehearsal_matrix.py --show
"""

import argparse
import json
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from devkit.rehearsal.plan import RehearsalOptions
from devkit.rehearsal.run import rehearse
from devkit.rehearsal.trees import export, revision
from devkit.template import ROOT

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
# A release that fixes an incident: the released version fails (errors=0.2, three minutes alone
# before the stack update, long enough for its alarms to be in ALARM), the candidate is clean.
# Promoted every time: the new version's alarms are new, without the old version's state.
BASE_FAULTS = {"base-failing": "errors=0.2"}
RELEASED_MINUTES = 3.0


FUNCTIONS = ("ApiFunction", "QueueConsumerFunction")


def decided_by(reason: str) -> str:
    if "hook" in reason:
        return reason.split(" hook ", maxsplit=1)[0] + " hook"
    if reason.startswith("alarm "):
        alarm = reason.removeprefix("alarm ").split(" in ALARM")[0].split("-local-")[-1]
        return re.sub(r"-v\d+$", "", alarm)  # the version a rollback alarm is named after
    return reason[:40]


def recorded(results: Path, rev: str) -> list[dict[str, Any]]:
    if not results.exists():
        return []
    runs = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    return [run for run in runs if run["revision"] == rev]


def run_once(work: Path, name: str, seed: int, speed: float, rev: str) -> dict[str, Any]:
    base, candidate = work / "base", work / "candidate"
    started = time.monotonic()
    result = rehearse(
        RehearsalOptions(
            base=base,
            candidate=candidate,
            environment="prod",
            speed=speed,
            faults=SCENARIOS.get(name, ""),
            base_faults=BASE_FAULTS.get(name, ""),
            released_minutes=RELEASED_MINUTES if name in BASE_FAULTS else 0.0,
            seed=seed,
            data_dir=work / f"data-{name}-{seed}",
            reports=work / "reports",
            quiet=True,
        )
    )
    return {
        "revision": rev,
        "scenario": name,
        "seed": seed,
        "speed": speed,
        "exit_code": result.exit_code,
        "verdict": result.verdict[:300],
        "wall_s": round(time.monotonic() - started, 1),
        "deployments": {
            outcome.function: {
                "status": outcome.status,
                "weight": outcome.weight_when_stopped or 0,
                "minute": round(((outcome.stopped_at or result.started) - result.started) / 60, 1),
                "decided_by": decided_by(outcome.reason) if outcome.status == "Failed" else "",
            }
            for outcome in result.outcomes
        },
    }


def table(runs: list[dict[str, Any]], names: list[str]) -> None:
    print(
        f"{'scenario':<23}{'runs':>5}{'promoted':>9}{'stopped':>8}{'Api':>5}{'Consumer':>9}{'at 100 %':>9}  "
        f"{'at weight / minute (most often)':<32}decided by (most often)   wall s"
    )
    for name in names:
        mine = [run for run in runs if run["scenario"] == name]
        if not mine:
            continue
        failed = [
            (function, deployment)
            for run in mine
            for function, deployment in run["deployments"].items()
            if deployment["status"] == "Failed"
        ]
        stopped_runs = sum(
            any(d["status"] == "Failed" and d["weight"] < 1 for d in run["deployments"].values())
            for run in mine
        )
        per_function = [sum(f == function for f, _ in failed) for function in FUNCTIONS]
        at_full = sum(d["weight"] >= 1 for _, d in failed)
        where = Counter(f"{d['weight']:.0%} / {d['minute']:.0f} min" for _, d in failed)
        why = Counter(d["decided_by"] for _, d in failed)
        shown_where = ", ".join(f"{k} x{v}" for k, v in where.most_common(2)) or "-"
        shown_why = ", ".join(f"{k} x{v}" for k, v in why.most_common(2)) or "-"
        print(
            f"{name:<23}{len(mine):>5}{sum(r['exit_code'] == 0 for r in mine):>9}{stopped_runs:>8}"
            f"{per_function[0]:>5}{per_function[1]:>9}{at_full:>9}  {shown_where:<31} {shown_why}   "
            f"{statistics.median(r['wall_s'] for r in mine):.0f}",
            flush=True,
        )
    print(
        "(stopped: runs in which a deployment was rolled back before 100 %; Api, Consumer: the"
        " deployments of each rolled back; a layer change deploys both)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    # The rehearsal's own speed: faster, this machine cannot carry the load the canary's minimum
    # samples need, and the witness falls behind its stream.
    parser.add_argument("--speed", type=float, default=15.0)
    parser.add_argument("--scenario", action="append", choices=sorted([*SCENARIOS, *BASE_FAULTS]))
    parser.add_argument("--results", type=Path, default=ROOT / "reports" / "rehearsal-matrix.jsonl")
    parser.add_argument("--show", action="store_true", help="print the recorded runs' table, run nothing")
    arguments = parser.parse_args()
    names = arguments.scenario or [*SCENARIOS, *BASE_FAULTS]
    rev = revision()
    runs = recorded(arguments.results, rev)
    print(f"revision {rev}: {arguments.runs} runs per scenario, Environment=prod, time x{arguments.speed:g}")
    if not arguments.show:
        work = Path(tempfile.mkdtemp(prefix="rehearsal-matrix-"))
        export("worktree", work / "base")
        shutil.copytree(work / "base", work / "candidate")
        layer = work / "candidate/layers/shared/store_reply/replies.py"
        layer.write_text(layer.read_text() + "\n# a change to the shared layer\n")
        arguments.results.parent.mkdir(parents=True, exist_ok=True)
        # Each run in a process of its own: moto's backends live as long as their process, and a run
        # started in the last one's would find every earlier run's items in its tables.
        fresh = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"), max_tasks_per_child=1)
        for name in names:
            done = {run["seed"] for run in runs if run["scenario"] == name}
            for seed in (s for s in range(arguments.runs) if s not in done):
                run = fresh.submit(run_once, work, name, seed, arguments.speed, rev).result()
                with arguments.results.open("a") as out:
                    out.write(json.dumps(run) + "\n")
                runs.append(run)
        fresh.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    table(runs, names)


if __name__ == "__main__":
    main()
