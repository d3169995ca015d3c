#!/usr/bin/env python3
"""`cordon scan` of a real lockfile, cold and with a warm cache.

Scans `benches/lockfile/package-lock.json` (the lockfile npm resolved
for express, webpack, eslint, jest and typescript: 448 packages) from
the real npm registry twice with one fresh cache directory: the first
run starts from an empty cache, fetches and scans every package and
fills the cache; the second finds every package there by the
lockfile's `integrity` and needs no network. Prints wall time and
packages per second for both, and the ratio.

This is a benchmark, not a test: it downloads from the registry that
`--npm-registry` (or CORDON_NPM_REGISTRY) names, and does not run in CI.

    benches/lockfile/bench.py [--cordon PATH] [--jobs N] [--warm-runs N]

Without `--cordon`, it builds the release binary first.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def main():
    args = parse_args()
    cordon = args.cordon or build_cordon()
    with tempfile.TemporaryDirectory(prefix="cordon-bench-") as scratch:
        scratch = Path(scratch)
        project = scratch / "project"
        project.mkdir()
        # A copy, so that nothing beside the fixture (a node_modules)
        # is read instead of downloaded.
        shutil.copy(HERE / "package-lock.json", project)
        cache = scratch / "cache"
        base = [str(cordon), "scan", "--format", "jsonl", "--quiet",
                "--cache-dir", str(cache)]
        if args.jobs:
            base += ["--jobs", str(args.jobs)]

        cold = run(base, project)
        warm = [run(base, project) for _ in range(args.warm_runs)]
    report(cold, warm)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cordon", type=Path,
                        help="the cordon binary (default: build release)")
    parser.add_argument("--jobs", type=int,
                        help="passed to cordon scan --jobs")
    parser.add_argument("--warm-runs", type=int, default=3,
                        help="warm runs; the median is reported")
    return parser.parse_args()


def build_cordon():
    subprocess.run(["cargo", "build", "--release", "-p", "cordon"],
                   cwd=ROOT, check=True)
    return ROOT / "target" / "release" / "cordon"


def run(command, cwd):
    """Runs one scan; returns wall seconds and the package entries."""
    start = time.monotonic()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if done.returncode not in (0, 1, 2):
        sys.exit(f"cordon failed ({done.returncode}): {done.stderr}")
    packages = [json.loads(line) for line in done.stdout.splitlines()]
    return {"seconds": seconds, "packages": packages}


def describe(label, result):
    count = len(result["packages"])
    errors = sum(1 for p in result["packages"] if p["error"])
    flagged = sum(1 for p in result["packages"]
                  if p["verdict"] in ("suspicious", "malicious"))
    rate = count / result["seconds"] if result["seconds"] else float("inf")
    print(f"{label:5} {count} packages in {result['seconds']:7.2f} s: "
          f"{rate:8.1f} packages/s ({errors} errors, {flagged} flagged)")
    return rate


def report(cold, warm):
    cold_rate = describe("cold", cold)
    warm.sort(key=lambda r: r["seconds"])
    median = warm[len(warm) // 2]
    warm_rate = describe("warm", median)
    print(f"warm/cold: {warm_rate / cold_rate:.1f}x packages per second "
          f"(median of {len(warm)} warm runs)")
    same = ([p["verdict"] for p in cold["packages"]]
            == [p["verdict"] for p in median["packages"]])
    if not same:
        # JSON lines come in the order packages finish; compare by target.
        by_target = {p["target"]: p["verdict"] for p in cold["packages"]}
        same = all(by_target.get(p["target"]) == p["verdict"]
                   for p in median["packages"])
    print("verdicts agree" if same else "verdicts DIFFER between runs")


if __name__ == "__main__":
    main()
