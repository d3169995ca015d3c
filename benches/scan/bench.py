#!/usr/bin/env python3
"""Side-by-side cost of `cordon scan` and GuardDog on the same packages.

Scans a sample of the malware corpus and of the benign corpus, one
package per process, with cordon and with GuardDog 3.2.0 interleaved, and
prints CPU seconds per package and peak memory (medians), and the ratio.

GuardDog runs offline: under `unshare -n` (it tries to refresh its
popularity lists at start) and with its own sandbox off, since the
network namespace already keeps it in. Neither tool runs package code.

    benches/scan/bench.py [--sample N] [--corpus DIR] [--guarddog PATH]
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "corpus"


def main():
    args = parse_args()
    cordon = build_cordon()
    guarddog = ensure_guarddog(args.guarddog)
    packages = sample(args)
    print(f"{len(packages)} packages, cordon {cordon}, guarddog {guarddog}")

    rows = []
    for ecosystem, path in packages:
        ours = measure([str(cordon), "scan", "--no-cache", "--format", "json", str(path)])
        theirs = measure(guarddog_command(guarddog, ecosystem, path))
        rows.append((ecosystem, path.name, ours, theirs))
    report(rows)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", type=int, default=30,
                        help="packages from each corpus (0: all)")
    parser.add_argument("--corpus", type=Path,
                        default=Path.home() / ".cache" / "cordon-corpus",
                        help="where fetch-benign.sh put the benign corpus")
    parser.add_argument("--guarddog", type=Path,
                        default=Path.home() / ".cache" / "cordon-guarddog",
                        help="a venv for GuardDog (made when missing)")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


def build_cordon():
    subprocess.run(["cargo", "build", "--release", "-p", "cordon"],
                   cwd=ROOT, check=True)
    return ROOT / "target" / "release" / "cordon"


def ensure_guarddog(venv):
    exe = venv / "bin" / "guarddog"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q",
                        "guarddog==3.2.0"], check=True)
    return exe


def sample(args):
    rng = random.Random(args.seed)
    malware = [("pypi", p) for p in malware_files()]
    benign = [(eco, p) for eco, p in benign_files(args.corpus)
              if eco in ("pypi", "npm")]
    if not benign:
        sys.exit(f"no benign packages under {args.corpus}: run "
                 f"{SHARED}/fetch-benign.sh {args.corpus}")
    chosen = []
    for group in (malware, benign):
        if args.sample and len(group) > args.sample:
            group = rng.sample(group, args.sample)
        chosen.extend(group)
    rng.shuffle(chosen)
    return chosen


def malware_files():
    root = SHARED / "pypi-malware-dev"
    lines = (root / "MANIFEST.tsv").read_text().splitlines()[1:]
    return [root / line.split("\t")[2] for line in lines if line.strip()]


def benign_files(corpus):
    for path in sorted(corpus.rglob("*")):
        if path.is_file():
            yield path.relative_to(corpus).parts[0], path


def guarddog_command(guarddog, ecosystem, path):
    return ["unshare", "-n", str(guarddog), ecosystem, "scan",
            "--no-sandbox", "--output-format", "json", str(path)]


def measure(command):
    """CPU seconds (user + system) and peak RSS in MiB of one command."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def report(rows):
    def median(values):
        return statistics.median(values) if values else float("nan")

    for label, ecosystems in (("all", None), ("pypi", {"pypi"}),
                              ("npm", {"npm"})):
        picked = [r for r in rows if not ecosystems or r[0] in ecosystems]
        if not picked:
            continue
        ours_cpu = median([r[2][0] for r in picked])
        theirs_cpu = median([r[3][0] for r in picked])
        ours_mem = median([r[2][1] for r in picked])
        theirs_mem = median([r[3][1] for r in picked])
        print(f"{label:5} n={len(picked):4}  CPU s/package: cordon "
              f"{ours_cpu:.4f}  guarddog {theirs_cpu:.3f}  ratio "
              f"{theirs_cpu / ours_cpu:6.1f}x   peak MiB: cordon "
              f"{ours_mem:.1f} (max {max(r[2][1] for r in picked):.1f})  "
              f"guarddog {theirs_mem:.1f}")


if __name__ == "__main__":
    main()
