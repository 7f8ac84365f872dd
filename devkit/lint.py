"""Lint template.yaml as written and as CloudFormation receives it.

cfn-lint (1.54 and later) checks SAM resources without expanding them, so rules about the
generated resources (E3505, the serverless rules on functions and queues) fire only on the
expanded template: both are linted, with the serverless rules (cfn-lint-serverless).
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from devkit.template import ROOT, expand, load_template

# Findings about what the transform writes, not what we wrote: DependsOn entries that a Ref already
# implies (W3005), and mappings it inlines into the deployment groups (W7001).
EXPANDED_ONLY_IGNORES = ["W3005", "W7001"]


def lint(template_path: Path) -> int:
    """Run cfn-lint on the source and the expanded template, then ``sam validate --lint``."""
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as folder:
        expanded = Path(folder) / "expanded.json"
        expanded.write_text(json.dumps(expand(load_template(template_path)), indent=1, default=str))
        checks = [
            [str(bin_dir / "cfn-lint"), str(template_path), "-a", "cfn_lint_serverless.rules"],
            [
                str(bin_dir / "cfn-lint"),
                str(expanded),
                "--ignore-checks",
                *EXPANDED_ONLY_IGNORES,
                "-a",
                "cfn_lint_serverless.rules",
            ],
            [str(bin_dir / "sam"), "validate", "--lint", "--template-file", str(template_path)],
        ]
        failed = 0
        for command in checks:
            print("+", " ".join(Path(part).name if part.startswith("/") else part for part in command))
            failed |= subprocess.run(command, cwd=ROOT, check=False).returncode  # noqa: S603
    return failed


if __name__ == "__main__":
    sys.exit(lint(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "template.yaml"))
