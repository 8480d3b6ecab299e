"""Engines that run the batch flow: the same stage functions, on one machine or on a cluster.

``local``
    :func:`cximpact.flow.run`: pandas in one process, the default.
``spark``
    :func:`cximpact.engines.spark.run_spark`: Apache Spark (the optional ``spark`` extra). The
    interaction-level work (validation, redaction, signals, repeat contacts, per-customer
    summaries) runs per Arrow batch or per customer bucket on the executors; the per-customer
    stages (value, churn model, exposure) and the cases run on the driver with the local
    engine's code. See docs/spark.md.

The local engine never imports pyspark.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cximpact.errors import ConfigError

if TYPE_CHECKING:
    from cximpact.flow import FlowResult, Step
    from cximpact.settings import Settings

__all__ = ["ENGINES", "run_flow"]

Engine = Literal["local", "spark"]
ENGINES: tuple[str, ...] = ("local", "spark")


def run_flow(
    data_dir: Path | None,
    settings: Settings,
    *,
    engine: str | None = None,
    step: Step | None = None,
    today: date | None = None,
) -> FlowResult:
    """Run the batch flow on ``engine`` (default ``settings.engine``).

    Raises
    ------
    ConfigError
        Unknown engine, or ``spark`` without pyspark installed.
    """
    from cximpact.flow import _quiet, run

    chosen = engine or settings.engine
    if chosen == "local":
        return run(data_dir, settings, step=step or _quiet, today=today)
    if chosen == "spark":
        try:
            from cximpact.engines.spark import run_spark
        except ImportError as exc:
            raise ConfigError(
                f"engine spark needs pyspark, which is not installed ({exc}). Fix: "
                "pip install 'cximpact[spark]' (Java 17 or newer on PATH), or use --engine local"
            ) from exc
        return run_spark(data_dir, settings, step=step or _quiet, today=today)
    raise ConfigError(f"unknown engine {chosen!r}; expected one of {list(ENGINES)}")
