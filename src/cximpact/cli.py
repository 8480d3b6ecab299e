"""The ``cximpact`` command line: parse, call one function of the core, format."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cximpact._cli import DbOption, JsonOption, print_json
from cximpact.actions.commands import actions_app, worker_command
from cximpact.cases.commands import cases_app, evaluate_measurement_command, monitor_command
from cximpact.errors import ConfigError, CximpactError, NotFoundError
from cximpact.metrics._commands import metrics_command, report_app
from cximpact.metrics.commands import invest_command, presets_app
from cximpact.service.commands import consume, serve, tokens_app
from cximpact.settings import Settings, describe_settings, load_settings
from cximpact.signals.commands import topics_app

app = typer.Typer(
    name="cximpact",
    help=(
        "What customer-service problems cost your future, who owns each fix, and whether it worked."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(cases_app, name="cases")
app.command("monitor")(monitor_command)
evaluate_app = typer.Typer(help="Measure the models on your own data (prints JSON).")
app.add_typer(evaluate_app, name="evaluate")
evaluate_app.command("measurement")(evaluate_measurement_command)
app.add_typer(tokens_app, name="tokens")
app.command("serve")(serve)
app.command("consume")(consume)
app.add_typer(actions_app, name="actions")
app.command("worker")(worker_command)
app.add_typer(topics_app, name="topics")
app.add_typer(presets_app, name="presets")
app.command("invest")(invest_command)
app.command("metrics")(metrics_command)
app.add_typer(report_app, name="report")
console = Console()
err_console = Console(stderr=True)


def _settings(db: Path | None = None) -> Settings:
    return load_settings(db=db)


@contextmanager
def _progress(enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A Rich progress display on stderr; yields ``step(description)``."""
    if not enabled or not err_console.is_terminal:
        yield lambda _msg: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=None)
        yield lambda msg: progress.update(task, description=msg)


@app.command()
def settings(as_json: JsonOption = False) -> None:
    """List every setting: environment variable, current value, default and meaning."""
    rows = describe_settings(load_settings())
    if as_json:
        print_json(rows)
        return
    table = Table(
        title="Settings (environment CXIMPACT_*, or a TOML file named by CXIMPACT_CONFIG)"
    )
    for col in ("env", "value", "default", "help"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["env"], str(r["value"]), str(r["default"]), r["help"])
    console.print(table)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Directory to write the exports and truth.json to.")],
    customers: Annotated[int, typer.Option(help="Number of customers.")] = 2000,
    days: Annotated[int, typer.Option(help="Days of history.")] = 180,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same enterprise.")] = 0,
    routine_contacts: Annotated[
        float, typer.Option(help="Routine contacts per customer and year, on top of issues.")
    ] = 0.5,
    as_json: JsonOption = False,
) -> None:
    """Write a synthetic enterprise (customers, interactions, transactions, outcomes, finance)."""
    from cximpact.simulate import SimulationConfig, write_enterprise
    from cximpact.simulate import simulate as run_simulation

    with _progress(not as_json) as step:
        step(f"simulating {customers:,} customers over {days} days")
        config = SimulationConfig(
            customers=customers, days=days, seed=seed, routine_contacts_per_year=routine_contacts
        )
        enterprise = run_simulation(config)
        step("writing files")
        paths = write_enterprise(enterprise, out)
    summary = {
        kind: len(getattr(enterprise, kind))
        for kind in ("customers", "interactions", "transactions", "outcomes", "finance")
    }
    if as_json:
        print_json(
            {"out": str(out), "rows": summary, "files": {k: str(v) for k, v in paths.items()}}
        )
        return
    console.print(
        f"Wrote to [bold]{out}[/]: " + ", ".join(f"{v:,} {k}" for k, v in summary.items())
    )


