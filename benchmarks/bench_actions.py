"""Benchmark outbound actions: targeting by uplift vs by raw risk, and outbox dispatch speed.

Run from the repository root::

    .venv/bin/python benchmarks/bench_actions.py [--customers 5000] [--actions 1000]

1. Targeting. A simulated enterprise (:mod:`cximpact.simulate`) is analysed; the customers of
   every issue are candidates for the built-in ``retention_call`` policy. With the same budget
   (a share of what targeting everyone would cost), compare the expected net value
   (``value x churn_probability x effectiveness - cost``, the playbook's assumption) of

   * ``uplift`` -- cximpact's ranking by expected uplift, and
   * ``baseline`` -- ranking by raw churn risk (what a risk threshold does).

2. Dispatch. ``--actions`` actions are delivered by the worker through the signed webhook to a
   local threaded HTTP receiver, on SQLite and on PostgreSQL (a fresh schema on
   ``CXIMPACT_TEST_POSTGRES_URL`` or 127.0.0.1:5432/test, dropped afterwards; skipped if
   unreachable). Baseline: one claim and one commit per message (``batch_size=1``,
   ``record_every=1``); cximpact's defaults: claims of 50, deliveries recorded 10 per commit.

Results go to ``benchmarks/results/actions.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from cximpact.actions.channels.webhook import WebhookChannel
from cximpact.actions.policies import PolicySet
from cximpact.actions.store import ActionStore
from cximpact.actions.targeting import score_targets, within_budget
from cximpact.actions.worker import Worker
from cximpact.cases.business_case import load_playbook
from cximpact.flow import analyse, ingest_directory
from cximpact.settings import load_settings
from cximpact.simulate import SimulationConfig, simulate, write_enterprise
from cximpact.store.analytics import AnalyticsStore

RESULTS_DIR = Path(__file__).parent / "results"
POSTGRES_URL = os.environ.get(
    "CXIMPACT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def targeting(customers: int, budget_share: float) -> dict[str, Any]:
    """Expected net value of the same budget spent by uplift and by raw risk."""
    with tempfile.TemporaryDirectory() as tmp:
        write_enterprise(
            simulate(SimulationConfig(customers=customers, days=180, seed=11)), Path(tmp) / "d"
        )
        settings = load_settings(db=Path(tmp) / "a.duckdb")
        with AnalyticsStore(settings.db) as store:
            ingest_directory(store, Path(tmp) / "d", settings)
            exposure = analyse(store, settings).exposure.customers
    pool = exposure.drop_duplicates("customer_id").assign(case_id=1)
    rules = PolicySet.model_validate(
        {
            "budget": 0,
            "holdout_share": 0,
            "channels": {"hook": {"type": "recording"}},
            "policies": [
                {
                    "name": "call",
                    "action": "retention_call",
                    "channel": "hook",
                    "playbook": "retention_call",
                }
            ],
        }
    )
    playbook = load_playbook()
    option = playbook["retention_call"]
    full_cost = option.cost_per_customer * len(pool)
    rules.budget = full_cost * budget_share
    net = (
        pool["value"] * pool["churn_probability"] * option.effectiveness - option.cost_per_customer
    )
    results = {}
    scored = score_targets(pool, rules, playbook).assign(holdout=False)
    chosen = scored[within_budget(scored, rules)]
    results["uplift"] = (float(chosen["expected_uplift"].sum()), len(chosen))
    by_risk = pool.assign(net=net, cost=option.cost_per_customer, holdout=False, policy="call")
    by_risk = by_risk.sort_values("churn_probability", ascending=False)
    chosen_risk = by_risk[within_budget(by_risk, rules)]
    results["baseline"] = (float(chosen_risk["net"].sum()), len(chosen_risk))
    return {
        "candidates": len(pool),
        "budget": round(rules.budget, 2),
        "uplift_net_value": round(results["uplift"][0], 2),
        "uplift_customers": results["uplift"][1],
        "baseline_net_value": round(results["baseline"][0], 2),
        "baseline_customers": results["baseline"][1],
        "ratio": round(results["uplift"][0] / results["baseline"][0], 3)
        if results["baseline"][0] > 0
        else None,
    }


class _Receiver:
    def __init__(self) -> None:
        keys: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                keys.append(self.headers.get("Idempotency-Key", ""))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return None

        self.keys = keys
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _rows(n: int, case_id: int) -> list[dict[str, Any]]:
    return [
        {
            "idempotency_key": f"cxa-bench-{uuid.uuid4().hex}",
            "customer_id": f"C{i}",
            "case_id": case_id,
            "issue": "billing_error",
            "policy": "call",
            "action": "retention_call",
            "channel": "hook",
            "holdout": False,
            "churn_probability": 0.3,
            "value": 1000.0,
            "segment": "consumer",
            "value_tier": "silver",
            "cost": 18.0,
            "risk_reduction": 0.09,
            "expected_uplift": 72.0,
            "uplift_source": "assumption",
            "context": {"script": "hello"},
        }
        for i in range(n)
    ]


def dispatch(url: str, n: int, batch: int, record_every: int) -> float:
    """Actions delivered per second through the signed webhook."""
    receiver = _Receiver()
    try:
        with ActionStore(url) as store:
            store.upgrade()
            store.add_actions(_rows(n, case_id=batch))
            worker = Worker(
                store,
                {"hook": WebhookChannel(receiver.url, "s")},
                batch_size=batch,
                record_every=record_every,
            )
            started = time.perf_counter()
            stats = worker.run(drain=True, drain_wait_s=0, poll_s=0)
            elapsed = time.perf_counter() - started
            worker.close()
        assert stats.delivered == n and len(set(receiver.keys)) == n
        return n / elapsed
    finally:
        receiver.close()


def _postgres_schema() -> tuple[str, Any] | None:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        return None
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--budget-share", type=float, default=0.2)
    parser.add_argument("--actions", type=int, default=1000)
    args = parser.parse_args()

    target = targeting(args.customers, args.budget_share)
    print(f"\nTargeting, {target['candidates']:,} candidates, budget {target['budget']:,.0f}:")
    print(f"{'ranking':<10} {'customers':>10} {'expected net value':>20}")
    print(
        f"{'baseline':<10} {target['baseline_customers']:>10,} {target['baseline_net_value']:>20,.0f}  (raw risk)"
    )
    print(
        f"{'uplift':<10} {target['uplift_customers']:>10,} {target['uplift_net_value']:>20,.0f}  ratio {target['ratio']}"
    )

    speed: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        backends: list[tuple[str, str, Any]] = [("sqlite", f"sqlite:///{tmp}/bench.sqlite", None)]
        pg = _postgres_schema()
        if pg is not None:
            backends.append(("postgresql", pg[0], pg[1]))
        for name, url, cleanup in backends:
            try:
                base = dispatch(url, args.actions, 1, 1)
                ours = dispatch(url, args.actions, 50, 10)
            finally:
                if cleanup is not None:
                    cleanup()
            speed[name] = {
                "baseline_per_s": round(base, 1),
                "cximpact_per_s": round(ours, 1),
                "ratio": round(ours / base, 2),
            }
    print(f"\nDispatch of {args.actions:,} signed webhooks (actions/s):")
    print(f"{'store':<12} {'baseline (1/commit)':>20} {'cximpact (10/commit)':>21} {'ratio':>7}")
    for name, row in speed.items():
        print(
            f"{name:<12} {row['baseline_per_s']:>20,.1f} {row['cximpact_per_s']:>20,.1f} {row['ratio']:>7}"
        )
    RESULTS_DIR.mkdir(exist_ok=True)
    out = {
        "targeting": target,
        "dispatch": speed,
        "actions": args.actions,
        "cpu_count": os.cpu_count(),
    }
    (RESULTS_DIR / "actions.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nSaved {RESULTS_DIR / 'actions.json'}")


if __name__ == "__main__":
    main()
