#!/usr/bin/env python3
"""Start-up cost of `cordon run` next to bubblewrap and a bare process.

Runs `/bin/true` three or four ways, interleaved so that a busy machine
hurts each the same, and prints the median and 90th percentile of the
wall-clock time per run, and the ratios cordon/bwrap and cordon/bare:

  bare            /bin/true, nothing around it
  bwrap           bwrap --unshare-all --ro-bind / / --tmpfs /tmp
                  --tmpfs $HOME --bind $PWD $PWD --proc /proc --dev /dev
                  --cap-drop ALL --new-session --die-with-parent
                  --seccomp FD  (a deny-list of the same system calls as
                  cordon's, by number, without cordon's argument checks
                  on clone, ioctl and personality)
  cordon          cordon run -q -- /bin/true: every layer, no limits
  cordon+limits   the same with --memory 256M --pids 256, so that the
                  cgroup layer is used too (bwrap has no equivalent)
  cordon-net      cordon run -q --net host: not a fair comparison, but
                  the difference with `cordon` is what the private
                  network namespace costs
  namespaces      unshare --user --map-root-user --mount --net --pid
                  --ipc --uts --fork /bin/true (util-linux): the
                  kernel's cost of the namespaces alone, with nothing
                  mounted, filtered or watched inside; a floor for any
                  sandbox that makes them (left out without unshare)

Every time includes Python starting the process and waiting for it,
which `bare` measures on its own. The target is a cordon median of at
most 3 ms and at most 0.6 times bwrap's.

    benches/run/bench.py [--runs N] [--cordon PATH] [--no-build]

Without `--cordon` it builds `target/release/cordon` first. As root it
installs Debian's `bubblewrap` when `bwrap` is missing; otherwise bwrap
is left out and said so.
"""

import argparse
import os
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import build_cordon, ensure_tool

ROOT = Path(__file__).resolve().parents[2]

# The system calls cordon's filter refuses outright (x86_64 numbers).
DENIED = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
    "mount": 165, "umount2": 166, "pivot_root": 155, "unshare": 272,
    "setns": 308, "clone3": 435, "keyctl": 250, "add_key": 248,
    "request_key": 249, "bpf": 321, "perf_event_open": 298,
    "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "kexec_load": 246, "kexec_file_load": 320,
    "init_module": 175, "finit_module": 313, "open_by_handle_at": 304,
}
AUDIT_ARCH_X86_64 = 0xC000003E
EPERM = 1


def main():
    args = parse_args()
    cordon = (args.cordon.resolve() if args.cordon
              else build_cordon(args.no_build))
    bwrap = ensure_bwrap()
    work = Path(tempfile.mkdtemp(prefix="cordon-bench-",
                                 dir=ROOT / "target"))
    filter_path = work / "seccomp.bpf"
    filter_path.write_bytes(seccomp_filter())
    home = os.environ.get("HOME", "/root")

    commands = {
        "bare": (["/bin/true"], None),
        "cordon": ([str(cordon), "run", "-q", "--", "/bin/true"], None),
        "cordon+limits": ([str(cordon), "run", "-q", "--memory", "256M",
                           "--pids", "256", "--", "/bin/true"], None),
        "cordon-net": ([str(cordon), "run", "-q", "--net", "host", "--",
                        "/bin/true"], None),
    }
    if bwrap:
        commands["bwrap"] = (bwrap_command(bwrap, work, home), filter_path)
    unshare = shutil.which("unshare")
    if unshare:
        commands["namespaces"] = ([unshare, "--user", "--map-root-user",
                                   "--mount", "--net", "--pid", "--ipc",
                                   "--uts", "--fork", "/bin/true"], None)

    for name, (argv, seccomp) in commands.items():
        check(name, argv, seccomp, work)
    times = {name: [] for name in commands}
    order = list(commands)
    for _ in range(args.runs):
        random.shuffle(order)
        for name in order:
            argv, seccomp = commands[name]
            times[name].append(run_once(argv, seccomp, work))
    shutil.rmtree(work, ignore_errors=True)
    report(times, cordon, bwrap, args.runs)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200,
                        help="runs of each command (at least 100)")
    parser.add_argument("--cordon", type=Path,
                        help="a cordon binary (default: build release)")
    parser.add_argument("--no-build", action="store_true",
                        help="use target/release/cordon as it is")
    args = parser.parse_args()
    args.runs = max(args.runs, 100)
    return args




