#!/usr/bin/env python3
"""CPU cost of recording what a command does: cordon's monitor next to
strace and a bare run.

Two workloads, each run three ways, interleaved so that a busy machine
hurts each the same:

  files    /usr/bin/python3 opening and reading each of 20 000 small
           files the benchmark writes into its workspace first
  install  `python -m pip install --no-index --no-build-isolation
           --no-deps --force-reinstall` of a small sdist the benchmark
           builds first (setup.py sdist), into a venv made once with
           the system's site packages; offline

  bare     the workload alone
  cordon   cordon run -q --report FILE -- WORKLOAD: every layer and the
           monitor, which records every open, exec, connect (and the
           other watched calls)
  strace   strace -f --seccomp-bpf -e trace=openat,execve,connect
           -o /dev/null -- WORKLOAD
  sandbox  cordon run -q --monitor off -- WORKLOAD: what the sandbox
           alone costs, so that the monitor's share shows

The files are in cordon's workspace, so cordon's walk of it before and
after the run (to report what changed) is part of its cost.

CPU is user plus system time of the whole process tree (os.wait4 on the
process started: cordon's threads, its sandbox and the command; strace
and what it traced). The benchmark prints the median per way and the
multiples of bare, and checks that cordon's events (one more run with
`--events`, lines counted by type) hold at least the opens, execs and
connects strace saw in one traced run of the same workload (`strace -f
-e trace=open,openat,openat2,creat,execve,connect`, successful and
failed calls alike); the sandbox's own environment (a hidden home)
can make the two differ by a few. Targets: cordon at most
x1.5 on files, x1.1 on install.

    benches/run/strace.py [--runs N] [--cordon PATH] [--no-build]
                          [--only files|install]

Without `--cordon` it builds `target/release/cordon` first. As root it
installs Debian's `strace` when it is missing.
"""

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import build_cordon, ensure_tool

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"
FILES = 20_000
STRACE_FLAGS = ["-f", "--seccomp-bpf", "-e", "trace=openat,execve,connect",
                "-o", "/dev/null"]
COUNT_FLAGS = ["-f", "-e", "trace=open,openat,openat2,creat,execve,connect"]

READ_FILES = """
import os, sys
n = 0
for root, dirs, names in os.walk(sys.argv[1]):
    for name in names:
        with open(os.path.join(root, name), 'rb') as f:
            n += len(f.read())
print(n)
"""

SETUP_PY = """
from setuptools import setup
setup(name='cordon-bench-pkg', version='1.0', packages=['cordon_bench_pkg'])
"""


def main():
    args = parse_args()
    cordon = args.cordon or build_cordon(args.no_build)
    strace = ensure_strace()
    work = Path(tempfile.mkdtemp(prefix="cordon-strace-",
                                 dir=ROOT / "target"))
    try:
        workloads = prepare(work, args.only)
        for name, argv in workloads.items():
            measure(name, argv, cordon, strace, work, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7,
                        help="runs of each way (at least 3)")
    parser.add_argument("--cordon", type=Path,
                        help="a cordon binary (default: build release)")
    parser.add_argument("--no-build", action="store_true",
                        help="use target/release/cordon as it is")
    parser.add_argument("--only", choices=["files", "install"])
    args = parser.parse_args()
    args.runs = max(args.runs, 3)
    return args




def ensure_strace():
    found = ensure_tool("strace", "strace")
    if not found:
        sys.exit("bench: strace is missing and we are not root")
    return found


def prepare(work, only):
    """Writes the files, builds the sdist and the venv; returns each
    workload's argv, to run in `work`."""
    workloads = {}
    if only in (None, "files"):
        files = work / "files"
        for i in range(FILES):
            folder = files / f"{i // 500:03}"
            if i % 500 == 0:
                folder.mkdir(parents=True)
            (folder / f"f{i}.txt").write_text(f"file {i}\n" * 4)
        (work / "read.py").write_text(READ_FILES)
        workloads["files"] = [PYTHON, "read.py", "files"]
    if only in (None, "install"):
        project = work / "project"
        package = project / "cordon_bench_pkg"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("VALUE = 1\n")
        for i in range(20):
            (package / f"m{i}.py").write_text(f"X = {i}\n")
        (project / "setup.py").write_text(SETUP_PY)
        quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([PYTHON, "setup.py", "-q", "sdist", "-d",
                        str(work / "dist")], cwd=project, check=True,
                       **quiet)
        sdist = next((work / "dist").glob("*.tar.gz"))
        subprocess.run([PYTHON, "-m", "venv", "--without-pip",
                        "--system-site-packages", "venv"], cwd=work,
                       check=True)
        workloads["install"] = [
            "venv/bin/python", "-m", "pip", "install", "--no-index",
            "--no-build-isolation", "--no-deps", "--force-reinstall",
            "--disable-pip-version-check", "-q", str(sdist.relative_to(work)),
        ]
    return workloads


