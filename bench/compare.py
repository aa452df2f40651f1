"""Compare two `make bench` figure files (see bench/figures.py):

    python bench/compare.py before.json after.json

One line per figure: before, after, the change (after / before), and whether
the change is better or worse in that figure's own direction; figures found in
only one file are listed as such. Exit code 0 always: this reports, it does not
judge (the machines are shared and noisy; read medians, not single runs).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from figures import describe  # noqa: E402


def load(path: str) -> dict:
    try:
        data = json.loads(Path(path).read_text())
        return data["figures"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SystemExit(f"compare: error: {path}: not a bench figure file ({e})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before")
    ap.add_argument("after")
    a = ap.parse_args(argv)
    old, new = load(a.before), load(a.after)
    width = max((len(n) for n in old.keys() | new.keys()), default=10)
    print(f"{'figure':<{width}}  {'before':>12}  {'after':>12}  {'change':>8}")
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            print(f"{name:<{width}}  {old[name]['value']:>12.4g}  {'-':>12}  only in {a.before}")
            continue
        if name not in old:
            print(f"{name:<{width}}  {'-':>12}  {new[name]['value']:>12.4g}  only in {a.after}")
            continue
        b, f = old[name]["value"], new[name]["value"]
        ratio = f / b if b else float("inf")
        better = (f > b) if new[name]["better"] == "higher" else (f < b)
        verdict = "same" if f == b else ("better" if better else "worse")
        print(f"{name:<{width}}  {b:>12.4g}  {f:>12.4g}  {ratio:>7.2f}x  {verdict:<6}  {new[name]['unit']}"
              + (f"   now: {describe(new[name])}" if new[name].get("target") is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
