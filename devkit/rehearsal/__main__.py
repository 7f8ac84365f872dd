"""``python -m devkit.rehearsal``: what ``make rehearse`` runs.

Exit codes: 0 promoted, 1 rolled back, 2 could not run.
"""

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from devkit.rehearsal.plan import RehearsalOptions
from devkit.rehearsal.run import rehearse
from devkit.rehearsal.trees import WORKING_TREE, ExportFailed, export
from devkit.template import ROOT


def released_commit(parameter: str) -> str:
    """The commit the pipeline last released to production, or "" when it has released none."""
    import boto3  # noqa: PLC0415

    ssm = boto3.client("ssm")
    try:
        return str(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devkit.rehearsal", description=__doc__)
    parser.add_argument("--base", default="HEAD", help="the released commit; empty for a first release")
    parser.add_argument(
        "--base-parameter",
        help="an SSM parameter holding the released commit (the pipeline's record); absent: a first release",
    )
    parser.add_argument("--candidate", default=WORKING_TREE, help=f"a commit, or {WORKING_TREE} (default)")
    parser.add_argument("--env", default="prod", choices=["dev", "staging", "prod"])
    parser.add_argument(
        "--faults",
        default="",
        help="comma-separated: errors=R, http5xx=R, latency=MS, degraded=R, nolocal=R, lose=R, "
        "wronglanguage=R, wrongreply=R (R@TEXT: only events containing TEXT), crash, hook-silent",
    )
    parser.add_argument(
        "--base-faults", default="", help="faults of the released version: an incident the release must fix"
    )
    parser.add_argument(
        "--released-minutes",
        type=float,
        default=0.0,
        help="simulated minutes the released version serves alone before the stack update",
    )
    parser.add_argument("--speed", type=float, default=15.0, help="simulated seconds per real second")
    parser.add_argument("--api-per-minute", type=float, default=150.0)
    parser.add_argument("--queue-per-minute", type=float, default=150.0)
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds the load, the alias's routing and the faults"
    )
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    trees = ROOT / ".local" / "rehearsal"
    try:
        if arguments.base_parameter:
            arguments.base = released_commit(arguments.base_parameter)
        candidate = trees / "candidate"
        described = export(arguments.candidate, candidate)
        base = None
        if arguments.base:
            base = trees / "base"
            released = export(arguments.base, base)
            print(f"Rehearsing {described} over {released}", flush=True)
        else:
            print(f"Rehearsing {described} as a first release (nothing released before)", flush=True)
        with tempfile.TemporaryDirectory(prefix="rehearsal-data-") as data:
            result = rehearse(
                RehearsalOptions(
                    base=base,
                    candidate=candidate,
                    environment=arguments.env,
                    speed=arguments.speed,
                    faults=arguments.faults,
                    base_faults=arguments.base_faults,
                    released_minutes=arguments.released_minutes,
                    api_per_minute=arguments.api_per_minute,
                    queue_per_minute=arguments.queue_per_minute,
                    seed=arguments.seed,
                    data_dir=Path(data),
                )
            )
    except ExportFailed as error:
        print(f"make rehearse: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        logging.exception("The rehearsal could not run")
        print(f"make rehearse: could not run: {error}", file=sys.stderr)
        return 2
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