def ways(argv, cordon, strace, report):
    return {
        "bare": argv,
        "cordon": [str(cordon), "run", "-q", "--report", str(report), "--"]
        + argv,
        "sandbox": [str(cordon), "run", "-q", "--monitor", "off", "--"]
        + argv,
        "strace": [strace] + STRACE_FLAGS + ["--"] + argv,
    }


def cpu_of(argv, work):
    """Runs `argv` in `work`; returns the user+system seconds of its
    whole tree, failing on a non-zero exit."""
    process = subprocess.Popen(argv, cwd=work, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"bench: {' '.join(argv[:3])}... failed with "
                 f"{process.returncode}:\n{stderr.decode(errors='replace')}")
    return usage.ru_utime + usage.ru_stime


def traced_counts(argv, strace, work):
    """How many opens, execs and connects one traced run makes."""
    log = work / "strace.log"
    subprocess.run([strace] + COUNT_FLAGS + ["-o", str(log), "--"] + argv,
                   cwd=work, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    counts = {"opens": 0, "execs": 0, "connects": 0}
    call = re.compile(r"^\d+\s+(?:<\.\.\. )?(\w+)")
    for line in log.read_text(errors="replace").splitlines():
        match = call.match(line)
        if not match or "resumed>" in line:
            continue
        name = match.group(1)
        if name in ("open", "openat", "openat2", "creat"):
            counts["opens"] += 1
        elif name == "execve":
            counts["execs"] += 1
        elif name == "connect":
            counts["connects"] += 1
    log.unlink()
    return counts


def cordon_counts(argv, cordon, work):
    """How many opens, execs and connects cordon records in one run
    that writes its events, lines counted by type and call."""
    lines = work / "events.jsonl"
    subprocess.run([str(cordon), "run", "-q", "--events", str(lines), "--"]
                   + argv, cwd=work, check=True, stdout=subprocess.DEVNULL)
    counts = {"opens": 0, "execs": 0, "connects": 0}
    with open(lines) as events:
        for line in events:
            event = json.loads(line)
            kind, call = event["type"], event.get("syscall")
            if kind == "file" and call in ("open", "openat", "openat2",
                                           "creat"):
                counts["opens"] += 1
            elif kind == "exec":
                counts["execs"] += 1
            elif kind == "network" and call == "connect":
                counts["connects"] += 1
    lines.unlink()
    return counts


def measure(name, argv, cordon, strace, work, runs):
    report = work / "report.json"
    commands = ways(argv, cordon, strace, report)
    for argv_way in commands.values():
        cpu_of(argv_way, work)  # warm the caches
    times = {way: [] for way in commands}
    order = list(commands)
    for _ in range(runs):
        random.shuffle(order)
        for way in order:
            times[way].append(cpu_of(commands[way], work))

    seen = traced_counts(argv, strace, work)
    got = cordon_counts(argv, cordon, work)
    medians = {way: statistics.median(v) for way, v in times.items()}
    target = {"files": 1.5, "install": 1.1}[name]
    print(f"{name}: {runs} runs each, interleaved; CPU seconds (user+sys)")
    for way, values in times.items():
        print(f"  {way:8}median {medians[way]:7.3f}  min {min(values):7.3f}"
              f"  x{medians[way] / medians['bare']:.2f}")
    ratio = medians["cordon"] / medians["bare"]
    print(f"  cordon x{ratio:.2f} (target x{target}): "
          + ("met" if ratio <= target else "NOT met")
          + f"; strace x{medians['strace'] / medians['bare']:.2f}")
    complete = all(got[k] >= seen[k] for k in seen)
    print(f"  strace saw {seen['opens']} opens, {seen['execs']} execs, "
          f"{seen['connects']} connects; cordon recorded {got['opens']}, "
          f"{got['execs']}, {got['connects']}: "
          + ("all recorded" if complete else "fewer (see above)"))


if __name__ == "__main__":
    main()
