"""``cximpact actions ...`` and ``cximpact worker``: parse, call one function, format."""

from __future__ import annotations

import logging
import signal
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cximpact._cli import DbOption, JsonOption, db_from_context, open_state, print_json
from cximpact.errors import ContractError
from cximpact.settings import Settings, load_settings

__all__ = ["actions_app", "worker_command"]

actions_app = typer.Typer(
    help="Outbound actions for open cases: list, plan, outcomes, measurement, dead letters.",
    invoke_without_command=True,
)
console = Console()

LIST_FIELDS = (
    "customer_id",
    "case_id",
    "action",
    "channel",
    "state",
    "holdout",
    "idempotency_key",
)


def _settings(db: Path | None, ctx: typer.Context | None = None) -> Settings:
    return load_settings(db=db_from_context(db, ctx))


def _store(settings: Settings) -> Any:
    from cximpact.actions.store import ActionStore

    return open_state(settings, ActionStore, "no state store yet")


@actions_app.callback()
def actions(
    ctx: typer.Context,
    db: DbOption = None,
    as_json: JsonOption = False,
    state: Annotated[
        str | None, typer.Option(help="Only actions in this state (queued, sent, held_out ...).")
    ] = None,
    case: Annotated[int | None, typer.Option("--case", help="Only actions of this case.")] = None,
    limit: Annotated[int | None, typer.Option(help="Newest N actions only.")] = None,
) -> None:
    """List actions (without a subcommand): customer, case, action, channel, state, holdout."""
    if ctx.invoked_subcommand is not None:
        return
    with _store(_settings(db)) as store:
        records = [r.to_dict() for r in store.list_actions(state=state, case_id=case, limit=limit)]
    if as_json:
        print_json(records)
        return
    table = Table(title=f"Actions ({len(records)})")
    for col in (*LIST_FIELDS, "attempts", "outcome"):
        table.add_column(col)
    for r in records:
        table.add_row(*(str(r[c]) for c in (*LIST_FIELDS, "attempts", "outcome")))
    console.print(table)


@actions_app.command("plan")
def plan_command(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Create actions for the customers of open cases from the policies (best uplift first)."""
    from cximpact.actions.service import plan_from_settings

    summary = plan_from_settings(_settings(db, ctx)).to_dict()
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{summary['created']} new actions: {summary['treated']} to send, "
        f"{summary['held_out']} held out; planned cost {summary['planned_cost']:,.2f}, "
        f"expected uplift {summary['expected_uplift']:,.2f} ({summary['uplift_source']}); "
        f"dropped: {summary['skipped'] or 'none'}"
    )


@actions_app.command("outcome")
def outcome_command(
    ctx: typer.Context,
    outcome: Annotated[str, typer.Argument(help="contacted, offer_accepted, retained or churned")],
    key: Annotated[str | None, typer.Option("--key", help="Idempotency key of the action.")] = None,
    customer: Annotated[str | None, typer.Option(help="Customer id (with --case-id).")] = None,
    case_id: Annotated[int | None, typer.Option(help="Case id (with --customer).")] = None,
    at: Annotated[str | None, typer.Option(help="When (ISO 8601, UTC if no zone).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record an outcome for one action (or a held-out customer of a case)."""
    from datetime import UTC

    when = None
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError as exc:
            raise ContractError(f"--at must be ISO 8601 (2026-05-01T10:00); got {at!r}") from exc
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    with _store(_settings(db, ctx)) as store:
        records = store.record_outcome(
            outcome, idempotency_key=key, customer_id=customer, case_id=case_id, at=when
        )
    data = [r.to_dict() for r in records]
    print_json(data) if as_json else console.print(f"recorded {outcome} on {len(data)} action(s)")


@actions_app.command("outcomes")
def outcomes_command(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="CSV: outcome, idempotency_key or customer_id+case_id, at")
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest a file of outcomes (contacted, offer accepted, retained, churned)."""
    from cximpact.actions.service import ingest_outcomes

    with _store(_settings(db, ctx)) as store:
        updated = ingest_outcomes(store, file)
    print_json({"updated": updated}) if as_json else console.print(f"{updated} action(s) updated")


@actions_app.command("measure")
def measure_command(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Churn of treated versus held-out customers per case, from reported outcomes."""
    from cximpact.actions.service import measure_cases

    with _store(_settings(db, ctx)) as store:
        rows = measure_cases(store)
    if as_json:
        print_json(rows)
        return
    table = Table(title="Treated vs held-out churn per case")
    for col in (
        "case_id",
        "treated",
        "held_out",
        "treated_churn_rate",
        "holdout_churn_rate",
        "churn_reduction",
        "p_value",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in r.values()))
    console.print(table)


@actions_app.command("requeue")
def requeue_command(
    ctx: typer.Context,
    key: Annotated[
        list[str] | None, typer.Option("--key", help="Only these keys (repeatable).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send dead-lettered actions again (after fixing the channel)."""
    with _store(_settings(db, ctx)) as store:
        n = store.requeue_dead(key or None)
    print_json({"requeued": n}) if as_json else console.print(f"{n} dead letter(s) requeued")


def worker_command(
    db: DbOption = None,
    drain: Annotated[
        bool, typer.Option("--drain", help="Exit once nothing is due within --drain-wait.")
    ] = False,
    drain_wait: Annotated[float, typer.Option(help="Seconds a drain waits for retries.")] = 60.0,
    poll: Annotated[float, typer.Option(help="Seconds between empty polls.")] = 1.0,
    batch: Annotated[int, typer.Option(help="Messages claimed at once.")] = 50,
    record_every: Annotated[
        int,
        typer.Option(
            help="Deliveries recorded per commit (at most this many resent after a crash)."
        ),
    ] = 10,
    as_json: JsonOption = False,
) -> None:
    """Deliver queued actions through their channels (retries, backoff, dead letter)."""
    from cximpact.actions.worker import worker_from_settings

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    settings = _settings(db)
    with _store(settings) as store:
        worker = worker_from_settings(store, settings)
        worker.batch_size, worker.record_every = batch, max(1, record_every)

        def stop(_signum: int, _frame: FrameType | None) -> None:
            worker.stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            stats = worker.run(drain=drain, drain_wait_s=drain_wait, poll_s=poll)
        finally:
            worker.close()
        counts = store.outbox_counts()
    result = {**stats.__dict__, "outbox": counts}
    if as_json:
        print_json(result)
        return
    console.print(
        f"delivered {stats.delivered}, retried {stats.retried}, dead-lettered {stats.dead}; "
        f"outbox now {counts}"
    )
