"""What the run benchmarks share: a release build of cordon, and Debian
tools installed on demand."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def build_cordon(no_build):
    """Builds `target/release/cordon` unless `no_build`; returns it."""
    binary = ROOT / "target" / "release" / "cordon"
    if not no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "cordon"],
                       cwd=ROOT, check=True)
    if not binary.exists():
        sys.exit(f"bench: no {binary}")
    return binary


def ensure_tool(command, package):
    """The path of `command`, installing Debian's `package` when it is
    missing and we are root; None when it cannot be had."""
    found = shutil.which(command)
    if found or os.geteuid() != 0:
        return found
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "-qq", package],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    return shutil.which(command)