def ensure_bwrap():
    found = ensure_tool("bwrap", "bubblewrap")
    if not found:
        print("bench: bwrap is missing and we are not root: left out")
    return found


def bwrap_command(bwrap, work, home):
    return [bwrap, "--unshare-all", "--ro-bind", "/", "/",
            "--tmpfs", "/tmp", "--tmpfs", home,
            "--bind", str(work), str(work),
            "--proc", "/proc", "--dev", "/dev", "--cap-drop", "ALL",
            "--new-session", "--die-with-parent", "--seccomp", "{fd}",
            "--", "/bin/true"]


def seccomp_filter():
    """A classic BPF program: kill on another architecture, refuse x32
    and the denied calls with EPERM, allow the rest."""
    def stmt(code, k):
        return struct.pack("HBBI", code, 0, 0, k)

    def jump(code, k, jt, jf):
        return struct.pack("HBBI", code, jt, jf, k)

    ld_w_abs, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    kill, allow = 0x80000000, 0x7FFF0000
    errno = 0x00050000 | EPERM
    program = [
        stmt(ld_w_abs, 4),  # arch
        jump(jeq, AUDIT_ARCH_X86_64, 1, 0),
        stmt(ret, kill),
        stmt(ld_w_abs, 0),  # nr
        jump(jge, 0x40000000, len(DENIED) + 1, 0),  # x32
    ]
    for number in DENIED.values():
        program.append(jump(jeq, number, len(DENIED) - len(program) + 5, 0))
    program.append(stmt(ret, allow))
    program.append(stmt(ret, errno))
    return b"".join(program)


def spawn(argv, seccomp, work):
    if seccomp is None:
        return subprocess.run(argv, cwd=work, stdin=subprocess.DEVNULL,
                              capture_output=True, check=False)
    with open(seccomp, "rb") as program:
        fd = program.fileno()
        argv = [a.replace("{fd}", str(fd)) for a in argv]
        return subprocess.run(argv, cwd=work, stdin=subprocess.DEVNULL,
                              capture_output=True, pass_fds=(fd,),
                              check=False)


def check(name, argv, seccomp, work):
    done = spawn(argv, seccomp, work)
    if done.returncode != 0:
        sys.exit(f"bench: {name} failed with {done.returncode}:\n"
                 f"{done.stderr.decode(errors='replace')}")


def run_once(argv, seccomp, work):
    start = time.perf_counter_ns()
    done = spawn(argv, seccomp, work)
    elapsed = time.perf_counter_ns() - start
    if done.returncode != 0:
        sys.exit(f"bench: {argv[0]} failed with {done.returncode}")
    return elapsed / 1e6


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(times, cordon, bwrap, runs):
    print(f"{runs} runs each, interleaved; cordon {cordon}, "
          f"bwrap {bwrap or 'left out'}")
    print(f"{'':16}{'median ms':>10}{'p90 ms':>10}")
    medians = {}
    for name, values in times.items():
        medians[name] = statistics.median(values)
        print(f"{name:16}{medians[name]:10.2f}"
              f"{percentile(values, 0.9):10.2f}")
    for name in ("cordon", "cordon+limits"):
        line = f"{name}/bare {medians[name] / medians['bare']:.2f}"
        if "bwrap" in medians:
            line += f", {name}/bwrap {medians[name] / medians['bwrap']:.2f}"
        print(line)
    if "namespaces" in medians:
        print(f"namespaces/bare {medians['namespaces'] / medians['bare']:.2f}"
              ": the floor of namespaces alone")
    target_ok = medians["cordon"] <= 3.0 and (
        "bwrap" not in medians or medians["cordon"] <= 0.6 * medians["bwrap"])
    print("target (cordon median <= 3 ms and <= 0.6 x bwrap): "
          + ("met" if target_ok else "NOT met"))


if __name__ == "__main__":
    main()
