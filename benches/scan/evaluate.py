#!/usr/bin/env python3
"""How well `cordon scan` separates the malware corpus from the benign one.

Scans every release of `../shared/corpus/pypi-malware-dev` (read as bytes
by cordon; nothing here opens, unpacks or runs them) and every package of
the benign corpus that `../shared/corpus/fetch-benign.sh` downloaded, and
prints:

- recall: the share of malicious releases flagged (`suspicious` or
  `malicious`);
- the false-positive rate of the benign corpus, per ecosystem;
- CPU seconds per package (user + system of the cordon processes);
- every miss and every false positive, with the rules that fired.

    benches/scan/evaluate.py [--cordon PATH] [--corpus DIR] [--quiet]

Without `--cordon` it builds and uses the release binary.
"""

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "corpus"
BATCH = 100


def main():
    args = parse_args()
    cordon = args.cordon or build_cordon()
    malware = malware_targets()
    benign = benign_targets(args.corpus)
    if not benign:
        sys.exit(f"no benign packages under {args.corpus}: run "
                 f"{SHARED}/fetch-benign.sh {args.corpus}")

    mal_entries, mal_cpu = scan(cordon, [t for t, _ in malware])
    ben_entries, ben_cpu = scan(cordon, [t for t, _ in benign])
    ecosystems = [e for _, e in benign]

    report_malware(mal_entries, args.quiet)
    report_benign(ben_entries, ecosystems, args.quiet)
    total = len(mal_entries) + len(ben_entries)
    print(f"cpu: {(mal_cpu + ben_cpu) / total * 1000:.1f} ms per package "
          f"({total} packages)")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cordon", type=Path, help="the binary to measure")
    parser.add_argument("--corpus", type=Path,
                        default=Path(os.environ.get(
                            "CORDON_BENIGN_CORPUS",
                            Path.home() / ".cache" / "cordon-corpus")),
                        help="where fetch-benign.sh put the benign corpus")
    parser.add_argument("--quiet", action="store_true",
                        help="print the figures without the lists")
    return parser.parse_args()


def build_cordon():
    subprocess.run(["cargo", "build", "--release", "-p", "cordon"],
                   cwd=ROOT, check=True)
    return ROOT / "target" / "release" / "cordon"


def malware_targets():
    root = SHARED / "pypi-malware-dev"
    lines = (root / "MANIFEST.tsv").read_text().splitlines()[1:]
    paths = [line.split("\t")[2] for line in lines if line.strip()]
    return [(str(root / p), "pypi") for p in paths]


def benign_targets(corpus):
    return [(str(p), p.relative_to(corpus).parts[0])
            for p in sorted(corpus.rglob("*")) if p.is_file()]


def scan(cordon, targets):
    """Every entry of the JSON reports, in order, and the CPU seconds."""
    entries = []
    fresh = no_cache_flag(cordon)
    before = children_cpu()
    for start in range(0, len(targets), BATCH):
        batch = targets[start:start + BATCH]
        command = [str(cordon), "scan", "-q", "--format", "json", *fresh,
                   *batch]
        run = subprocess.run(command, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, check=False)
        entries.extend(json.loads(run.stdout)["packages"])
    return entries, children_cpu() - before


def no_cache_flag(cordon):
    """`--no-cache` when the binary has a scan cache: every package is
    scanned for real, so that the figures and the CPU time are the
    scanner's, not the cache's."""
    run = subprocess.run([str(cordon), "scan", "--help"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, check=False)
    return ["--no-cache"] if "--no-cache" in run.stdout else []


def children_cpu():
    usage = os.times()
    return usage.children_user + usage.children_system


def flagged(entry):
    return entry["verdict"] in ("suspicious", "malicious")


def rules_of(entry):
    counts = Counter(f["rule"] for f in entry["findings"])
    return ", ".join(f"{r}×{n}" if n > 1 else r for r, n in counts.items())


def report_malware(entries, quiet):
    caught = sum(map(flagged, entries))
    print(f"malware: {caught}/{len(entries)} flagged, recall "
          f"{caught / len(entries):.1%}")
    if quiet:
        return
    for entry in entries:
        if not flagged(entry):
            reason = entry["error"] or rules_of(entry) or "no finding"
            print(f"  miss  {Path(entry['target']).name}  score "
                  f"{entry['score']}: {reason}")


def report_benign(entries, ecosystems, quiet):
    by_ecosystem = Counter(ecosystems)
    flagged_by = Counter(e for e, entry in zip(ecosystems, entries)
                         if flagged(entry))
    total = sum(flagged_by.values())
    print(f"benign: {total}/{len(entries)} flagged, false-positive rate "
          f"{total / len(entries):.1%}")
    for ecosystem, count in sorted(by_ecosystem.items()):
        bad = flagged_by[ecosystem]
        print(f"  {ecosystem:7} {bad}/{count} flagged ({bad / count:.1%})")
    if quiet:
        return
    for entry in entries:
        if flagged(entry):
            print(f"  false positive  {Path(entry['target']).name}  "
                  f"{entry['verdict']} {entry['score']}: {rules_of(entry)}")


if __name__ == "__main__":
    main()
