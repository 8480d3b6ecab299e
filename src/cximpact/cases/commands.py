"""The ``cximpact cases``, ``cximpact monitor`` and ``cximpact evaluate measurement`` commands.

Thin edges: each command parses, calls one function of the core and formats the answer.
Registered in :mod:`cximpact.cli`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console

from cximpact._cli import DbOption, JsonOption, db_from_context, open_state, print_json
from cximpact.errors import ContractError, NotFoundError
from cximpact.settings import Settings, load_settings

__all__ = ["cases_app", "evaluate_measurement_command", "monitor_command"]

cases_app = typer.Typer(
    help="List, show, assign, edit, transition, escalate and measure cases.",
    invoke_without_command=True,
)
console = Console()

TodayOption = Annotated[
    str | None, typer.Option("--today", help="Day to judge due dates by (YYYY-MM-DD).")
]
ActorOption = Annotated[
    str, typer.Option("--actor", envvar="USER", help="Who does it (for the audit log).")
]
CaseId = Annotated[int, typer.Argument(help="Case id.")]


def _today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ContractError(f"--today {value!r} is not a date; use YYYY-MM-DD") from exc


def _state(db: Path | None, ctx: typer.Context | None = None) -> Any:
    """Open and migrate the transactional store of ``--db``."""
    from cximpact.store.state import StateStore

    return open_state(load_settings(db=db_from_context(db, ctx)), StateStore, "no cases yet")


@cases_app.callback()
def cases(
    ctx: typer.Context,
    db: DbOption = None,
    as_json: JsonOption = False,
    state: Annotated[str | None, typer.Option(help="Only cases in this state.")] = None,
    today: TodayOption = None,
) -> None:
    """List cases (without a subcommand): owner, due date, overdue, money, response, plan."""
    if ctx.invoked_subcommand is not None:
        return
    from cximpact.cases.lifecycle import case_listing

    day = _today(today)
    with _state(db) as store:
        records = [case_listing(c, day) for c in store.list_cases(state=state)]
    if as_json:
        print_json(records)
        return
    from cximpact.report import cases_table

    console.print(cases_table(records))
    for r in records:
        notes = []
        if r["overdue"]:
            escalated = f", escalated to {r['escalated_to']}" if r["escalated_to"] else ""
            notes.append("overdue" + escalated)
        if r["stale"]:
            notes.append(f"below threshold since {r['below_threshold_since']}")
        if notes:
            console.print(f"[yellow]case {r['id']} ({r['issue']}): {'; '.join(notes)}[/]")


@cases_app.command("show")
def cases_show(
    ctx: typer.Context,
    case_id: CaseId,
    fmt: Annotated[str, typer.Option("--format", help="md, html or json")] = "md",
    out: Annotated[Path | None, typer.Option(help="Write to this file instead.")] = None,
    db: DbOption = None,
    today: TodayOption = None,
) -> None:
    """Show one case's business case (Markdown, self-contained HTML, or JSON)."""
    from cximpact.cases.export import EXPORT_FORMATS, export_case

    if fmt not in EXPORT_FORMATS:
        raise typer.BadParameter(
            f"--format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}"
        )
    with _state(db, ctx) as store:
        record = store.get_case(case_id).to_dict()
    document = export_case(record, fmt, today=_today(today))
    if out is None:
        typer.echo(document, nl=False)
        return
    out.write_text(document, encoding="utf-8")
    console.print(f"case {case_id} written to {out}")


def _done(record: dict[str, Any], as_json: bool, message: str) -> None:
    if as_json:
        print_json(record)
    else:
        console.print(message)


