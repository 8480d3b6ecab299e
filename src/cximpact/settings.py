"""Declared settings: one table, read from ``CXIMPACT_*`` environment variables and an
optional TOML file named by ``CXIMPACT_CONFIG`` (a ``[cximpact]`` table or top-level keys).

Nothing here is read at import time: call :func:`load_settings` where settings are needed and
pass the object down, so tests and worker processes never pick up config by accident.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from cximpact.errors import ConfigError

__all__ = ["Settings", "describe_settings", "load_settings"]


class Settings(BaseSettings):
    """Every tunable of cximpact, with its default and meaning."""

    model_config = SettingsConfigDict(env_prefix="CXIMPACT_", extra="forbid")

    db: Path = Field(
        Path("cximpact.duckdb"), description="Analytics store: DuckDB file (the --db option)."
    )
    database_url: str | None = Field(
        None,
        description=(
            "Transactional store (cases, audit log) as an SQLAlchemy URL, for example "
            "postgresql+psycopg://user@host/db. Default: an SQLite file beside the DuckDB file."
        ),
    )
    discount_rate: float = Field(
        0.10, ge=0, lt=1, description="Annual discount rate for computed lifetime values."
    )
    horizon_days: int = Field(365, gt=0, description="Horizon of churn risk and value, in days.")
    topic_mode: Literal["keywords", "supervised", "few-shot"] = Field(
        "keywords",
        description=(
            "Root causes in the flow: keywords (taxonomy rules + self-training), supervised "
            "(fitted on topic_training_file) or few-shot (topic_fewshot_file)."
        ),
    )
    topic_training_file: Path | None = Field(
        None, description="Labelled interactions (columns text, label) for topic_mode=supervised."
    )
    topic_fewshot_file: Path | None = Field(
        None,
        description="Few-shot taxonomy (descriptions + example phrases) for topic_mode=few-shot.",
    )
    risk_language_signals: bool = Field(
        False,
        description=(
            "Let the churn probability also read what customers said (churn language, "
            "competitors, escalations, negative sentiment); issue effects never do."
        ),
    )
    ltv_years: float = Field(
        10.0, gt=0, le=50, description="Years of future margin a computed lifetime value counts."
    )
    purchase_margin_rate: float = Field(
        0.30,
        gt=0,
        le=1,
        description="Margin share of spend for customers valued from purchases (BG/NBD).",
    )
    default_ltv: float = Field(
        1000.0,
        ge=0,
        description="Lifetime value (currency) when no finance or segment value exists.",
    )
    prior_churn_rate: float = Field(
        0.10,
        gt=0,
        lt=1,
        description="Annual churn rate assumed when no outcomes exist to learn from (a prior).",
    )
    case_threshold_amount: float = Field(
        5000.0, ge=0, description="Open a case when an issue's revenue at risk reaches this amount."
    )
    case_threshold_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description="...and this share of all attributable revenue at risk (0 disables it).",
    )
    case_threshold_mode: Literal["all", "any"] = Field(
        "all",
        description=(
            "all: a case needs both thresholds; any: either one (a threshold of 0 is then ignored)."
        ),
    )
    strategy_preset: str = Field(
        "balanced",
        description=(
            "Strategy focus preset that ranks issues and sets case thresholds (balanced, growth, "
            "profit_protection, exit_valuation, turnaround, or one from strategy_presets_file)."
        ),
    )
    strategy_presets_file: Path | None = Field(
        None, description="YAML file of user strategy presets, merged over the built-in ones."
    )
    measurement_target_effect: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="Relative churn reduction a case's measurement plan is sized to detect.",
    )
    measurement_power: float = Field(
        0.8, gt=0.5, lt=1, description="Power a measurement plan is sized for (5% two-sided)."
    )
    measurement_holdout_share: float = Field(
        0.1, gt=0, le=0.5, description="Smallest share of customers held out of a case's action."
    )
    monitor_baseline_days: int = Field(
        28, ge=7, description="Trailing days a day's volume is compared with (spike detection)."
    )
    monitor_spike_z: float = Field(
        4.0, gt=0, description="Robust z-score (median/MAD) from which a day is a spike."
    )
    monitor_recent_days: int = Field(
        7,
        gt=0,
        description="Detections this recent (days before the data's end) open or refresh cases.",
    )
    repeat_contact_days: int = Field(
        14, gt=0, description="A contact on the same root cause within this many days is a repeat."
    )
    handling_cost: float = Field(
        6.0, ge=0, description="Cost of one contact (currency) when the export has none."
    )
    max_text_chars: int = Field(
        20000, gt=0, description="Longest accepted interaction text; longer rows are quarantined."
    )
    max_field_chars: int = Field(
        1000, gt=0, description="Longest accepted value of any other field."
    )
    phone_region: str = Field(
        "US", description="Default region for phone-number detection in PII redaction."
    )
    routing_file: Path | None = Field(
        None,
        description="YAML routing rules (root cause / segment -> team, owner). Built-in if unset.",
    )
    playbook_file: Path | None = Field(
        None,
        description="YAML playbook of case responses (cost, effectiveness). Built-in if unset.",
    )
    taxonomy_file: Path | None = Field(
        None, description="YAML root-cause taxonomy with keywords. Built-in if unset."
    )
    actions_policies_file: Path | None = Field(
        None,
        description="YAML outbound action policies, channels and budget. Built-in if unset.",
    )
    actions_contacts_file: Path | None = Field(
        None,
        description=(
            "CSV of customer_id, email, timezone, consent (methods, ';'-separated), "
            "do_not_contact, for outbound actions."
        ),
    )
    actions_suppression_file: Path | None = Field(
        None, description="File of customer ids or e-mail addresses never to contact, one a line."
    )
    actions_default_timezone: str = Field(
        "UTC", description="Time zone for quiet hours of customers without one."
    )
    actions_plan_on_run: bool = Field(
        False, description="Plan outbound actions for open cases at the end of `cximpact run`."
    )
    actions_webhook_secret: SecretStr | None = Field(
        None, description="Shared secret of the signed webhook channel (HMAC-SHA256)."
    )
    actions_max_attempts: int = Field(
        8, gt=0, description="Delivery attempts of an action before it is dead-lettered."
    )
    actions_backoff_base_s: float = Field(
        2.0, gt=0, description="First retry delay of a failed delivery, in seconds (doubles)."
    )
    actions_backoff_cap_s: float = Field(
        600.0, gt=0, description="Longest retry delay of a failed delivery, in seconds."
    )
    actions_lease_s: float = Field(
        60.0,
        gt=0,
        description="How long a worker's claim on a message lasts before another may resend it.",
    )
    service_host: str = Field(
        "127.0.0.1", description="Address `cximpact serve` listens on (loopback by default)."
    )
    service_port: int = Field(8000, gt=0, lt=65536, description="Port `cximpact serve` listens on.")
    service_cors_origins: tuple[str, ...] = Field(
        (),
        description="Origins allowed to call the API from a browser (CORS); empty: none.",
    )
    service_max_body_bytes: int = Field(
        4_000_000, gt=0, description="Largest accepted request body (bytes); larger: 413."
    )
    service_max_batch: int = Field(
        5000, gt=0, description="Most records in one batch ingest request; more: 413."
    )
    service_rate_limit: float = Field(
        200.0, ge=0, description="Requests per second allowed per API token (0: no limit)."
    )
    service_rate_burst: int = Field(
        400, gt=0, description="Requests a token may send at once after being idle."
    )
    service_worker_processes: int = Field(
        1,
        ge=0,
        le=1,
        description="1: a worker process validates, redacts and computes keyword signals of "
        "live ingests; 0: the server process does.",
    )
    metrics_status_root_causes: tuple[str, ...] = Field(
        ("late_delivery", "slow_refund", "network_outage"),
        description="Root causes that are status enquiries (share of status contacts).",
    )
    metrics_high_value_share: float = Field(
        0.2,
        gt=0,
        le=1,
        description="Top share of customers by lifetime value counted as high value.",
    )
    metrics_lost_year_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of a year's margin lost when a customer churns within it (EBITDA).",
    )
    report_llm_url: str | None = Field(
        None,
        description=(
            "OpenAI-compatible endpoint (base URL) that writes the board report's narrative "
            "from aggregates only; unset: template narrative."
        ),
    )
    report_llm_model: str = Field("gpt-4o-mini", description="Model name sent to report_llm_url.")
    report_llm_api_key_env: str = Field(
        "CXIMPACT_REPORT_LLM_API_KEY",
        description="Name of the environment variable holding the API key for report_llm_url.",
    )
    report_llm_timeout_s: float = Field(
        30.0, gt=0, description="Timeout of one narrative request to report_llm_url, in seconds."
    )
    engine: Literal["local", "spark"] = Field(
        "local",
        description=(
            "Engine of the batch flow (the run command's --engine): local (pandas in one "
            "process) or spark (PySpark, the optional 'spark' extra)."
        ),
    )
    spark_master: str = Field(
        "local[*]",
        description="Spark master URL for engine=spark (local[*], yarn, k8s://..., spark://...).",
    )
    spark_shuffle_partitions: int = Field(
        200,
        gt=0,
        description=(
            "spark.sql.shuffle.partitions for engine=spark; also the number of customer and "
            "interaction buckets handed to the stage functions."
        ),
    )
    spark_selftrain_sample: int = Field(
        1_000_000,
        gt=0,
        description=(
            "Most interactions the self-trained topic classifier is fitted on with engine=spark "
            "(a deterministic hash sample above this; all of them below it)."
        ),
    )
    spark_output: Path | None = Field(
        None,
        description=(
            "Directory for the Parquet files engine=spark writes (accepted interactions, "
            "signals). Default: <db>.spark beside the DuckDB file."
        ),
    )

    def state_url(self) -> str:
        """SQLAlchemy URL of the transactional store."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.db.with_suffix('.state.sqlite')}"


def _file_values(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path!r} (CXIMPACT_CONFIG) cannot be read: {exc}") from exc
    table = data.get("cximpact", data)
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path!r}: expected a [cximpact] table")
    return table


def load_settings(**overrides: Any) -> Settings:
    """Build settings: defaults < config file < environment < explicit ``overrides``."""
    values = _file_values(os.environ.get("CXIMPACT_CONFIG"))
    values = {k: v for k, v in values.items() if f"CXIMPACT_{k.upper()}" not in os.environ}
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "?"
        raise ConfigError(
            f"invalid setting {name}: {err['msg']} (got {err.get('input')!r}); "
            f"check CXIMPACT_{name.upper()} or the CXIMPACT_CONFIG file"
        ) from exc


def describe_settings(settings: Settings) -> list[dict[str, Any]]:
    """Rows of the settings table: name, environment variable, value, default and help."""
    rows = []
    for name, field in Settings.model_fields.items():
        rows.append(
            {
                "name": name,
                "env": f"CXIMPACT_{name.upper()}",
                "value": _plain(getattr(settings, name)),
                "default": _plain(field.default),
                "help": field.description or "",
            }
        )
    return rows


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value
