"""Build the static site into _build/html from scratch, with Sphinx warnings as errors.

    make book

A fresh build (``--all``) every time: an incremental build would only report the warnings
of pages that changed, and a warning is an error here.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build(root: Path = ROOT) -> int:
    """Run jupyter-book on ``root``; return its exit code."""
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(root), "--all", "--builder", "html", "-W", "--keep-going"]
    return subprocess.run(cmd, cwd=root).returncode


if __name__ == "__main__":
    sys.exit(build())
