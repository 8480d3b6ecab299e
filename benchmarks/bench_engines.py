"""Cost curve of the batch flow: the local engine at growing sizes, and Spark on the same data.

Baseline, measured in the same run: the local engine (pandas in one process). For each size the
simulator writes an enterprise (``cximpact simulate``, 365 days, 9 routine contacts per customer
and year: about 50 interactions per customer), then ``cximpact run --json`` runs it once per
engine in a fresh process on a fresh store. Measured and printed:

* wall time of the run (ingest, signals, value, risk, exposure, cases), seconds;
* peak memory, GiB: the largest sum of resident set sizes over the run's process tree, sampled
  every 0.2 s from /proc (for Spark: the driver, its JVM and the Python workers);
* growth exponent between consecutive sizes, ``log(t2 / t1) / log(n2 / n1)`` (1 = linear);
* Spark ``local[2]`` over local: time and memory ratios, and whether the issue ranking and the
  revenue at risk per issue agree (largest relative difference among issues over 1% of the total);
* where the local engine stops fitting on one machine: the marginal memory per interaction
  between the two largest local sizes, extrapolated to the machine's memory (and to 64 and
  256 GiB) as ``(memory - fixed) / per_interaction``.

Usage::

    nice -n 10 python benchmarks/bench_engines.py --sizes 100000,1000000
    nice -n 10 python benchmarks/bench_engines.py --sizes 100000,1000000,10000000  # > 1 hour

Results go to ``benchmarks/results/engines.json`` (``--out``); simulated exports are kept under
``--data-root`` (default ``/tmp/cximpact-bench-engines``) and reused.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).parent / "results"
INTERACTIONS_PER_CUSTOMER = 50  # 365 days, --routine-contacts 9 (measured on the simulator)
PAGE = os.sysconf("SC_PAGE_SIZE")
GIB = 1024**3


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except OSError:
                continue
            found += kids
            todo += kids
    return found


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def measured_run(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a command; wall time, peak RSS of its process tree and its stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], sum(_rss(p) for p in [proc.pid, *_children(proc.pid)]))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    sampler.join()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return {"seconds": elapsed, "peak_gib": peak[0] / GIB, "stdout": out.decode()}


def simulate(interactions: int, root: Path) -> tuple[Path, int]:
    """Exports of about ``interactions`` interactions (reused when already written)."""
    customers = max(100, round(interactions / INTERACTIONS_PER_CUSTOMER))
    out = root / f"{customers}c"
    if not (out / "interactions.csv").exists():
        subprocess.run(
            [sys.executable, "-m", "cximpact", "simulate", "--customers", str(customers),
             "--days", "365", "--routine-contacts", "9", "--seed", "1", "--out", str(out)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    with (out / "interactions.csv").open("rb") as fh:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b""))
    return out, rows - 1  # an upper bound: texts never hold newlines in the simulator


def run_engine(engine: str, data: Path, spark_partitions: int) -> dict[str, Any]:
    env = os.environ | {
        "OMP_NUM_THREADS": "1",
        "CXIMPACT_SPARK_MASTER": "local[2]",
        "CXIMPACT_SPARK_SHUFFLE_PARTITIONS": str(spark_partitions),
    }
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / f"{engine}.duckdb"
        result = measured_run(
            [sys.executable, "-m", "cximpact", "run", "--engine", engine, "--data", str(data),
             "--db", str(db), "--json"],
            env,
        )  # fmt: skip
    payload = json.loads(result.pop("stdout"))
    result["issues"] = {i["issue"]: i["revenue_at_risk"] for i in payload["issues"]}
    return result


def agreement(local: dict[str, float], spark: dict[str, float]) -> dict[str, Any]:
    """Same ranking? Largest relative difference among issues over 1% of the total at risk."""
    total = sum(local.values()) or 1.0
    material = [k for k, v in local.items() if v > 0.01 * total]
    diffs = [abs(spark.get(k, 0.0) / local[k] - 1) for k in material]
    return {
        "same_ranking": list(local) == list(spark),
        "same_top3": list(local)[:3] == list(spark)[:3],
        "max_rel_diff_material": max(diffs) if diffs else 0.0,
    }


def exponent(a: dict[str, Any], b: dict[str, Any], key: str) -> float:
    return math.log(b[key] / a[key]) / math.log(b["interactions"] / a["interactions"])


def fit_limit(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Where the local engine stops fitting: marginal GiB per interaction, extrapolated."""
    a, b = rows[-2], rows[-1]
    per = (b["peak_gib"] - a["peak_gib"]) / (b["interactions"] - a["interactions"])
    fixed = a["peak_gib"] - per * a["interactions"]
    machine = os.sysconf("SC_PHYS_PAGES") * PAGE / GIB
    limits = {
        f"{m:.0f}_gib": (m - fixed) / per if per > 0 else math.inf for m in (machine, 64, 256)
    }
    return {
        "bytes_per_interaction": per * GIB,
        "fixed_gib": fixed,
        "machine_gib": machine,
        "max_interactions": limits,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--engines", default="local,spark")
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/cximpact-bench-engines"))
    parser.add_argument("--spark-rows-per-partition", type=int, default=50_000)
    parser.add_argument("--out", default="engines.json", help="file name in benchmarks/results")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for target in [int(float(s)) for s in args.sizes.split(",")]:
        data, interactions = simulate(target, args.data_root)
        row: dict[str, Any] = {"target": target, "interactions": interactions, "data": data.name}
        for engine in args.engines.split(","):
            partitions = max(4, math.ceil(interactions / args.spark_rows_per_partition))
            row[engine] = run_engine(engine, data, partitions)
            print(
                f"{interactions:>11,} interactions  {engine:<5}  "
                f"{row[engine]['seconds']:8.1f} s  {row[engine]['peak_gib']:6.2f} GiB",
                flush=True,
            )
        if "local" in row and "spark" in row:
            row["spark_over_local"] = {
                "time": row["spark"]["seconds"] / row["local"]["seconds"],
                "memory": row["spark"]["peak_gib"] / row["local"]["peak_gib"],
            } | agreement(row["local"]["issues"], row["spark"]["issues"])
            print(f"    spark / local: {json.dumps(row['spark_over_local'])}", flush=True)
        rows.append(row)
    summary: dict[str, Any] = {"sizes": rows, "growth": {}}
    for engine in args.engines.split(","):
        flat = [{"interactions": r["interactions"], **r[engine]} for r in rows]
        summary["growth"][engine] = [
            {
                "from": a["interactions"],
                "to": b["interactions"],
                "time_exponent": exponent(a, b, "seconds"),
                "memory_exponent": exponent(a, b, "peak_gib"),
            }
            for a, b in itertools.pairwise(flat)
        ]
        if engine == "local" and len(flat) >= 2:
            summary["local_fit_limit"] = fit_limit(flat)
    print(json.dumps({k: v for k, v in summary.items() if k != "sizes"}, indent=2))
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / args.out).write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
