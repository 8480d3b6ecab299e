"""Benchmark the live path: interactions posted to a running server until visible, at rising rates.

Run from the repository root::

    .venv/bin/python benchmarks/bench_service.py [--customers 5000] [--rates 250,500,1000,1500]

What happens:

1. A simulated enterprise (``cximpact.simulate``) is ingested into a fresh DuckDB file, and
   ``cximpact serve`` is started as its own process on loopback (rate limit off for the
   benchmark token); it runs the batch analysis at start.
2. **Baseline, same run:** the batch path, ``POST /api/v1/refit`` -- what making new
   interactions visible costs without the live path (ingest, then re-run ``analyse`` and
   ``open_cases``, as ``cximpact run`` does).
3. For each rate, interactions are posted for ``--seconds`` seconds on an open-loop schedule
   (requests of ``--batch`` interactions at fixed times, never waiting for earlier answers, so
   a slow server cannot slow the load: no coordinated omission). A response is sent only after
   the writer has stored, redacted, scored the interactions and published the view that shows
   them, so **ingest-to-visible latency = response time - scheduled send time**, for every
   interaction of the request. Visibility is also checked independently: a sample of ids is
   read back through ``GET /api/v1/interactions/{id}``.
4. **Nothing lost:** after each rate, the server's stored and scored interaction counts must
   have grown by exactly the number of interactions accepted.

Throughput is interactions acknowledged per second over the step (from the first scheduled
send to the last answer, so the last requests' latency counts against it). A rate counts as
**sustained** when throughput is at least 90% of the offered rate, nothing was lost or refused,
and latency did not grow during the step (median of the last quarter of requests under 1.5x
the first quarter's: no backlog building up). The load generator runs on the same machine.
Each step also reports the server's CPU time per interaction (``/proc``, every thread of the
server process and of its worker processes): unlike latency it hardly depends on what else
runs, so runs made under different load compare on it.

Results are printed and saved to ``benchmarks/results/service.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(root: Path, customers: int, days: int, seed: int) -> tuple[Path, dict[str, str], Any]:
    """Simulate and ingest the enterprise; issue an analyst and an admin token."""
    from cximpact.flow import ingest_directory
    from cximpact.service.auth import TokenStore
    from cximpact.settings import load_settings
    from cximpact.simulate import SimulationConfig, simulate, write_enterprise
    from cximpact.store.analytics import AnalyticsStore

    enterprise = simulate(SimulationConfig(customers=customers, days=days, seed=seed))
    write_enterprise(enterprise, root / "data")
    settings = load_settings(db=root / "bench.duckdb")
    with AnalyticsStore(settings.db) as store:
        ingest_directory(store, root / "data", settings)
    with TokenStore(settings.state_url()) as tokens:
        tokens.upgrade()
        secrets = {
            role: tokens.create_token(f"bench-{role}", role)[1] for role in ("analyst", "admin")
        }
    return settings.db, secrets, enterprise


def start_server(db: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"CXIMPACT_SERVICE_RATE_LIMIT": "0"}
    command = [sys.executable, "-m", "cximpact", "serve", "--db", str(db), "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_ready(base: str, timeout: float = 600.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            health = httpx.get(f"{base}/api/v1/health", timeout=2).json()
            if health.get("analysis_loaded"):
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"server at {base} did not load its analysis within {timeout:.0f}s")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system, every thread) the server and its worker processes used so far;
    None off Linux.

    Unlike latency it does not depend on what else runs on the machine, so it compares runs
    made under different load. The live worker process is a child of the server process.
    """
    try:
        server = _own_cpu(pid)
    except OSError:
        return None
    return server + sum(_own_cpu(child, ended=0.0) for child in _children(pid))


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _own_cpu(pid: int, ended: float | None = None) -> float:
    """CPU seconds of one process; ``ended`` when it is gone (None: raise)."""
    try:
        fields = _stat(pid)
    except OSError:
        if ended is None:
            raise
        return ended
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except OSError:  # ended meanwhile
                continue
    return found