@app.command()
def ingest(
    kind: Annotated[
        str, typer.Argument(help="customers, interactions, transactions, outcomes or finance")
    ],
    file: Annotated[Path, typer.Argument(help="CSV, TSV, Parquet or JSONL file (optionally .gz)")],
    map_: Annotated[
        str | None, typer.Option("--map", help="Mapping file, or built-in: zendesk, salesforce")
    ] = None,
    delimiter: Annotated[str | None, typer.Option(help="CSV delimiter if not a comma")] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv, tsv, parquet, jsonl or json when the name misleads"),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate, redact and store one file; bad rows go to quarantine with a fix hint."""
    from cximpact.ingest.pipeline import ingest_file
    from cximpact.store.analytics import AnalyticsStore

    cfg = _settings(db)
    with _progress(not as_json) as step, AnalyticsStore(cfg.db) as store:
        step(f"ingesting {file.name}")
        report = ingest_file(store, kind, file, cfg, mapping=map_, delimiter=delimiter, fmt=fmt)
    data = report.to_dict()
    if as_json:
        print_json(
            {k: data[k] for k in ("rows_read", "accepted", "quarantined", "by_rule", "inserted")}
        )
        return
    console.print(
        f"{file.name}: {report.rows_read:,} read, {report.accepted:,} accepted "
        f"({report.inserted:,} new), {report.quarantined:,} quarantined {report.by_rule or ''}"
    )


@app.command()
def run(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Directory of exports (customers.csv, interactions.csv ...)"),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="local (pandas, default: setting engine) or spark (PySpark): docs/spark.md",
        ),
    ] = None,
) -> None:
    """Run the flow: ingest a directory of exports, score, rank issues in money, open cases."""
    from cximpact.engines import run_flow
    from cximpact.report import issues_records

    cfg = _settings(db)
    with _progress(not as_json) as step:
        result = run_flow(data, cfg, engine=engine, step=step)
    if as_json:
        print_json(
            {
                "ingest": [r.to_dict() for r in result.reports],
                "issues": issues_records(result.analysis.exposure.issues),
                "cases": [c.to_dict() for c, _ in result.cases],
            }
        )
        return
    _show_overview(result)


def _show_overview(result: Any, top_customers: int = 8) -> None:
    from cximpact.report import cases_table, customers_table, issues_table, money

    analysis = result.analysis
    issues = analysis.exposure.issues
    for r in result.reports:
        console.print(
            f"[dim]ingested {r.source}: {r.rows_read:,} read, {r.accepted:,} accepted, "
            f"{r.quarantined:,} quarantined[/]"
        )
    source = (
        "learned from outcomes"
        if analysis.model.source_ == "model"
        else "PRIORS (no outcomes with both churned and retained customers yet)"
    )
    total = float(analysis.exposure.risk["revenue_at_risk"].sum())
    console.print(
        f"\nAs of {analysis.as_of.date()}: {len(analysis.signals):,} interactions, "
        f"{len(analysis.values):,} customers, total revenue at risk {money(total)} "
        f"(risk {source}; horizon {analysis.horizon_days} days, "
        f"observed window {analysis.window_days} days)\n"
    )
    console.print(issues_table(issues))
    if len(issues):
        top = str(issues.iloc[0]["issue"])
        rows = analysis.exposure.customers
        console.print(customers_table(rows[rows["issue"] == top], top, top_customers))
    console.print(cases_table([c.to_dict() for c, _ in result.cases]))


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option(help="Where to write the simulated exports and the stores.")
    ] = Path("cximpact-demo"),
    customers: Annotated[int, typer.Option(help="Customers in the simulated enterprise.")] = 20000,
    days: Annotated[int, typer.Option(help="Days of history.")] = 180,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
) -> None:
    """Simulate an enterprise, run everything, show issues in dollars and the cases opened."""
    from cximpact.flow import run as run_flow
    from cximpact.simulate import SimulationConfig, write_enterprise
    from cximpact.simulate import simulate as run_simulation

    started = time.perf_counter()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; pass a directory for the demo")
    cfg = load_settings(db=out / "cximpact.duckdb")
    for stale in (cfg.db, Path(str(cfg.db) + ".wal"), cfg.db.with_suffix(".state.sqlite")):
        stale.unlink(missing_ok=True)  # a demo starts from a clean slate
    with _progress() as step:
        step(f"simulating {customers:,} customers over {days} days")
        enterprise = run_simulation(SimulationConfig(customers=customers, days=days, seed=seed))
        write_enterprise(enterprise, out / "data")
        result = run_flow(out / "data", cfg, step=step)
    console.rule("[bold]cximpact demo: what service problems cost this enterprise's future")
    _show_overview(result)
    console.print(
        f"\n[dim]Done in {time.perf_counter() - started:.0f}s. "
        f"Data and truth.json in {out / 'data'}; "
        f"explore with: cximpact issues --db {cfg.db} · cximpact cases --db {cfg.db} · "
        f"cximpact cases show 1 --db {cfg.db}[/]"
    )


@app.command()
def issues(
    db: DbOption = None,
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
    preset: Annotated[
        str | None,
        typer.Option(help="Rank by a strategy preset [default: setting strategy_preset]."),
    ] = None,
) -> None:
    """Issues ranked by revenue at risk (customers affected, aggregate LTV)."""
    from cximpact.report import issues_records, issues_table
    from cximpact.store.analytics import AnalyticsStore

    cfg = _settings(db)
    if preset is not None or cfg.strategy_preset != "balanced":
        from cximpact.metrics.commands import show_prioritised_issues

        show_prioritised_issues(cfg, preset, as_json=as_json, limit=limit)
        return
    with AnalyticsStore(cfg.db, read_only=True) as store:
        frame = store.read("issue_exposure")
    if as_json:
        print_json(issues_records(frame)[:limit])
    else:
        console.print(issues_table(frame, limit))


