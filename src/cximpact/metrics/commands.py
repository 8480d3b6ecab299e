"""The ``cximpact presets`` and ``cximpact invest`` commands, and ``issues --preset``.

Thin edges: read the stored tables, call :mod:`cximpact.metrics.presets` or
:mod:`cximpact.metrics.invest`, format. Registered in :mod:`cximpact.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from cximpact._cli import DbOption, JsonOption, print_json
from cximpact.errors import NotFoundError
from cximpact.metrics import invest as calc
from cximpact.metrics._stored import measure_initiative, rank_with, read_analysis
from cximpact.metrics.presets import (
    FEATURES,
    StrategyPreset,
    case_thresholds,
    compare_rankings,
    load_presets,
    preset_from_settings,
    priority_components,
)
from cximpact.settings import Settings, load_settings

__all__ = ["invest_command", "presets_app", "show_prioritised_issues"]

presets_app = typer.Typer(
    help="Strategy focus presets: list them, show one, compare two rankings of your issues.",
    no_args_is_help=True,
)
console = Console()
PresetArgument = Annotated[str, typer.Argument(help="Preset name (see `cximpact presets list`).")]


def prioritised_records(ranked: pd.DataFrame) -> list[dict[str, Any]]:
    """``issues --json`` records in priority order: the usual keys plus the priority fields."""
    from cximpact.report import issues_records

    usual = {r["issue"]: r for r in issues_records(ranked)}
    return [
        usual[str(row["issue"])]
        | {
            "priority_rank": int(row["priority_rank"]),
            "priority_score": round(float(row["priority_score"]), 6),
            "priority_components": priority_components(row),
        }
        for _, row in ranked.iterrows()  # one row per issue: a handful
    ]


def show_prioritised_issues(
    settings: Settings, preset_name: str | None, *, as_json: bool, limit: int
) -> None:
    """``cximpact issues --preset NAME``: issues in the preset's order, with why."""
    preset = preset_from_settings(settings, preset_name)
    ranked = rank_with(read_analysis(settings), preset)
    records = prioritised_records(ranked)[:limit]
    if as_json:
        print_json(records)
        return
    table = Table(title=f"Issues ranked by preset {preset.name!r}")
    for column in ("#", "issue", "revenue at risk", "score", "largest component"):
        table.add_column(column)
    for r in records:
        top = max(r["priority_components"].items(), key=lambda kv: kv[1], default=("", 0.0))
        table.add_row(
            str(r["priority_rank"]),
            str(r["issue"]),
            f"{r['revenue_at_risk']:,.0f}",
            f"{r['priority_score']:.3f}",
            f"{top[0]} ({top[1]:.3f})",
        )
    console.print(table)


def _describe(preset: StrategyPreset, settings: Settings) -> dict[str, Any]:
    amount, share, mode = case_thresholds(preset, settings)
    return {
        "name": preset.name,
        "description": preset.description,
        "weights": {k: round(float(v), 4) for k, v in preset.normalised_weights().items()},
        "features": {k: FEATURES[k] for k in preset.weights},
        "case_thresholds": {"amount": amount, "share": share, "mode": mode},
        "headline_metrics": list(preset.headline_metrics),
        "new_customer_days": preset.new_customer_days,
        "high_value_share": preset.high_value_share,
        "recent_days": preset.recent_days,
    }


@presets_app.command("list")
def list_presets(as_json: JsonOption = False) -> None:
    """Every preset (built-in and from CXIMPACT_STRATEGY_PRESETS_FILE) and its weights."""
    settings = load_settings()
    rows = [_describe(p, settings) for p in load_presets(settings.strategy_presets_file).values()]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"Strategy presets (current: {settings.strategy_preset})")
    for column in ("name", "weights", "case thresholds", "headline metrics"):
        table.add_column(column)
    for r in rows:
        weights = ", ".join(f"{k} {v:.2f}" for k, v in r["weights"].items())
        t = r["case_thresholds"]
        table.add_row(
            r["name"],
            weights,
            f"{t['amount']:,.0f} {t['mode']} {t['share']:.0%}",
            ", ".join(r["headline_metrics"]),
        )
    console.print(table)


@presets_app.command("show")
def show_preset(name: PresetArgument, as_json: JsonOption = False) -> None:
    """One preset: what it weighs and why, its case thresholds and headline metrics."""
    settings = load_settings()
    described = _describe(preset_from_settings(settings, name), settings)
    if as_json:
        print_json(described)
        return
    console.print(f"[bold]{described['name']}[/]: {described['description']}")
    for feature, weight in described["weights"].items():
        console.print(f"  {weight:5.2f}  {feature}: {FEATURES[feature]}")
    t = described["case_thresholds"]
    console.print(
        f"Case when revenue at risk >= {t['amount']:,.0f} {'and' if t['mode'] == 'all' else 'or'}"
        f" priority share >= {t['share']:.0%}"
    )
    console.print("Headline metrics: " + ", ".join(described["headline_metrics"]))


