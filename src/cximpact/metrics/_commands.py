"""The ``cximpact metrics`` and ``cximpact report board`` commands: parse, compute, format."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer

from cximpact._cli import DbOption, JsonOption, print_json
from cximpact.errors import ConfigError
from cximpact.settings import Settings, load_settings

if TYPE_CHECKING:
    from cximpact.metrics.portfolio import MetricInputs

__all__ = ["metrics_command", "report_app"]

report_app = typer.Typer(help="Reports for the board: exposure, owners, verdicts, the portfolio.")

FromOption = Annotated[
    str | None, typer.Option("--from", help="First day (YYYY-MM-DD) [default: first contact].")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="Last day, included [default: last contact].")
]
WindowOption = Annotated[str, typer.Option(help="Window: week, month or quarter.")]
PresetOption = Annotated[
    str | None,
    typer.Option(help="Strategy preset whose headline metrics come first [default: setting]."),
]


def _day(value: str, option: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(value).normalize()
    except ValueError:
        raise ConfigError(f"{option} {value!r} is not a date; pass YYYY-MM-DD") from None


def _period(
    inputs: MetricInputs, start: str | None, to: str | None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[from, to + 1 day)``; defaults: the first and last day of stored contacts."""
    stamps = pd.to_datetime(inputs.interactions["timestamp"])
    begin = _day(start, "--from") if start else stamps.min().normalize()
    end = _day(to, "--to") + pd.Timedelta(days=1) if to else inputs.as_of
    return begin, end


def _headline(settings: Settings, preset: str | None) -> tuple[str, tuple[str, ...]]:
    from cximpact.metrics.presets import preset_from_settings

    chosen = preset_from_settings(settings, preset)
    return chosen.name, tuple(chosen.headline_metrics)


def _load(
    db: Path | None, start: str | None, to: str | None
) -> tuple[Settings, MetricInputs, pd.Timestamp, pd.Timestamp]:
    from cximpact.metrics._io import read_inputs

    settings = load_settings(db=db)
    end = _day(to, "--to") + pd.Timedelta(days=1) if to else None
    inputs = read_inputs(settings.db, as_of=end)
    begin, stop = _period(inputs, start, to)
    return settings, inputs, begin, stop


def metrics_command(
    db: DbOption = None,
    start: FromOption = None,
    to: ToOption = None,
    window: WindowOption = "month",
    preset: PresetOption = None,
    as_json: JsonOption = False,
) -> None:
    """The metrics portfolio per window: definition, formula, lineage and values."""
    from cximpact.metrics._io import assumptions_from_settings
    from cximpact.metrics.board import metric_summary
    from cximpact.metrics.portfolio import compute_portfolio, order_by_headline

    settings, inputs, begin, stop = _load(db, start, to)
    name, headline = _headline(settings, preset)
    results = order_by_headline(
        compute_portfolio(
            inputs,
            start=begin,
            end=stop,
            window=window,
            assumptions=assumptions_from_settings(settings),
        ),
        headline,
    )
    payload = {
        "from": begin.date().isoformat(),
        "to": (stop - pd.Timedelta(days=1)).date().isoformat(),
        "as_of": inputs.as_of.isoformat(),
        "window": window,
        "preset": name,
        "headline": list(headline),
        "metrics": [metric_summary(r, headline) for r in results],
    }
    if as_json:
        print_json(payload)
        return
    from rich.console import Console

    Console().print(_table(payload))


def _table(payload: dict[str, Any], last: int = 3) -> Any:
    from rich.table import Table

    from cximpact.metrics._narrative import fmt_value

    metrics = payload["metrics"]
    windows = [v["window"] for v in metrics[0]["values"]][-last:] if metrics else []
    table = Table(
        title=f"Metrics portfolio {payload['from']} to {payload['to']} "
        f"(preset {payload['preset']}; headline in bold)"
    )
    table.add_column("metric", max_width=30)
    table.add_column("term")
    for w in windows:
        table.add_column(w, justify="right", no_wrap=True, min_width=8)
    table.add_column("status", no_wrap=True)
    for m in metrics:
        cells = [fmt_value(v["value"], m["unit"]) for v in m["values"]][-last:]
        name = f"[bold]{m['name']}[/]" if m["headline"] else m["name"]
        table.add_row(name, str(m["horizon"])[0].upper(), *cells, m["status"])
    missing = [f"{m['name']}: needs {m['enabled_by']}" for m in metrics if m["status"] != "ok"]
    if missing:
        table.caption = "no data - " + "; ".join(missing)
    return table


@report_app.command("board")
def board_command(
    out: Annotated[Path, typer.Option(help="Directory for board.html, board.pdf, board.json.")],
    start: FromOption = None,
    to: ToOption = None,
    window: WindowOption = "month",
    preset: PresetOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the board report as self-contained HTML and PDF."""
    from cximpact.metrics._io import assumptions_from_settings, read_cases
    from cximpact.metrics.board import build_board, write_board

    settings, inputs, begin, stop = _load(db, start, to)
    name, headline = _headline(settings, preset)
    report = build_board(
        inputs,
        read_cases(settings),
        start=begin,
        end=stop,
        window=window,
        assumptions=assumptions_from_settings(settings),
        preset=name,
        headline=headline,
    )
    paths = write_board(report, out, settings)
    if as_json:
        print_json({k: str(v) for k, v in paths.items()})
        return
    typer.echo(f"wrote {paths['html']} and {paths['pdf']}")