@app.command()
def customers(
    issue: Annotated[
        str, typer.Option("--issue", help="Root cause, as listed by `cximpact issues`.")
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
) -> None:
    """Customers carrying one issue's risk, ranked by lifetime value, with why."""
    from cximpact.report import customers_records, customers_table
    from cximpact.store.analytics import AnalyticsStore

    with AnalyticsStore(_settings(db).db, read_only=True) as store:
        frame = store.read("customer_exposure")
    rows = frame[frame["issue"] == issue]
    if rows.empty:
        known = sorted(frame["issue"].unique())
        raise NotFoundError(f"issue {issue!r} has no customers; known issues: {known}")
    if as_json:
        print_json(customers_records(rows)[:limit])
    else:
        console.print(customers_table(rows, issue, limit))


@evaluate_app.command("churn")
def evaluate_churn_command(
    data: Annotated[Path, typer.Option(help="Tabular churn file (CSV, Parquet, JSONL).")],
    target: Annotated[str, typer.Option(help="Column holding the churn outcome.")],
    positive: Annotated[
        str | None, typer.Option(help="Value of --target that means churned (default: guess).")
    ] = None,
    id_column: Annotated[str | None, typer.Option(help="Identifier column to leave out.")] = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: JsonOption = True,
) -> None:
    """Cross-validated ROC AUC, PR AUC, Brier score and calibration error of the churn model."""
    from cximpact.risk.evaluate import evaluate_churn

    result = evaluate_churn(
        data, target=target, positive=positive, id_column=id_column, folds=folds, seed=seed
    )
    print_json(result)


@evaluate_app.command("clv")
def evaluate_clv_command(
    transactions: Annotated[Path, typer.Option(help="Transactions file (CSV, Parquet, JSONL).")],
    calibration_end: Annotated[str, typer.Option(help="Last day of the calibration period.")],
    customer_column: Annotated[str, typer.Option(help="Customer id column.")] = "customer_id",
    date_column: Annotated[str, typer.Option(help="Purchase date column.")] = "date",
    amount_column: Annotated[str, typer.Option(help="Purchase amount column.")] = "amount",
    holdout_end: Annotated[
        str | None, typer.Option(help="Last day of the holdout (default: last purchase).")
    ] = None,
    as_json: JsonOption = True,
) -> None:
    """Fit BG/NBD and Gamma-Gamma on the calibration period; score the holdout."""
    from cximpact.value.evaluate import evaluate_clv

    result = evaluate_clv(
        transactions,
        customer_column=customer_column,
        date_column=date_column,
        amount_column=amount_column,
        calibration_end=calibration_end,
        holdout_end=holdout_end,
    )
    print_json(result)


@evaluate_app.command("topics")
def evaluate_topics_command(
    train: Annotated[Path, typer.Option(help="Labelled interactions to fit on.")],
    test: Annotated[Path, typer.Option(help="Labelled interactions to score.")],
    text_column: Annotated[str, typer.Option(help="Text column.")] = "text",
    label_column: Annotated[str, typer.Option(help="Label column.")] = "label",
    oos_label: Annotated[
        str | None, typer.Option(help="Label of out-of-scope rows (expected answer: other).")
    ] = None,
    mode: Annotated[
        str, typer.Option(help="supervised (learn from TRAIN) or few-shot (--taxonomy).")
    ] = "supervised",
    taxonomy: Annotated[
        Path | None,
        typer.Option(help="Few-shot taxonomy YAML; TRAIN then only calibrates the threshold."),
    ] = None,
    as_json: JsonOption = True,
) -> None:
    """Fit a root-cause classifier on TRAIN; accuracy, macro F1, OOS, speed on TEST."""
    from cximpact.signals.evaluate import evaluate_topics

    print_json(
        evaluate_topics(
            train,
            test,
            text_column=text_column,
            label_column=label_column,
            oos_label=oos_label,
            mode=mode,
            taxonomy=taxonomy,
        )
    )


@evaluate_app.command("sentiment")
def evaluate_sentiment_command(
    data: Annotated[Path, typer.Option(help="Texts with positive/neutral/negative labels.")],
    text_column: Annotated[str, typer.Option(help="Text column.")] = "text",
    label_column: Annotated[str, typer.Option(help="Label column.")] = "label",
    train: Annotated[
        Path | None, typer.Option(help="Labelled texts to fit a model on (else: the rules).")
    ] = None,
    as_json: JsonOption = True,
) -> None:
    """Accuracy, macro F1 and speed of the sentiment signal against your labels."""
    from cximpact.signals.evaluate import evaluate_sentiment

    print_json(
        evaluate_sentiment(data, text_column=text_column, label_column=label_column, train=train)
    )


def main() -> None:
    """Entry point: run the app, turning cximpact errors into one clear line and exit code 1."""
    try:
        app()
    except CximpactError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
