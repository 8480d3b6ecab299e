"""The one data flow, end to end: ingest -> signals -> value -> risk -> exposure -> cases.

Stages are pure functions over DataFrames; this module is the only place that wires them to the
stores, so the same stages run in a batch, a test or a service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cximpact.cases.business_case import (
    PlaybookOption,
    build_business_case,
    load_playbook,
    measurement_plan,
)
from cximpact.cases.lifecycle import escalate_overdue, material_issues, recent_evidence, rising
from cximpact.cases.routing import Routing, load_routing, severity_of
from cximpact.errors import ConfigError, ContractError, NotFoundError
from cximpact.exposure.issues import (
    ExposureResult,
    compute_exposure,
    customer_signal_summary,
    issue_flags,
)
from cximpact.ingest.pipeline import IngestReport, ingest_file
from cximpact.monitor.detect import detect
from cximpact.risk.model import ChurnRiskModel, customer_features
from cximpact.settings import Settings
from cximpact.signals.compute import compute_signals
from cximpact.store.analytics import AnalyticsStore
from cximpact.store.state import CaseRecord, StateStore
from cximpact.value.ladder import estimate_values
from cximpact.value.models import model_values

if TYPE_CHECKING:
    from cximpact.signals.topics import TopicClassifier

__all__ = [
    "INGEST_ORDER",
    "Analysis",
    "analyse",
    "find_exports",
    "finish_run",
    "ingest_directory",
    "material_issues_of",
    "open_cases",
    "run",
    "score_customers",
]

#: Customers first: every other kind refers to them.
INGEST_ORDER = ("customers", "finance", "outcomes", "transactions", "interactions")
_SUFFIXES = (
    ".csv",
    ".csv.gz",
    ".tsv",
    ".tsv.gz",
    ".parquet",
    ".jsonl",
    ".jsonl.gz",
    ".ndjson",
    ".ndjson.gz",
    ".json",
)
Step = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def find_exports(data_dir: Path) -> dict[str, Path]:
    """Files named after a kind (``customers.csv``, ``interactions.parquet`` ...)."""
    if not data_dir.is_dir():
        raise NotFoundError(
            f"data directory {data_dir} does not exist; pass --data DIR with exports"
        )
    found: dict[str, Path] = {}
    for kind in INGEST_ORDER:
        files = [data_dir / f"{kind}{s}" for s in _SUFFIXES if (data_dir / f"{kind}{s}").is_file()]
        if len(files) > 1:
            raise ContractError(
                f"{data_dir} holds {len(files)} {kind} files {[f.name for f in files]}; "
                "keep one so nothing is ingested twice or skipped"
            )
        if files:
            found[kind] = files[0]
    if "customers" not in found or "interactions" not in found:
        raise ContractError(
            f"{data_dir} needs at least customers.* and interactions.* (csv, parquet or jsonl); "
            f"found {sorted(p.name for p in found.values())}"
        )
    return found


def ingest_directory(
    store: AnalyticsStore, data_dir: Path, settings: Settings, step: Step = _quiet
) -> list[IngestReport]:
    """Ingest every export found in ``data_dir``, customers first."""
    reports = []
    for kind, path in find_exports(data_dir).items():
        step(f"ingest {path.name}")
        reports.append(ingest_file(store, kind, path, settings))
    return reports


@dataclass(frozen=True)
class Analysis:
    """Everything the flow derived, as of one moment."""

    as_of: pd.Timestamp
    window_days: int
    signals: pd.DataFrame
    values: pd.DataFrame
    model: ChurnRiskModel
    exposure: ExposureResult
    horizon_days: int = 365
    customers: pd.DataFrame | None = None  # the customers export (tenure, revenue, margin)


def analyse(
    store: AnalyticsStore,
    settings: Settings,
    *,
    as_of: pd.Timestamp | None = None,
    step: Step = _quiet,
) -> Analysis:
    """Derive signals, values, risk and exposure from the stored facts and store them."""
    customers = store.read("customers")
    interactions = store.read("interactions")
    if interactions.empty or customers.empty:
        raise NotFoundError(f"{store.path} holds no customers or interactions; ingest them first")
    stamp = pd.Timestamp(as_of) if as_of is not None else interactions["timestamp"].max().ceil("D")
    interactions = interactions[interactions["timestamp"] <= stamp]
    window_days = max(int((stamp - interactions["timestamp"].min()).days), 1)
    step(f"signals for {len(interactions):,} interactions")
    signals = compute_signals(
        interactions,
        taxonomy_file=settings.taxonomy_file,
        repeat_contact_days=settings.repeat_contact_days,
        default_handling_cost=settings.handling_cost,
        topic_model=topic_model(settings, interactions["text"]),
    )
    values, model, exposure = score_customers(
        store,
        settings,
        customers,
        flags=issue_flags(signals),
        summary=customer_signal_summary(signals),
        as_of=stamp,
        window_start=interactions["timestamp"].min().floor("D"),
        window_days=window_days,
        signals=signals if settings.risk_language_signals else None,
        step=step,
    )
    for name, frame in (
        ("signals", signals),
        ("customer_values", values),
        ("customer_risk", exposure.risk),
        ("issue_exposure", exposure.issues),
        ("customer_exposure", exposure.customers),
    ):
        store.replace_table(name, frame)
    return Analysis(
        stamp, window_days, signals, values, model, exposure, settings.horizon_days, customers
    )


def score_customers(
    store: AnalyticsStore,
    settings: Settings,
    customers: pd.DataFrame,
    *,
    flags: pd.DataFrame,
    summary: pd.DataFrame,
    as_of: pd.Timestamp,
    window_start: pd.Timestamp,
    window_days: int,
    signals: pd.DataFrame | None = None,
    step: Step = _quiet,
) -> tuple[pd.DataFrame, ChurnRiskModel, ExposureResult]:
    """Values, churn model and exposure from per-customer inputs: the flow after the signals.

    Every input is one row per customer (or per customer and issue), so an engine that computes
    the signals elsewhere (:mod:`cximpact.engines.spark`) hands them here and gets the local
    engine's answers.

    Parameters
    ----------
    flags
        :func:`~cximpact.exposure.issues.issue_flags` of the signals.
    summary
        :func:`~cximpact.exposure.issues.customer_signal_summary` of the signals.
    as_of, window_start, window_days
        End of the observation window, its first day, and its length in days.
    signals
        The signals themselves when ``settings.risk_language_signals`` asks for them.

    Returns
    -------
    (values, model, exposure)
    """
    stamp = as_of
    outcomes = store.read("outcomes")
    churned_ids = outcomes.loc[pd.to_datetime(outcomes["churn_date"]) <= stamp, "customer_id"]
    step("lifetime value")
    computed = model_values(
        customers,
        outcomes[pd.to_datetime(outcomes["churn_date"]) <= stamp],
        store.read("transactions"),
        window_start=window_start,
        as_of=stamp,
        years=settings.ltv_years,
        discount_rate=settings.discount_rate,
        purchase_margin_rate=settings.purchase_margin_rate,
        issue_flags=flags,
    )
    for note in computed.notes:
        step(note)
    values = estimate_values(
        customers,
        store.read("finance"),
        default_ltv=settings.default_ltv,
        annual_churn=_annual_churn(len(churned_ids), len(customers), window_days, settings)
        if len(outcomes)
        else settings.prior_churn_rate,
        discount_rate=settings.discount_rate,
        model_values=computed.values,
    )
    step("churn risk")
    features = customer_features(
        customers,
        flags,
        as_of=stamp,
        signals=signals,
    )
    churned = features.index.isin(churned_ids)
    y = pd.Series(churned.astype(int), index=features.index) if len(outcomes) else None
    model = ChurnRiskModel(prior_churn_rate=settings.prior_churn_rate).fit(features, y)
    period = window_days if model.source_ == "model" else 365  # priors are annual rates
    step("exposure")
    exposure = compute_exposure(
        features,
        model,
        values,
        summary,
        active=pd.Series(~churned, index=features.index),
        horizon_factor=settings.horizon_days / period,
    )
    return values, model, exposure


def topic_model(settings: Settings, texts: pd.Series) -> TopicClassifier | None:
    """The root-cause classifier ``settings.topic_mode`` asks for, fitted; None for keywords.

    Raises
    ------
    ConfigError
        ``supervised`` without ``topic_training_file``, or ``few-shot`` without
        ``topic_fewshot_file``.
    """
    from cximpact.signals.evaluate import read_labelled
    from cximpact.signals.topics import make_topic_classifier

    if settings.topic_mode == "keywords":
        return None
    if settings.topic_mode == "supervised":
        if settings.topic_training_file is None:
            raise ConfigError(
                "topic_mode=supervised needs labelled interactions. Fix: set "
                "CXIMPACT_TOPIC_TRAINING_FILE to a file with columns text, label"
            )
        labelled = read_labelled(settings.topic_training_file, "text", "label", "training")
        model = make_topic_classifier("supervised")
        return model.fit(labelled["text"], labelled["label"])
    if settings.topic_fewshot_file is None:
        raise ConfigError(
            "topic_mode=few-shot needs a taxonomy of examples. Fix: set "
            "CXIMPACT_TOPIC_FEWSHOT_FILE (see src/cximpact/signals/data/fewshot_taxonomy.yaml)"
        )
    model = make_topic_classifier("few-shot", taxonomy=settings.topic_fewshot_file)
    return model.fit(texts.fillna("").astype(str))


def _annual_churn(churned: int, customers: int, window_days: int, settings: Settings) -> float:
    """Observed churn over the window, annualised: ``1 - (1 - rate) ** (365 / window)``."""
    rate = churned / max(customers, 1)
    if rate <= 0:
        return settings.prior_churn_rate
    return float(1 - (1 - rate) ** (365 / window_days))


def material_issues_of(
    issues: pd.DataFrame, settings: Settings, analysis: Analysis | None = None
) -> pd.DataFrame:
    """The issues past the case thresholds: the settings', or the strategy preset's.

    Under a preset other than ``balanced`` (and with ``analysis`` given) the preset's thresholds
    apply to revenue at risk and to each issue's share of the preset's priority.
    """
    if analysis is not None and settings.strategy_preset != "balanced":
        return _material_under_preset(issues, settings, analysis)
    keep = material_issues(
        issues,
        amount=settings.case_threshold_amount,
        share=settings.case_threshold_share,
        mode=settings.case_threshold_mode,
    )
    return issues[keep]


def _material_under_preset(
    issues: pd.DataFrame, settings: Settings, analysis: Analysis
) -> pd.DataFrame:
    """Material issues under the strategy preset (its thresholds; share of its priority)."""
    from cximpact.metrics.presets import (
        customer_profiles,
        material_under_preset,
        preset_from_settings,
        prioritise,
    )

    preset = preset_from_settings(settings)
    profiles = analysis.customers
    if profiles is not None:
        profiles = customer_profiles(profiles, analysis.values)
    ranked = prioritise(
        issues,
        analysis.exposure.customers,
        analysis.signals,
        preset,
        profiles=profiles,
        as_of=analysis.as_of,
    )
    return ranked[material_under_preset(ranked, preset, settings).to_numpy()]


def _concentration(affected: pd.DataFrame) -> float:
    total = float(affected["revenue_at_risk"].sum())
    if total <= 0:
        return 0.0
    top = max(1, len(affected) // 10)
    return float(affected["revenue_at_risk"].nlargest(top).sum()) / total


def case_fields(
    issue: pd.Series,
    affected: pd.DataFrame,
    analysis: Analysis,
    settings: Settings,
    today: date,
    *,
    routing: Routing,
    playbook: dict[str, PlaybookOption],
) -> dict[str, Any]:
    """Fields of the case for one material issue: business case, owner, severity, due date."""
    segment = str(affected["segment"].mode().iat[0]) if len(affected) else None
    contacts = analysis.signals[analysis.signals["root_cause"] == issue["issue"]]
    channel = str(contacts["channel"].mode().iat[0]) if len(contacts) else None
    team, owner = routing.route(str(issue["issue"]), segment, channel)
    severity = severity_of(float(issue["share_of_exposure"]), _concentration(affected))
    case = build_business_case(
        issue,
        affected,
        playbook=playbook,
        horizon_days=settings.horizon_days,
        window_days=analysis.window_days,
        top=25,
    )
    case |= {"dominant_segment": segment, "dominant_channel": channel}
    churn_rate = float(affected["churn_probability"].mean()) if len(affected) else 0.1
    history = contacts["timestamp"].max() - contacts["timestamp"].min() if len(contacts) else None
    plan = measurement_plan(
        case["recommended_response"],
        case["customers"],
        churn_rate,
        settings.horizon_days,
        segments=[str(s) for s in affected["segment"].dropna().unique()] if len(affected) else [],
        history_days=history.days if history is not None else 0,
        target_effect=settings.measurement_target_effect,
        power=settings.measurement_power,
        holdout_share=settings.measurement_holdout_share,
    )
    case["measurement_plan"] = plan
    return {
        "severity": severity,
        "team": team,
        "owner": owner,
        "due": routing.due(severity, today),
        "revenue_at_risk": case["revenue_at_risk"],
        "customers": case["customers"],
        "aggregate_ltv": case["aggregate_ltv"],
        "cost_of_inaction": case["cost_of_inaction"],
        "cost_of_intervention": case["cost_of_intervention"],
        "recommended_response": case["recommended_response"],
        "measurement_plan": plan,
        "business_case": case,
    }


def open_cases(
    state: StateStore, analysis: Analysis, settings: Settings, *, today: date | None = None
) -> list[tuple[CaseRecord, bool]]:
    """Open or refresh one case per material issue; flag the rest; escalate what is overdue.

    Material: past the thresholds (:func:`~cximpact.cases.lifecycle.material_issues`) or with a
    recent spike or change point (attached to the case as evidence). An open case whose issue
    is no longer material is refreshed and flagged ``below_threshold_since``.
    """
    today = today or date.today()
    routing = load_routing(settings.routing_file)
    playbook = load_playbook(settings.playbook_file)
    issues = analysis.exposure.issues
    by_issue = dict(tuple(analysis.exposure.customers.groupby("issue")))
    evidence = recent_evidence(
        detect(
            analysis.signals,
            analysis.exposure.customers,
            baseline_days=settings.monitor_baseline_days,
            spike_z=settings.monitor_spike_z,
        ),
        analysis.as_of,
        settings.monitor_recent_days,
    )
    exposed = set(issues.loc[issues["revenue_at_risk"] > 0, "issue"])
    # a rising detection makes an issue material only when it carries exposure: a volume spike
    # on a topic that costs nothing is evidence for a case, not a reason to open one
    material = set(material_issues_of(issues, settings, analysis)["issue"])
    material |= rising(evidence) & exposed
    already_open = {c.issue for c in state.list_cases(include_terminal=False)}
    results = []
    for _, issue in issues[issues["issue"].isin(material | already_open)].iterrows():
        name = str(issue["issue"])  # a handful of issues, not rows
        affected = by_issue.get(name, analysis.exposure.customers.iloc[:0])
        fields = case_fields(
            issue, affected, analysis, settings, today, routing=routing, playbook=playbook
        )
        fields["below_threshold_since"] = None if name in material else today
        if name in evidence:
            fields["evidence"] = evidence[name]
        if name in already_open:  # fixed when the case opened: due date, plan
            fields.pop("due")
            fields.pop("measurement_plan")
        results.append(state.upsert_case(name, fields))
    for name in already_open - set(issues["issue"]):  # no exposure left at all
        results.append(state.upsert_case(name, {"below_threshold_since": today}))
    escalate_overdue(state, routing, today)
    return results


@dataclass(frozen=True)
class FlowResult:
    """What one run produced."""

    reports: list[IngestReport]
    analysis: Analysis
    cases: list[tuple[CaseRecord, bool]]


def run(
    data_dir: Path | None, settings: Settings, *, step: Step = _quiet, today: date | None = None
) -> FlowResult:
    """Ingest ``data_dir`` (if given), analyse, and open or refresh cases."""
    if data_dir is not None:
        find_exports(data_dir)  # fail before any store is created or touched
    elif not Path(settings.db).exists():
        raise NotFoundError(
            f"{settings.db} does not exist; pass --data DIR with exports to ingest, or the --db "
            "of an earlier run"
        )
    with AnalyticsStore(settings.db) as store:
        reports = ingest_directory(store, data_dir, settings, step) if data_dir is not None else []
        analysis = analyse(store, settings, step=step)
    return finish_run(settings, reports, analysis, step=step, today=today)


def finish_run(
    settings: Settings,
    reports: list[IngestReport],
    analysis: Analysis,
    *,
    step: Step = _quiet,
    today: date | None = None,
) -> FlowResult:
    """What every engine does after the analysis: open or refresh cases, plan actions."""
    step("cases")
    with StateStore(settings.state_url()) as state:
        state.upgrade()
        cases = open_cases(state, analysis, settings, today=today)
    if settings.actions_plan_on_run:
        from cximpact.actions.service import plan_on_run

        plan_on_run(settings, analysis.exposure.customers, step=step)
    return FlowResult(reports, analysis, cases)
