"""Lint the templates: the application as written and as CloudFormation receives it, and the pipeline.

cfn-lint (1.54 and later) checks SAM resources without expanding them, so rules about the
generated resources (the serverless rules on functions and queues, for instance) fire only on the
expanded template: both are linted, with the serverless rules (cfn-lint-serverless).
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from devkit.template import ROOT, write_expanded

APPLICATION = ROOT / "template.yaml"
PIPELINE = ROOT / "pipeline" / "pipeline.yaml"
STAGE = ROOT / "pipeline" / "stage.yaml"
# Findings about what the transform writes, not what we wrote: DependsOn entries that a Ref already
# implies (W3005), mappings it inlines into the deployment groups (W7001), and parameters it
# consumes while expanding (W2001: the version digests become version names), which the lint of
# the template as written still checks for use.
EXPANDED_ONLY_IGNORES = ["W2001", "W3005", "W7001"]
# WS1004 (cfn-lint-serverless) finds a function's log group only by the name /aws/lambda/${Function};
# each function names its group in LoggingConfig.LogGroup instead, so that the group exists before
# the function runs (tests/template/test_application.py checks the group and its retention).
APPLICATION_IGNORES = ["WS1004"]


def lint() -> int:
    """Run every check; return non-zero if any failed."""
    tools = Path(sys.executable).parent
    cfn_lint, sam = str(tools / "cfn-lint"), str(tools / "sam")
    with tempfile.TemporaryDirectory() as folder:
        expanded = Path(folder) / "expanded.json"
        write_expanded(expanded, APPLICATION)
        checks = [
            [
                cfn_lint,
                str(APPLICATION),
                "--ignore-checks",
                *APPLICATION_IGNORES,
                "-a",
                "cfn_lint_serverless.rules",
            ],
            [
                cfn_lint,
                str(expanded),
                "--ignore-checks",
                *EXPANDED_ONLY_IGNORES,
                *APPLICATION_IGNORES,
                "-a",
                "cfn_lint_serverless.rules",
            ],
            [sam, "validate", "--lint", "--template-file", str(APPLICATION)],
            [cfn_lint, str(PIPELINE)],
            [cfn_lint, str(STAGE)],
        ]
        failed = 0
        for command in checks:
            print(
                "+",
                " ".join(Path(part).name if part.startswith("/") else part for part in command),
                flush=True,
            )
            failed |= subprocess.run(command, cwd=ROOT, check=False).returncode  # noqa: S603
    return failed


if __name__ == "__main__":
    sys.exit(lint())
