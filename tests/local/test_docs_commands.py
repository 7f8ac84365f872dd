"""Every shell block the front page and the guides show for the local stack, run against it.

A block is the local stack's when it talks to it (its ports, ``make token``, ``make send``). It is
run by bash as a developer pastes it, with three changes only: the stack's ports and data folder
for the defaults (3000, 3001, ``.local/``), and ``curl`` made to fail on an HTTP error, so that a
command whose route, body or flag has drifted fails here. ``make rehearse`` lines are the
rehearsal's, run by its own tests.
"""

import os
import re
import subprocess

import pytest

from devkit.template import ROOT
from tests.support.local_stack import RunningStack

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(?:bash|sh|shell)\n(.*?)^```", re.S | re.M)
LOCAL = re.compile(r":300[01]\b|make -s token|make token|make send")


def local_blocks() -> list[tuple[str, str]]:
    blocks = []
    for page in PAGES:
        text = page.read_text()
        for match in BLOCK.finditer(text):
            body = match.group(1)
            if LOCAL.search(body) and "make start" not in body:  # make start is the stack itself
                line = text[: match.start()].count("\n") + 1
                blocks.append((f"{page.relative_to(ROOT)}:{line}", body))
    return blocks


def as_run_here(body: str, stack: RunningStack) -> str:
    lines = [line for line in body.splitlines() if not line.startswith("make rehearse")]
    script = "\n".join(lines)
    script = script.replace(":3000", f":{stack.api_port}").replace(":3001", f":{stack.aws_port}")
    script = script.replace(".local/", f"{stack.data_dir}/")
    script = re.sub(r"\bcurl -s\b", "curl -sS --fail-with-body", script)
    return "shopt -s expand_aliases\nset -euo pipefail\n" + script + "\n"


BLOCKS = local_blocks()


def test_the_guides_show_commands_for_the_local_stack() -> None:
    # The front page and the local development guide each show some; a parser that finds none
    # would make the test below vacuous.
    pages = {name.split(":")[0] for name, _ in BLOCKS}

    assert {"README.md", "docs/local-development.md"} <= pages


@pytest.mark.parametrize(("where", "body"), BLOCKS, ids=[where for where, _ in BLOCKS])
def test_each_shown_command_runs_against_the_local_stack(stack: RunningStack, where: str, body: str) -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")} | {
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "AWS_PORT": str(stack.aws_port),
        "PORT": str(stack.api_port),
    }
    result = subprocess.run(  # noqa: S603 (the guides' own commands)
        ["bash", "-c", as_run_here(body, stack)],  # noqa: S607 (bash from PATH, as a developer runs them)
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, (
        f"{where}:\n{body}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )


def test_a_drifted_command_fails_here(stack: RunningStack) -> None:
    # The check itself: a route the API does not have is an error, not a quiet 404 body.
    script = as_run_here("curl -s localhost:3000/no-such-route", stack)

    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)  # noqa: S603, S607

    assert result.returncode != 0