@cases_app.command("assign")
def cases_assign(
    ctx: typer.Context,
    case_id: CaseId,
    owner: Annotated[str, typer.Argument(help="New owner.")],
    team: Annotated[str | None, typer.Option(help="New team.")] = None,
    actor: ActorOption = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give a case to another owner (audited)."""
    with _state(db, ctx) as store:
        record = store.assign(case_id, owner, team=team, actor=actor).to_dict()
    _done(
        record,
        as_json,
        f"case {record['id']} ({record['issue']}) now owned by {record['owner']} "
        f"({record['team']})",
    )


@cases_app.command("edit")
def cases_edit(
    ctx: typer.Context,
    case_id: CaseId,
    due: Annotated[str | None, typer.Option(help="New due date (YYYY-MM-DD).")] = None,
    severity: Annotated[
        str | None, typer.Option(help="New severity: critical, high, medium or low.")
    ] = None,
    actor: ActorOption = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a case's due date or severity (audited; a new due date re-arms escalation)."""
    with _state(db, ctx) as store:
        record = store.edit(case_id, actor=actor, due=due, severity=severity).to_dict()
    _done(
        record,
        as_json,
        f"case {record['id']} ({record['issue']}): due {record['due']}, "
        f"severity {record['severity']}",
    )


@cases_app.command("transition")
def cases_transition(
    ctx: typer.Context,
    case_id: CaseId,
    new_state: Annotated[
        str,
        typer.Argument(
            help="accepted, in_progress, fix_deployed, measuring, closed (with --verdict, or use "
            "`cases measure --close`) or dismissed (with --reason)"
        ),
    ],
    reason: Annotated[str | None, typer.Option(help="Why (required to dismiss).")] = None,
    verdict: Annotated[
        str | None, typer.Option(help="worked, no_evidence or worse (required to close).")
    ] = None,
    actor: ActorOption = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move a case along its lifecycle (audited)."""
    with _state(db, ctx) as store:
        record = store.transition(
            case_id, new_state, actor=actor, reason=reason, verdict=verdict
        ).to_dict()
    _done(record, as_json, f"case {record['id']} ({record['issue']}) is now {record['state']}")


@cases_app.command("escalate")
def cases_escalate(
    ctx: typer.Context,
    today: TodayOption = None,
    actor: ActorOption = "cximpact",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Escalate every overdue open case to its owner's manager (routing file), once (audited)."""
    from cximpact.cases.lifecycle import case_listing, escalate_overdue
    from cximpact.cases.routing import load_routing

    day = _today(today)
    settings = load_settings(db=db_from_context(db, ctx))
    with _state(db, ctx) as store:
        done = escalate_overdue(store, load_routing(settings.routing_file), day, actor=actor)
    records = [case_listing(c, day) for c in done]
    if as_json:
        print_json(records)
        return
    for r in records:
        console.print(
            f"case {r['id']} ({r['issue']}, due {r['due']}) escalated to {r['escalated_to']}"
        )
    if not records:
        console.print("no overdue case left to escalate")


def _measurement_inputs(settings: Settings) -> dict[str, pd.DataFrame]:
    from cximpact.store.analytics import AnalyticsStore

    if not Path(settings.db).exists():
        raise NotFoundError(f"{settings.db} does not exist; run `cximpact run` first")
    with AnalyticsStore(settings.db, read_only=True) as store:
        return {
            "signals": store.read("signals"),
            "outcomes": store.read("outcomes"),
            # the customers contract keys customers by ``id``; the rest by ``customer_id``
            "customers": store.read("customers").rename(columns={"id": "customer_id"}),
        }


def _action_outcomes(settings: Settings, case_id: int) -> dict[str, Any]:
    """``{"action_outcomes": ...}``: treated vs held-out churn of the case's outbound actions
    (recorded outcomes, docs/actions.md), when any action of the case has a final outcome."""
    from cximpact.actions.service import measure_cases
    from cximpact.actions.store import ActionStore

    with ActionStore(settings.state_url()) as actions:
        actions.upgrade()
        found = [m for m in measure_cases(actions) if m["case_id"] == case_id]
    return {"action_outcomes": found[0]} if found else {}


@cases_app.command("measure")
def cases_measure(
    ctx: typer.Context,
    case_id: CaseId,
    close: Annotated[
        bool, typer.Option("--close", help="Close the case with the measured verdict.")
    ] = False,
    change: Annotated[
        str | None,
        typer.Option(help="Day the response took effect [default: when it reached fix_deployed]."),
    ] = None,
    actor: ActorOption = "cli",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Measure a case's effect on churn and exposure from the stored data (CI and verdict)."""
    from cximpact.cases.lifecycle import change_date
    from cximpact.measure.case import measure_case

    settings = load_settings(db=db_from_context(db, ctx))
    data = _measurement_inputs(settings)
    as_of = pd.to_datetime(data["signals"]["timestamp"]).max().ceil("D")
    with _state(db, ctx) as store:
        case = store.get_case(case_id)
        start = (
            pd.Timestamp(_today(change))
            if change
            else change_date(store.audit(case_id), pd.Timestamp(case.opened_at).tz_convert(None))
        )
        signals = data["signals"].assign(timestamp=pd.to_datetime(data["signals"]["timestamp"]))
        result = measure_case(
            case.measurement_plan,
            case_id=case.id,
            issue=case.issue,
            change=start.normalize(),
            as_of=as_of,
            signals=signals,
            outcomes=data["outcomes"],
            customers=data["customers"],
        )
        result |= _action_outcomes(settings, case_id)
        record = store.record_measurement(case_id, result, actor=actor, close=close).to_dict()
    if as_json:
        print_json({"case": record["id"], "state": record["state"], **result})
        return
    churn = result["churn"]
    console.print(
        f"case {case_id} ({case.issue}): churn reduced by {churn['estimate']:.1%} "
        f"(95% CI {churn['low']:.1%} to {churn['high']:.1%}, {churn['method']}); "
        f"verdict [bold]{result['verdict']}[/]; state {record['state']}"
    )


def monitor_command(
    db: DbOption = None,
    topics: Annotated[
        Path | None,
        typer.Option(help="Topic shares (CSV/Parquet: topic, share_recent, share_before)."),
    ] = None,
    recent: Annotated[
        bool, typer.Option("--recent/--all", help="Only detections of the last days.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Spikes and change points per root cause (volume, escalations, exposure); new topics."""
    from cximpact.cases.monitoring import monitor_report

    settings = load_settings(db=db)
    report = monitor_report(settings, topics_file=topics, recent_only=recent)
    if as_json:
        print_json(report)
        return
    from rich.table import Table

    table = Table(title=f"Detections (data up to {report['as_of']})", title_justify="left")
    for col in ("date", "root cause", "metric", "kind", "direction", "observed", "baseline"):
        table.add_column(col)
    for d in report["detections"]:
        table.add_row(
            d["date"],
            d["root_cause"],
            d["metric"],
            d["kind"],
            d["direction"],
            str(d["observed"]),
            str(d["baseline"]),
        )
    console.print(table)
    for t in report["candidate_issues"]:
        console.print(
            f"candidate issue: {t['topic']} ({t['share_recent']:.1%} of recent contacts, "
            f"was {t['share_before']:.1%})"
        )


def evaluate_measurement_command(
    effect: Annotated[float, typer.Option(help="Planted relative churn reduction (0.2 = 20%).")],
    repeats: Annotated[int, typer.Option(help="Simulated cases.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    method: Annotated[
        str,
        typer.Option(help="randomised_holdout, pre_post_volume_adjusted or phased_rollout."),
    ] = "randomised_holdout",
    baseline_churn: Annotated[
        float, typer.Option(help="Churn over the measurement window without a response.")
    ] = 0.10,
    target_effect: Annotated[
        float | None,
        typer.Option(help="Effect the plan is sized for [default: measurement_target_effect]."),
    ] = None,
    as_json: JsonOption = True,
) -> None:
    """Power, false positive rate, mean estimate and CI coverage at the planned sample size."""
    from cximpact.measure.simulation import evaluate_measurement

    settings = load_settings()
    print_json(
        evaluate_measurement(
            effect,
            repeats,
            seed,
            method=method,
            baseline_churn=baseline_churn,
            target_effect=target_effect or settings.measurement_target_effect,
            power=settings.measurement_power,
        )
    )
