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
  floor    notify_floor WORKLOAD: the workload under a seccomp filter
           that sends its opens, execs and connects to a supervisor
           which answers each at once and records nothing (the C
           program beside this script, built with the system's cc;
           left out without one). The kernel's round trip alone: no
           monitor that stops each call goes below it

The files are in cordon's workspace, so cordon's walk of it before and
after the run (to report what changed) is part of its cost.

CPU is user plus system time of the whole process tree (os.wait4 on the
process started: cordon's threads, its sandbox and the command; strace
and what it traced). The benchmark prints the median per way and the
multiples of bare. Then it checks that nothing escaped the record: one
more cordon run, with `--events`, under `strace -f -e
trace=open,openat,openat2,creat,execve,connect` and the calls that make
processes; the opens, execs and connects strace saw the command's own
process tree make (from its first exec on, successful and failed calls
alike) are compared with cordon's events of the same run, by type and
call. Targets: cordon at most x1.5 on files, x1.1 on install.

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
COUNT_FLAGS = ["-f", "-e", "trace=open,openat,openat2,creat,execve,connect,"
               "clone,clone3,fork,vfork"]
FLOOR_SOURCE = Path(__file__).with_name("notify_floor.c")

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
    cordon = (args.cordon.resolve() if args.cordon
              else build_cordon(args.no_build))
    strace = ensure_strace()
    work = Path(tempfile.mkdtemp(prefix="cordon-strace-",
                                 dir=ROOT / "target"))
    try:
        workloads = prepare(work, args.only)
        floor = build_floor(work)
        for name, (argv, home) in workloads.items():
            measure(name, argv, (cordon, strace, floor), home, args.runs)
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




def build_floor(work):
    """Builds notify_floor.c into `work`; None without a C compiler."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        print("bench: no C compiler; the floor is left out")
        return None
    binary = work / "notify_floor"
    subprocess.run([compiler, "-O2", "-o", str(binary), str(FLOOR_SOURCE)],
                   check=True)
    return binary


def ensure_strace():
    found = ensure_tool("strace", "strace")
    if not found:
        sys.exit("bench: strace is missing and we are not root")
    return found


def prepare(work, only):
    """Writes the files, builds the sdist and the venv; returns each
    workload's argv and the folder to run it in. Each workload has a
    folder of its own: cordon's workspace holds only what it uses."""
    workloads = {}
    if only in (None, "files"):
        home = work / "files-workload"
        files = home / "files"
        for i in range(FILES):
            folder = files / f"{i // 500:03}"
            if i % 500 == 0:
                folder.mkdir(parents=True)
            (folder / f"f{i}.txt").write_text(f"file {i}\n" * 4)
        (home / "read.py").write_text(READ_FILES)
        workloads["files"] = ([PYTHON, "read.py", "files"], home)
    if only in (None, "install"):
        home = work / "install-workload"
        project = home / "project"
        package = project / "cordon_bench_pkg"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("VALUE = 1\n")
        for i in range(20):
            (package / f"m{i}.py").write_text(f"X = {i}\n")
        (project / "setup.py").write_text(SETUP_PY)
        quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([PYTHON, "setup.py", "-q", "sdist", "-d",
                        str(home / "dist")], cwd=project, check=True,
                       **quiet)
        sdist = next((home / "dist").glob("*.tar.gz"))
        subprocess.run([PYTHON, "-m", "venv", "--without-pip",
                        "--system-site-packages", "venv"], cwd=home,
                       check=True)
        workloads["install"] = ([
            "venv/bin/python", "-m", "pip", "install", "--no-index",
            "--no-build-isolation", "--no-deps", "--force-reinstall",
            "--disable-pip-version-check", "-q", str(sdist.relative_to(home)),
        ], home)
    return workloads


def ways(argv, tools, report):
    cordon, strace, floor = tools
    commands = {
        "bare": argv,
        "cordon": [str(cordon), "run", "-q", "--report", str(report), "--"]
        + argv,
        "sandbox": [str(cordon), "run", "-q", "--monitor", "off", "--"]
        + argv,
        "strace": [strace] + STRACE_FLAGS + ["--"] + argv,
    }
    if floor:
        commands["floor"] = [str(floor)] + argv
    return commands


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


def compared_counts(argv, cordon, strace, work):
    """One cordon run under strace: the opens, execs and connects strace
    saw the command's process tree make, and those cordon recorded."""
    log, lines = work / "strace.log", work / "events.jsonl"
    subprocess.run([strace] + COUNT_FLAGS + ["-o", str(log), "--",
                    str(cordon), "run", "-q", "--events", str(lines), "--"]
                   + argv, cwd=work, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    seen = traced_counts(log.read_text(errors="replace"), argv[0])
    got = cordon_counts(lines)
    log.unlink()
    lines.unlink()
    return seen, got


CALL = re.compile(r"^(\d+)\s+(?:<\.\.\. )?(\w+)")
RESULT = re.compile(r"= (\d+)(?: <[^>]*>)?$")
COUNTED = {"open": "opens", "openat": "opens", "openat2": "opens",
           "creat": "opens", "execve": "execs", "connect": "connects"}


def traced_counts(log, program):
    """The counted calls of the sandboxed processes, from the first exec
    of `program` on; a call strace split in two counts once.

    Cordon (the first process in the log) and what it makes, its threads
    and the sandbox's init, are left out. The clones inside the sandbox
    return pids of its own pid namespace, which name no process in the
    log, so every other process there is the command's tree.
    """
    counts = {"opens": 0, "execs": 0, "connects": 0}
    cordon = set()
    started = False
    first_exec = f'execve("{program}"'
    for line in log.splitlines():
        match = CALL.match(line)
        if not match:
            continue
        pid, name = int(match.group(1)), match.group(2)
        if not cordon:
            cordon.add(pid)
        if pid in cordon:
            child = RESULT.search(line)
            if name in ("clone", "clone3", "fork", "vfork") and child:
                cordon.add(int(child.group(1)))
            continue
        started = started or first_exec in line
        if started and name in COUNTED and "resumed>" not in line:
            counts[COUNTED[name]] += 1
    return counts


def cordon_counts(lines):
    """The counted calls among cordon's events, by type and call."""
    counts = {"opens": 0, "execs": 0, "connects": 0}
    with open(lines) as events:
        for line in events:
            event = json.loads(line)
            kind, call = event["type"], event.get("syscall")
            if kind == "file" and COUNTED.get(call) == "opens":
                counts["opens"] += 1
            elif kind == "exec":
                counts["execs"] += 1
            elif kind == "network" and call == "connect":
                counts["connects"] += 1
    return counts


def measure(name, argv, tools, work, runs):
    report = work / "report.json"
    commands = ways(argv, tools, report)
    for argv_way in commands.values():
        cpu_of(argv_way, work)  # warm the caches
    times = {way: [] for way in commands}
    order = list(commands)
    for _ in range(runs):
        random.shuffle(order)
        for way in order:
            times[way].append(cpu_of(commands[way], work))

    cordon, strace, _ = tools
    seen, got = compared_counts(argv, cordon, strace, work)
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
    if "floor" in medians:
        print(f"  floor x{medians['floor'] / medians['bare']:.2f}: the "
              "kernel's notification round trip alone")
    complete = all(got[k] >= seen[k] for k in seen)
    print(f"  in one run, strace saw the command make {seen['opens']} "
          f"opens, {seen['execs']} execs, {seen['connects']} connects; "
          f"cordon recorded {got['opens']}, {got['execs']}, "
          f"{got['connects']}: "
          + ("all recorded" if complete else "SOME MISSING"))


if __name__ == "__main__":
    main()
