"""The figures `make bench` measures: each is printed with its target and kept in
a JSON file, so a later change can be compared with this one:

    make bench                                  # writes build/bench.json
    cp build/bench.json before.json
    ... change, then make bench again ...
    python bench/compare.py before.json build/bench.json

A figure is a name, a value, a unit, which direction is better, and optionally
a target (the issue's figure to reach) and a reference value (bare Unicorn on
the same work) that the value is quoted against. $ISS_BENCH_JSON names another
file; the Makefile empties it at the start of `make bench`.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def path() -> Path:
    return Path(os.environ.get("ISS_BENCH_JSON", ROOT / "build" / "bench.json"))


def _load(p: Path) -> dict:
    try:
        data = json.loads(p.read_text())
        if isinstance(data, dict) and isinstance(data.get("figures"), dict):
            return data
    except (OSError, ValueError):
        pass
    return {"machine": {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version()},
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "figures": {}}


def checked_value(fig: dict) -> float:
    """What the target is checked against: the value, or its ratio to the reference."""
    return fig["value"] / fig["reference"] if fig.get("target_on") == "ratio" else fig["value"]


def meets(fig: dict) -> bool:
    v, t = checked_value(fig), fig["target"]
    return v >= t if fig["better"] == "higher" else v <= t


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def describe(fig: dict) -> str:
    """`value unit (ratio of reference); target ...: met`, one printed line's tail."""
    text = f"{_num(fig['value'])} {fig['unit']}"
    if fig.get("reference"):
        text += f" ({fig['value'] / fig['reference']:.0%} of {fig['reference_name']})"
    if fig.get("target") is not None:
        sign = ">=" if fig["better"] == "higher" else "<="
        t = f"{fig['target']:.0%} of {fig['reference_name']}" if fig.get("target_on") == "ratio" \
            else f"{_num(fig['target'])} {fig['unit']}"
        text += f"; target {sign} {t}: {'met' if meets(fig) else 'NOT met'}"
    return text


def figure(name: str, value: float, unit: str, *, better: str = "higher", target: float | None = None,
           target_on: str = "value", reference: float | None = None, reference_name: str = "bare Unicorn",
           note: str = "") -> dict:
    """Record one figure in the JSON file and print it. With `target_on="ratio"`
    the target applies to value / reference (e.g. >= 40% of bare Unicorn)."""
    if better not in ("higher", "lower") or target_on not in ("value", "ratio"):
        raise ValueError(f"bad figure options: better={better!r} target_on={target_on!r}")
    if target_on == "ratio" and not reference:
        raise ValueError(f"{name}: a target on the ratio needs a reference value")
    fig = {"value": float(value), "unit": unit, "better": better}
    if reference:
        fig.update(reference=float(reference), reference_name=reference_name)
    if target is not None:
        fig.update(target=float(target), target_on=target_on)
    if note:
        fig["note"] = note
    print(f"  [figure] {name}: {describe(fig)}" + (f"  ({note})" if note else ""))
    p = path()
    data = _load(p)
    data["figures"][name] = fig
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    tmp.replace(p)
    return fig
