"""What the Makefile's local-stack targets run, read with ``make -n`` (nothing is run)."""

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def planned(*arguments: str, environment: dict[str, str] | None = None) -> str:
    """The last command ``make -n`` prints for ``arguments``: the target's own."""
    result = subprocess.run(  # noqa: S603 (the test's own arguments)
        ["make", "-s", "-n", *arguments],  # noqa: S607 (make from PATH, as a developer runs it)
        cwd=ROOT,
        env={**os.environ, **(environment or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("arguments", "environment", "user"),
    [
        (["token"], {"USER": "someone-at-the-shell"}, "alice"),  # the shell's USER is not the default
        (["token", "AS=bob"], {"USER": "someone-at-the-shell"}, "bob"),
        (["token", "USER=carol"], {}, "carol"),  # spelled on the command line, it is meant
    ],
)
def test_make_token_signs_in_the_user_asked_for_or_alice(
    arguments: list[str], environment: dict[str, str], user: str
) -> None:
    command = planned(*arguments, environment=environment)

    assert re.search(rf"-m devkit\.local token --aws-port \d+ '{user}'$", command), command