@presets_app.command("compare")
def compare_presets(
    first: PresetArgument,
    second: PresetArgument,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Your issues ranked by two presets side by side, and what moved each issue."""
    settings = load_settings(db=db)
    data = read_analysis(settings)
    a = rank_with(data, preset_from_settings(settings, first))
    chosen = preset_from_settings(settings, second)
    b = rank_with(data, chosen)
    table = compare_rankings(a, b, chosen.normalised_weights())
    records: list[dict[str, Any]] = [
        {
            "issue": str(r["issue"]),
            f"rank_{first}": int(r["rank_first"]),
            f"rank_{second}": int(r["rank_second"]),
            "moved": int(r["moved"]),
            f"score_{first}": round(float(r["score_first"]), 6),
            f"score_{second}": round(float(r["score_second"]), 6),
            "driver": str(r["driver"]) or None,
        }
        for r in table.to_dict(orient="records")
    ]
    if as_json:
        print_json({"first": first, "second": second, "issues": records})
        return
    out = Table(title=f"{first} vs {second}")
    for column in ("issue", first, second, "moved", "driver"):
        out.add_column(column)
    for r in records:
        moved = r["moved"]
        arrow = f"up {moved}" if moved > 0 else f"down {-moved}" if moved < 0 else ""
        out.add_row(
            r["issue"], str(r[f"rank_{first}"]), str(r[f"rank_{second}"]), arrow, r["driver"] or ""
        )
    console.print(out)


def invest_command(
    initiative: Annotated[
        str,
        typer.Argument(help="Initiative of the catalogue, e.g. proactive_status_notifications."),
    ],
    db: DbOption = None,
    assumptions: Annotated[
        Path | None,
        typer.Option(
            "--assumptions", help="YAML file of initiatives/assumptions merged over the catalogue."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override one input: name=value (repeatable)."),
    ] = None,
    years: Annotated[int, typer.Option(help="Years of cash flows.")] = 5,
    discount_rate: Annotated[
        float | None,
        typer.Option(
            "--discount-rate", help="Annual discount rate [default: setting discount_rate]."
        ),
    ] = None,
    assumptions_only: Annotated[
        bool,
        typer.Option("--assumptions-only", help="Use the catalogue's baseline; read no data."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """NPV, ROI, payback and sensitivity of a CX initiative, measured from your data."""
    settings = load_settings(db=db)
    chosen = calc.get_initiative(calc.load_initiatives(assumptions), initiative)
    overrides = calc.parse_overrides(set_ or [])
    measured: dict[str, calc.Measured] = {}
    facts: dict[str, Any] = {
        "churn_rate": settings.prior_churn_rate,
        "segments": [],
        "history_days": 0,
    }
    if not assumptions_only:
        if not Path(settings.db).exists():
            raise NotFoundError(
                f"{settings.db} does not exist; run `cximpact run --db {settings.db}` first to "
                "measure the baseline from your data, or pass --assumptions-only"
            )
        measured, facts = measure_initiative(chosen, settings)
    inputs = calc.build_inputs(chosen, measured, overrides)
    values = {name: i.value for name, i in inputs.items()}
    plan = calc.attribution_plan(
        chosen,
        customers=round(values["problem_customers_per_year"]),
        churn_rate=facts["churn_rate"],
        # retained_per_prevented_problem is per year: compare it with a yearly churn rate
        expected_effect=calc.expected_churn_reduction(
            values, 1.0 - (1.0 - facts["churn_rate"]) ** (365.0 / settings.horizon_days)
        ),
        horizon_days=settings.horizon_days,
        segments=facts["segments"],
        history_days=facts["history_days"],
        power=settings.measurement_power,
        holdout_share=settings.measurement_holdout_share,
    )
    rate = settings.discount_rate if discount_rate is None else discount_rate
    result = calc.evaluate_investment(chosen, inputs, years=years, discount_rate=rate, plan=plan)
    result["data"] = None if assumptions_only else str(settings.db)
    if as_json:
        print_json(result)
        return
    _print_investment(result)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _print_investment(result: dict[str, Any]) -> None:
    per_year = result["per_year"]
    console.print(f"[bold]{result['initiative']}[/]: {result['description']}")
    console.print(
        f"Per year at full effect: {per_year['contacts_prevented']:,.0f} contacts prevented, "
        f"{per_year['problems_prevented']:,.0f} problems prevented, "
        f"{per_year['customers_retained']:,.1f} customers retained; cost saved "
        f"{per_year['cost_saved']:,.0f}, revenue protected {per_year['revenue_protected']:,.0f}"
    )
    roi = "n/a" if result["roi"] is None else f"{result['roi']:.0%}"
    payback = (
        "not within the horizon"
        if result["payback_months"] is None
        else (f"{result['payback_months']:.1f} months")
    )
    console.print(
        f"NPV over {result['years']} years at {result['discount_rate']:.0%}: "
        f"[bold]{result['npv']:,.0f}[/]; ROI {roi}; payback {payback}"
    )
    table = Table(title="Inputs (measured / assumed / set)")
    for column in ("input", "value", "range", "basis", "source"):
        table.add_column(column)
    for i in result["inputs"]:
        table.add_row(
            i["name"],
            _number(i["value"]),
            f"{_number(i['low'])}–{_number(i['high'])}",
            i["basis"],
            i["source"],
        )
    console.print(table)
    tornado = Table(title="Sensitivity: NPV with each input at its low and high end")
    for column in ("input", "NPV at low", "NPV at high", "swing"):
        tornado.add_column(column)
    for r in result["sensitivity"]:
        tornado.add_row(
            r["input"], f"{r['npv_at_low']:,.0f}", f"{r['npv_at_high']:,.0f}", f"{r['swing']:,.0f}"
        )
    console.print(tornado)
    plan = result["attribution_plan"]
    console.print(
        f"Attribution plan: {plan['method']} ({plan['why']}); sized for a "
        f"{plan['target_effect']:.0%} churn reduction, MDE {plan['minimum_detectable_effect']:.0%}"
    )
