"""The two trees a rehearsal compares: the released version and the candidate, exported from git."""

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from devkit.template import ROOT

WORKING_TREE = "worktree"


class ExportFailed(Exception):
    """A tree could not be exported (an unknown ref, not a git checkout)."""


def _git(*arguments: str) -> bytes:
    try:
        return subprocess.run(["git", *arguments], cwd=ROOT, check=True, capture_output=True).stdout  # noqa: S603, S607
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        raise ExportFailed(
            f"git {' '.join(arguments)}: {detail.decode(errors='replace').strip() or error}"
        ) from error


def revision() -> str:
    """The checkout's commit, ``+worktree`` when tracked files have uncommitted changes."""
    dirty = _git("status", "--porcelain", "--untracked-files=no").strip()
    return _git("rev-parse", "--short=12", "HEAD").decode().strip() + ("+worktree" if dirty else "")


def export(ref: str, destination: Path) -> str:
    """Write ``ref`` (a commit, tag or branch; ``worktree`` for the working tree) to ``destination``.

    The working tree is its tracked and untracked files that git does not ignore, as they are on
    disk. Returns what was exported: the commit, or ``worktree``.
    """
    if destination.exists():
        shutil.rmtree(destination)
    destination.mkdir(parents=True)
    if ref == WORKING_TREE:
        for name in _git("ls-files", "--cached", "--others", "--exclude-standard", "-z").decode().split("\0"):
            source = ROOT / name
            if name and source.is_file():
                target = destination / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        return WORKING_TREE
    commit = _git("rev-parse", "--verify", f"{ref}^{{commit}}").decode().strip()
    with tempfile.TemporaryFile() as archive:
        archive.write(_git("archive", "--format=tar", commit))
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(destination, filter="data")
    return commit
