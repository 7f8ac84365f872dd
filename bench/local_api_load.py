"""The local stack under load, and its start-up time.

1. Start-up: from the command (``python -m devkit.local start``, environment already built) to the
   first 200 from ``GET /send``; median of three starts, each with fresh data.
2. Load: locust, headless, against ``GET /send`` (anonymous) and ``POST /messages`` (as one of
   USERS users of the stack's pool, signed in before the load starts, as the API requires); prints
   p50, p99 and requests per second for each, and the failures (any answer but 200 and 201).
   Locust runs in its own environment, ``.bench/locust``, built from requirements/bench.txt on
   first use.

Targets on a 2-core machine: p50 <= 20 ms, p99 <= 100 ms, start-up <= 5 s.

Run: .venv/bin/python bench/local_api_load.py [--users 4] [--seconds 30]
"""

import argparse
import csv
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from devkit.local.client import LocalClient
from devkit.local.options import free_port

ROOT = Path(__file__).resolve().parent.parent
LOCUST_ENV = ROOT / ".bench" / "locust"
USERS = 20


def locust() -> Path:
    """The locust executable, installed from the lock file when missing."""
    executable = LOCUST_ENV / "bin" / "locust"
    if not executable.exists():
        uv = Path(sys.executable).parent / "uv"
        subprocess.run([uv, "venv", "--quiet", "--python", "3.13", LOCUST_ENV], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603
            [
                uv,
                "pip",
                "sync",
                "--quiet",
                "--python",
                LOCUST_ENV / "bin" / "python",
                ROOT / "requirements/bench.txt",
            ],
            check=True,
        )
    return executable


def start(data_dir: Path) -> tuple[subprocess.Popen[bytes], LocalClient, float]:
    """Start the stack; return the process, a client of it and the seconds until the first 200."""
    api_port, aws_port = free_port(), free_port()
    url = f"http://127.0.0.1:{api_port}"
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "devkit.local", "start", "--port", str(api_port),
         "--aws-port", str(aws_port), "--data-dir", str(data_dir)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    while time.monotonic() - started < 60:
        try:
            probe = f"{url}/send?user=bench&message=Thanks%20a%20lot"
            with urllib.request.urlopen(probe, timeout=5) as answer:  # noqa: S310 (our own http URL)
                if answer.status == 200:
                    return (
                        process,
                        LocalClient(url, f"http://127.0.0.1:{aws_port}"),
                        time.monotonic() - started,
                    )
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the local stack did not answer within 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)


def within_an_hour(text: str) -> int:
    seconds = int(text)
    if not 0 < seconds < 3600:
        raise argparse.ArgumentTypeError("between 1 and 3599 seconds (the users' ID tokens last an hour)")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument(
        "--seconds", type=within_an_hour, default=30, help="under 3600: the ID tokens last an hour"
    )
    arguments = parser.parse_args()
    executable = locust()

    startups = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as data:
            process, _, seconds = start(Path(data))
            startups.append(seconds)
            stop(process)

    with tempfile.TemporaryDirectory() as data:
        process, client, _ = start(Path(data))
        try:
            tokens = [client.id_token(f"load-{n}") for n in range(USERS)]
            prefix = Path(data) / "load"
            subprocess.run(  # noqa: S603
                [executable, "-f", ROOT / "bench/locustfile.py", "--headless", "--only-summary",
                 "-u", str(arguments.users), "-r", str(arguments.users), "-t", f"{arguments.seconds}s",
                 "--host", client.api_url, "--csv", prefix],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**os.environ, "PYTHONWARNINGS": "ignore", "LOAD_TOKENS": json.dumps(tokens)},
            )  # fmt: skip
            rows = list(csv.DictReader((prefix.parent / "load_stats.csv").open()))
        finally:
            stop(process)

    print(f"local stack, {os.cpu_count()} cores, locust {arguments.users} users for {arguments.seconds} s")
    startup = statistics.median(startups)
    print(f"  start-up to first 200: median {startup:.2f} s of {len(startups)} (target <= 5 s)")
    print(f"  {'route':16} {'requests':>9} {'failures':>9} {'p50 ms':>7} {'p99 ms':>7} {'req/s':>7}")
    for row in rows:
        print(
            f"  {row['Name']:16} {row['Request Count']:>9} {row['Failure Count']:>9} {row['50%']:>7} "
            f"{row['99%']:>7} {float(row['Requests/s']):>7.1f}"
        )
    print("  targets: p50 <= 20 ms, p99 <= 100 ms")


if __name__ == "__main__":
    main()