def metrics(base: str, headers: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(f"{base}/api/v1/metrics", headers=headers, timeout=30).json()
    return data


class Load:
    """Interactions for the rate steps: fresh ids, existing customers, simulated texts."""

    def __init__(self, enterprise: Any, seed: int) -> None:
        self.customers = enterprise.customers["id"].astype(str).tolist()
        self.texts = enterprise.interactions["text"].astype(str).tolist()
        self.end = str(enterprise.interactions["timestamp"].max())[:10]
        self.rng = random.Random(seed)
        self.sent = 0

    def batch(self, tag: str, size: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(size):
            self.sent += 1
            out.append(
                {
                    "id": f"bench-{tag}-{self.sent}",
                    "customer_id": self.rng.choice(self.customers),
                    "timestamp": f"{self.end}T12:00:00Z",
                    "channel": self.rng.choice(("chat", "email", "phone")),
                    "text": self.rng.choice(self.texts),
                }
            )
        return out


async def run_rate(
    base: str, headers: dict[str, str], load: Load, rate: float, seconds: float, batch: int
) -> dict[str, Any]:
    """Post ``rate`` interactions/s for ``seconds``; latency of each request from its slot."""
    requests = max(1, int(rate * seconds / batch))
    interval = batch / rate
    tag = f"r{int(rate)}"
    bodies = [load.batch(tag, batch) for _ in range(requests)]
    results: list[tuple[float, float, int, int]] = []
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=120, limits=limits
    ) as client:
        start = time.perf_counter() + 0.2

        async def one(i: int, body: list[dict[str, Any]]) -> None:
            slot = start + i * interval
            await asyncio.sleep(max(0.0, slot - time.perf_counter()))
            try:
                response = await client.post("/api/v1/ingest/interactions", json={"records": body})
                status, accepted = response.status_code, int(response.json().get("accepted", 0))
            except httpx.HTTPError:
                status, accepted = 0, 0
            results.append((slot, time.perf_counter(), status, accepted))

        await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))
        sample = [r["id"] for b in bodies[:: max(1, len(bodies) // 25)] for r in b[:2]]
        visible = 0
        for interaction_id in sample:
            response = await client.get(f"/api/v1/interactions/{interaction_id}")
            visible += response.status_code == 200
    results.sort()
    latency = np.array([done - slot for slot, done, *_ in results])
    quarter = max(1, len(latency) // 4)
    growth = float(np.median(latency[-quarter:]) / max(np.median(latency[:quarter]), 1e-9))
    weights = np.array([acc for *_, acc in results])
    per_interaction = np.repeat(latency, np.maximum(weights, 0))
    span = max(done for _, done, *_ in results) - start
    accepted = int(weights.sum())
    return {
        "offered_per_s": rate,
        "batch": batch,
        "requests": requests,
        "sent": requests * batch,
        "accepted": accepted,
        "errors": sum(1 for *_, status, _ in results if status != 200),
        "throughput_per_s": accepted / span,
        "p50_ms": float(np.percentile(per_interaction, 50) * 1000) if accepted else None,
        "p99_ms": float(np.percentile(per_interaction, 99) * 1000) if accepted else None,
        "max_ms": float(per_interaction.max() * 1000) if accepted else None,
        "sample_visible": f"{visible}/{len(sample)}",
        "latency_growth": growth,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rates", default="250,500,1000,1500", help="interactions/s, rising")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each rate")
    parser.add_argument("--batch", type=int, default=100, help="interactions per request")
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "results" / "service.json"
    )
    args = parser.parse_args()

    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} (other processes share these cores)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"simulating and ingesting {args.customers:,} customers over {args.days} days ...")
        db, tokens, enterprise = prepare(root, args.customers, args.days, args.seed)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(db, port, root / "server.log")
        try:
            startup = wait_ready(base)
            analyst = {"Authorization": f"Bearer {tokens['analyst']}"}
            admin = {"Authorization": f"Bearer {tokens['admin']}"}
            started = time.perf_counter()
            refit = httpx.post(f"{base}/api/v1/refit", headers=admin, timeout=600).json()
            batch_seconds = time.perf_counter() - started
            print(
                f"server ready in {startup:.1f}s; baseline batch refit: {batch_seconds:.2f}s "
                f"({refit['interactions']:,} interactions)"
            )
            load = Load(enterprise, args.seed)
            steps = []
            for rate in (float(r) for r in args.rates.split(",")):
                before = metrics(base, admin)
                cpu_before = cpu_seconds(server.pid)
                step = asyncio.run(run_rate(base, analyst, load, rate, args.seconds, args.batch))
                cpu_after = cpu_seconds(server.pid)
                after = metrics(base, admin)
                step["server_cpu_ms_per_interaction"] = (
                    (cpu_after - cpu_before) * 1000 / max(step["accepted"], 1)
                    if cpu_before is not None and cpu_after is not None
                    else None
                )
                step["stored_delta"] = after["interactions_stored"] - before["interactions_stored"]
                step["scored_delta"] = after["interactions_scored"] - before["interactions_scored"]
                step["lost"] = step["accepted"] - step["stored_delta"]
                step["sustained"] = (
                    step["throughput_per_s"] >= 0.9 * rate
                    and step["latency_growth"] < 1.5
                    and step["errors"] == 0
                    and step["lost"] == 0
                )
                step["p99_vs_batch_refit"] = (
                    step["p99_ms"] / 1000 / batch_seconds if step["p99_ms"] else None
                )
                steps.append(step)
                print(
                    f"  {rate:>6.0f}/s offered: {step['throughput_per_s']:7.0f}/s achieved, "
                    f"p50 {step['p50_ms']:6.0f} ms, p99 {step['p99_ms']:6.0f} ms, "
                    f"stored +{step['stored_delta']} of {step['accepted']} accepted, "
                    f"lost {step['lost']}, visible sample {step['sample_visible']}, "
                    f"server CPU {step['server_cpu_ms_per_interaction'] or float('nan'):.2f} "
                    "ms/interaction"
                )
        finally:
            server.terminate()
            server.wait(timeout=60)
    sustained = [s for s in steps if s["sustained"]]
    best = max(sustained, key=lambda s: s["throughput_per_s"]) if sustained else None
    print(
        "\nrate (/s) | achieved (/s) | p50 ms | p99 ms | p99 / batch refit | growth | lost | sustained"
    )
    print("---|---|---|---|---|---|---|---")
    for s in steps:
        print(
            f"{s['offered_per_s']:.0f} | {s['throughput_per_s']:.0f} | {s['p50_ms']:.0f} | "
            f"{s['p99_ms']:.0f} | {s['p99_vs_batch_refit']:.3f}x | {s['latency_growth']:.2f} | "
            f"{s['lost']} | {s['sustained']}"
        )
    print(f"baseline (batch refit, same run): {batch_seconds:.2f}s until visible")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    result = {
        "benchmark": "service live ingest-to-visible",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        },
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "baseline": {"name": "batch refit (POST /api/v1/refit)", "seconds": batch_seconds},
        "startup_seconds": startup,
        "steps": steps,
        "best_sustained": best,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
