"""The batch flow on Apache Spark: the local engine's stage functions, batch by batch.

What runs where (docs/spark.md explains each choice):

1. **Ingest.** Customers, finance, outcomes and transactions (one row per customer or purchase)
   are ingested on the driver by :func:`cximpact.ingest.pipeline.ingest_file`, exactly as
   locally. Interactions are read by Spark and grouped into buckets of interaction ids
   (``pmod(xxhash64(id), buckets)``); each bucket is validated, pseudonymised and redacted by the
   ingest functions (:func:`~cximpact.ingest.validate.validate_rows`, the redaction of
   :mod:`cximpact.ingest.pipeline`), so duplicate ids meet in one bucket and are quarantined as
   locally. Accepted interactions go to Parquet, quarantined rows to the DuckDB store.
2. **Signals.** The self-trained topic classifier needs the whole batch: it is fitted once on
   the driver on a deterministic sample (all interactions up to ``spark_selftrain_sample``, then
   a hash sample of interaction ids) whose keyword labels the executors compute
   (``mapInPandas``), and broadcast. Customer buckets (``applyInPandas``) then run
   :func:`~cximpact.signals.compute.compute_signals` with that fitted model: keyword rules,
   sentiment, detectors, the classifier's fills and tie breaks, and repeat contacts from each
   customer's whole history.
3. **Per-customer summaries.** :func:`~cximpact.exposure.issues.customer_signal_summary` runs per
   customer bucket; the issue flags are its (customer, root cause) pairs.
4. **Value, risk, exposure, cases.** One row per customer: collected to the driver and handed to
   :func:`cximpact.flow.score_customers` and :func:`cximpact.flow.open_cases`, the local
   engine's code, so the two engines give the same answers.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from cximpact.errors import ConfigError, NotFoundError
from cximpact.exposure.issues import customer_signal_summary
from cximpact.flow import (
    Analysis,
    FlowResult,
    Step,
    _quiet,
    find_exports,
    finish_run,
    score_customers,
    topic_model,
)
from cximpact.ingest.contracts import Contract, FieldType, get_contract
from cximpact.ingest.pipeline import (
    IngestReport,
    _redact_fields,
    file_sha256,
    ingest_file,
    pseudonymise,
)
from cximpact.ingest.redact import redact_series
from cximpact.ingest.validate import check_columns, validate_rows
from cximpact.settings import Settings
from cximpact.signals.compute import _keyword_model, _mtime, compute_signals
from cximpact.signals.selftrain import SelfTrainedTopics, Threads
from cximpact.store.analytics import AnalyticsStore

__all__ = ["SIGNAL_READBACK", "run_spark", "signals_on_spark", "spark_session"]

_ROW = "_row"
_BUCKET = "_bucket"
_TOPIC_TEXT = "_topic_text"
_QUARANTINE = ("_rule", "_column", "_fix_hint", "_raw")
_SPARK_TYPES: dict[FieldType, T.DataType] = {
    "id": T.StringType(),
    "str": T.StringType(),
    "text": T.StringType(),
    "datetime": T.TimestampNTZType(),
    "date": T.DateType(),
    "float": T.DoubleType(),
    "int": T.LongType(),
    "bool": T.BooleanType(),
}
#: Signal columns the driver reads back for cases and monitoring (not the phrases and scores).
SIGNAL_READBACK = (
    "interaction_id",
    "customer_id",
    "timestamp",
    "channel",
    "handling_cost",
    "root_cause",
    "secondary_root_cause",
    "sentiment",
    "sentiment_label",
    "repeat_contact",
)


def spark_session(settings: Settings) -> SparkSession:
    """The active Spark session, or a new one on ``settings.spark_master``.

    Sets what the engine relies on whatever the session: UTC session time zone (timestamps
    stay naive UTC, as in the local engine), Arrow transfers, and ``spark_shuffle_partitions``.
    On a ``local`` master the executors' Python is this interpreter (``PYSPARK_PYTHON``).
    """
    # pyspark 4.3 warns on every pandas >= 3 conversion; the engine's parity test is the check
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    warnings.filterwarnings("ignore", message="The copy keyword is deprecated", module="pyspark")
    session = SparkSession.getActiveSession()
    if session is None:
        if settings.spark_master.startswith("local"):
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        session = (
            SparkSession.builder.appName("cximpact")
            .master(settings.spark_master)
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
    conf = session.conf
    conf.set("spark.sql.session.timeZone", "UTC")
    conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    conf.set("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
    return session


def run_spark(
    data_dir: Path | None,
    settings: Settings,
    *,
    step: Step = _quiet,
    today: date | None = None,
    spark: SparkSession | None = None,
) -> FlowResult:
    """Ingest ``data_dir`` on Spark, analyse, store in the analytics store, open cases.

    Parameters
    ----------
    data_dir
        Directory of exports (``customers.*`` and ``interactions.*`` at least).
    settings
        ``db`` and ``database_url`` name the stores as for the local engine; ``spark_*`` tune
        the engine.
    spark
        A session to use (tests, notebooks); default :func:`spark_session`, stopped at the end.

    Raises
    ------
    ConfigError
        No ``data_dir``: the Spark engine reads exports, it does not re-analyse a store.
    """
    if data_dir is None:
        raise ConfigError(
            "engine spark reads exports and found no --data; pass --data DIR, or use "
            "--engine local to re-analyse the facts already in --db"
        )
    exports = find_exports(data_dir)
    session = spark if spark is not None else spark_session(settings)
    try:
        with AnalyticsStore(settings.db) as store:
            reports = []
            for kind, path in exports.items():
                if kind != "interactions":
                    step(f"ingest {path.name}")
                    reports.append(ingest_file(store, kind, path, settings))
            step(f"ingest {exports['interactions'].name} on Spark")
            report, analysis = signals_on_spark(
                session, store, exports["interactions"], settings, step=step
            )
            reports.append(report)
    finally:
        if spark is None:
            session.stop()
    return finish_run(settings, reports, analysis, step=step, today=today)


def signals_on_spark(
    spark: SparkSession,
    store: AnalyticsStore,
    interactions_path: Path,
    settings: Settings,
    *,
    step: Step = _quiet,
) -> tuple[IngestReport, Analysis]:
    """Interactions file -> signals on Spark -> the local engine's value, risk and exposure.

    ``store`` must already hold the customers (and outcomes, finance, transactions). Writes the
    derived tables of the local engine (``signals``, ``customer_values``, ``customer_risk``,
    ``issue_exposure``, ``customer_exposure``) and the quarantined interactions into ``store``,
    and the accepted interactions and signals as Parquet under ``settings.spark_output``.
    """
    out = settings.spark_output or Path(f"{settings.db}.spark")
    checked = _checked_interactions(spark, store, interactions_path, settings)
    report = _store_quarantine(store, checked, interactions_path)
    if report.accepted == 0:
        raise NotFoundError(f"{interactions_path} has no valid interactions; see the quarantine")
    accepted = checked.filter(F.col("_rule").isNull()).drop(*_QUARANTINE)
    accepted = accepted.persist(StorageLevel.MEMORY_AND_DISK)
    _write_parquet(accepted.drop(_ROW), out / "interactions")
    # the store holds them too: metrics, the board report and `serve` read interactions there
    store.upsert_from_parquet("interactions", out / "interactions", str(interactions_path))
    span = accepted.agg(F.min("timestamp"), F.max("timestamp")).first()
    first, last = pd.Timestamp(span[0]), pd.Timestamp(span[1])  # type: ignore[index]
    stamp = last.ceil("D")
    window_days = max(int((stamp - first).days), 1)
    step(f"signals for {report.accepted:,} interactions on Spark")
    signals = _signals(spark, accepted, settings, report.accepted)
    summary = _store_signals(store, signals, out / "signals")
    for persisted in (checked, accepted, signals):
        persisted.unpersist()
    customers = store.read("customers")
    readback = store.read_columns("signals", list(SIGNAL_READBACK))
    values, model, exposure = score_customers(
        store,
        settings,
        customers,
        flags=_flags_from_summary(summary),
        summary=summary,
        as_of=stamp,
        window_start=first.floor("D"),
        window_days=window_days,
        signals=store.read("signals") if settings.risk_language_signals else None,
        step=step,
    )
    for name, frame in (
        ("customer_values", values),
        ("customer_risk", exposure.risk),
        ("issue_exposure", exposure.issues),
        ("customer_exposure", exposure.customers),
    ):
        store.replace_table(name, frame)
    analysis = Analysis(
        as_of=stamp,
        window_days=window_days,
        signals=readback,
        values=values,
        model=model,
        exposure=exposure,
        horizon_days=settings.horizon_days,
        customers=customers,
    )
    return report, analysis


# ---------------------------------------------------------------------------------- ingest


@dataclass(frozen=True)
class _IngestLimits:
    """What validation and redaction need on the executors (settings travel explicitly)."""

    region: str
    max_text_chars: int
    max_field_chars: int
    now: pd.Timestamp


def _read_exports(spark: SparkSession, path: Path) -> DataFrame:
    """Every column of ``path`` as strings, as the local readers give them.

    Raises
    ------
    ConfigError
        A JSON document (not JSON lines): Spark cannot split it; convert it to JSONL or Parquet.
    """
    name = path.name.lower()
    if name.endswith((".parquet",)):
        frame = spark.read.parquet(str(path))
    elif name.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")):
        frame = spark.read.json(str(path))
    elif name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz")):
        frame = (
            spark.read.option("header", True)
            .option("multiLine", True)
            .option("escape", '"')
            .option("sep", "\t" if ".tsv" in name else ",")
            .option("inferSchema", False)
            .csv(str(path))
        )
    else:
        raise ConfigError(
            f"engine spark cannot split {path.name}: expected CSV, TSV, JSON lines or Parquet; "
            "convert the JSON document to JSON lines (one object per line) or Parquet"
        )
    return frame.select(*[F.col(c).cast("string").alias(c) for c in frame.columns])


def _checked_schema(contract: Contract) -> T.StructType:
    """Accepted contract columns (typed) plus the quarantine columns, in one schema."""
    fields = [T.StructField(f.name, _SPARK_TYPES[f.type]) for f in contract.fields]
    fields.append(T.StructField(_ROW, T.LongType()))
    fields += [T.StructField(name, T.StringType()) for name in _QUARANTINE]
    return T.StructType(fields)


def _checked_interactions(
    spark: SparkSession, store: AnalyticsStore, path: Path, settings: Settings
) -> DataFrame:
    """Interactions validated and redacted per bucket of ids; persisted."""
    contract = get_contract("interactions")
    raw = _read_exports(spark, path)
    check_columns(pd.DataFrame(columns=raw.columns), contract, str(path))
    for spec in contract.fields:  # optional columns the file lacks are empty, as locally
        if spec.name not in raw.columns:
            raw = raw.withColumn(spec.name, F.lit(None).cast("string"))
    trimmed = F.regexp_replace(F.coalesce(F.col(contract.key), F.lit("")), r"^\s+|\s+$", "")
    buckets = settings.spark_shuffle_partitions
    raw = raw.select(*[spec.name for spec in contract.fields]).withColumns(
        {
            _ROW: F.monotonically_increasing_id(),
            _BUCKET: F.pmod(F.xxhash64(trimmed), F.lit(buckets)),
        }
    )
    known = spark.sparkContext.broadcast(store.known_keys("customers").to_numpy(dtype=object))
    limits = _IngestLimits(
        region=settings.phone_region,
        max_text_chars=settings.max_text_chars,
        max_field_chars=settings.max_field_chars,
        now=pd.Timestamp.now("UTC").tz_localize(None) + pd.Timedelta(days=1),
    )

    def check(frame: pd.DataFrame) -> pd.DataFrame:
        return _plain(_check_bucket(frame, known=known, limits=limits))

    checked = raw.groupBy(_BUCKET).applyInPandas(check, schema=_checked_schema(contract))
    return checked.persist(StorageLevel.MEMORY_AND_DISK)


def _check_bucket(frame: pd.DataFrame, *, known: Any, limits: _IngestLimits) -> pd.DataFrame:
    """Validate, pseudonymise and redact one bucket of interactions (every id's rows together)."""
    contract = get_contract("interactions")
    frame = frame.sort_values(_ROW, kind="stable").set_index(_ROW)
    strings = frame[contract.names].fillna("").astype(str)
    for spec in contract.fields:
        if spec.type == "id":
            strings[spec.name] = pseudonymise(strings[spec.name], limits.region)
    result = validate_rows(
        strings,
        contract,
        known_customers=known.value,
        max_text_chars=limits.max_text_chars,
        max_field_chars=limits.max_field_chars,
        now=limits.now,
    )
    accepted = _redact_fields(result.accepted, contract, limits.region)
    bad = result.quarantined
    kept = strings.index[~strings.index.isin(bad["row_number"])]
    accepted[_ROW] = kept.to_numpy(dtype="int64")
    quarantined = pd.DataFrame(
        {
            _ROW: bad["row_number"].to_numpy(dtype="int64"),
            "_rule": bad["rule"].astype(object),
            "_column": bad["column"].astype(object),
            "_fix_hint": bad["fix_hint"].astype(object),
            "_raw": redact_series(bad["raw"], region=limits.region).astype(object),
        }
    )
    names = [*contract.names, _ROW, *_QUARANTINE]
    if quarantined.empty:
        return accepted.assign(**dict.fromkeys(_QUARANTINE)).reindex(columns=names)
    if accepted.empty:
        return quarantined.reindex(columns=names)
    return pd.concat([accepted, quarantined], ignore_index=True).reindex(columns=names)


def _store_quarantine(store: AnalyticsStore, checked: DataFrame, path: Path) -> IngestReport:
    """Write the quarantined rows to the store; report as the local ingest does."""
    contract = get_contract("interactions")
    counts = checked.groupBy("_rule").count().toPandas()
    rejected = checked.filter(F.col("_rule").isNotNull()).select(_ROW, *_QUARANTINE).toPandas()
    quarantined = pd.DataFrame(
        {
            "row_number": rejected[_ROW].to_numpy(dtype="int64"),
            "rule": rejected["_rule"].to_numpy(dtype=object),
            "column": rejected["_column"].to_numpy(dtype=object),
            "fix_hint": rejected["_fix_hint"].to_numpy(dtype=object),
            "raw": rejected["_raw"].to_numpy(dtype=object),
        }
    )
    empty = pd.DataFrame({name: pd.Series(dtype=object) for name in contract.names})
    store.write_batch(
        "interactions", empty, quarantined, source=str(path), file_sha256=file_sha256(path)
    )
    good = counts["_rule"].isna()
    accepted = int(counts.loc[good, "count"].sum())
    rules = counts.loc[~good]
    return IngestReport(
        kind="interactions",
        source=str(path),
        rows_read=int(counts["count"].sum()),
        accepted=accepted,
        quarantined=len(quarantined),
        inserted=accepted,
        by_rule={str(k): int(v) for k, v in zip(rules["_rule"], rules["count"], strict=True)},
    )


def _store_signals(store: AnalyticsStore, signals: DataFrame, path: Path) -> pd.DataFrame:
    """Signals to Parquet and the store's ``signals`` table; their per-customer summary."""
    columns = [c for c in signals.columns if c not in (_ROW, _BUCKET)]
    _write_parquet(signals.select(*columns), path)
    store.replace_table_from_parquet("signals", path, columns)
    return _customer_summaries(signals)


def _write_parquet(frame: DataFrame, path: Path) -> None:
    """Replace the Parquet directory ``path`` with ``frame``."""
    if path.exists():
        shutil.rmtree(path)
    frame.write.mode("overwrite").parquet(str(path))


# --------------------------------------------------------------------------------- signals


@dataclass(frozen=True)
class _SignalOptions:
    """What :func:`compute_signals` needs on the executors (settings travel explicitly)."""

    taxonomy_file: Path | None
    repeat_contact_days: int
    handling_cost: float
    topic_model: Any


def _spark_type(dtype: Any) -> T.DataType:
    """Spark type of a pandas column (naive timestamps stay naive)."""
    if pd.api.types.is_bool_dtype(dtype):
        return T.BooleanType()
    if pd.api.types.is_integer_dtype(dtype):
        return T.LongType()
    if pd.api.types.is_float_dtype(dtype):
        return T.DoubleType()
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return T.TimestampNTZType()
    return T.StringType()


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """String columns as object arrays: pyarrow-backed strings concatenated from several batches
    are chunked, which Spark's Arrow writer does not take."""
    strings = [c for c, t in frame.dtypes.items() if pd.api.types.is_string_dtype(t)]
    return frame.astype(dict.fromkeys(strings, object)) if strings else frame


def _schema_of(frame: pd.DataFrame) -> T.StructType:
    return T.StructType([T.StructField(str(c), _spark_type(t)) for c, t in frame.dtypes.items()])


def _keyword_labels(
    batches: Iterator[pd.DataFrame], *, taxonomy_file: Path | None
) -> Iterator[pd.DataFrame]:
    """What the self-trained classifier learns from: keyword topics, topic texts, threads."""
    rules = _keyword_model(taxonomy_file, _mtime(taxonomy_file))
    for frame in batches:
        texts = frame["text"].fillna("").astype(str).reset_index(drop=True)
        detected = rules.transform(texts, ties=True, topic_texts=True)
        yield _plain(
            pd.DataFrame(
                {
                    _ROW: frame[_ROW].to_numpy(dtype="int64"),
                    "customer_id": frame["customer_id"].to_numpy(dtype=object),
                    "timestamp": frame["timestamp"].to_numpy(dtype=object),
                    _TOPIC_TEXT: detected["topic_text"].to_numpy(dtype=object),
                    "root_cause": detected["root_cause"].to_numpy(dtype=object),
                    "secondary_root_cause": detected["secondary_root_cause"].to_numpy(dtype=object),
                }
            )
        )


def _fit_self_training(accepted: DataFrame, settings: Settings, rows: int) -> SelfTrainedTopics:
    """The self-trained topic classifier, fitted once on the driver on a deterministic sample.

    The keyword labels of the sample are computed on the executors; the fit is the local
    engine's (:meth:`SelfTrainedTopics.fit`), on all interactions up to
    ``settings.spark_selftrain_sample``.
    """
    taxonomy_file = settings.taxonomy_file

    def labels(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        return _keyword_labels(batches, taxonomy_file=taxonomy_file)

    schema = T.StructType(
        [
            T.StructField(_ROW, T.LongType()),
            T.StructField("customer_id", T.StringType()),
            T.StructField("timestamp", T.StringType()),
            T.StructField(_TOPIC_TEXT, T.StringType()),
            T.StructField("root_cause", T.StringType()),
            T.StructField("secondary_root_cause", T.StringType()),
        ]
    )
    # sampled by customer, so that each sampled customer's thread of contacts stays whole
    sample = _sample(accepted, settings.spark_selftrain_sample, rows, key="customer_id").select(
        _ROW,
        F.col("customer_id").cast("string").alias("customer_id"),
        F.col("timestamp").cast("string").alias("timestamp"),
        "text",
    )
    frame = sample.mapInPandas(labels, schema=schema).toPandas()
    frame = frame.sort_values(_ROW, kind="stable").reset_index(drop=True)
    frame["secondary_root_cause"] = frame["secondary_root_cause"].fillna("")
    threads = Threads(
        frame["customer_id"].to_numpy(dtype=object),
        pd.to_datetime(frame["timestamp"], format="mixed").to_numpy(),
        settings.repeat_contact_days,
    )
    return SelfTrainedTopics().fit(
        frame[_TOPIC_TEXT].fillna(""),
        frame["root_cause"],
        frame["secondary_root_cause"],
        threads,
    )


def _signals_of_bucket(
    frame: pd.DataFrame, *, options: _SignalOptions, self_train: SelfTrainedTopics | bool
) -> pd.DataFrame:
    """:func:`compute_signals` of whole customers, in the order of the export."""
    frame = frame.sort_values(_ROW, kind="stable").reset_index(drop=True)
    signals = compute_signals(
        frame,
        taxonomy_file=options.taxonomy_file,
        repeat_contact_days=options.repeat_contact_days,
        default_handling_cost=options.handling_cost,
        self_train=self_train,
        topic_model=options.topic_model,
    )
    signals[_ROW] = frame[_ROW].to_numpy(dtype="int64")
    signals[_BUCKET] = frame[_BUCKET].to_numpy(dtype="int64")
    return signals


def _signals(spark: SparkSession, accepted: DataFrame, settings: Settings, rows: int) -> DataFrame:
    """Signals of every accepted interaction, computed per customer bucket; persisted."""
    buckets = settings.spark_shuffle_partitions
    inputs = accepted.withColumn(_BUCKET, F.pmod(F.xxhash64(F.col("customer_id")), F.lit(buckets)))
    texts = pd.Series([], dtype=object)
    if settings.topic_mode == "few-shot":  # fitted on texts; supervised reads its own file
        sample = _sample(inputs, settings.spark_selftrain_sample, rows).select("text")
        texts = sample.toPandas()["text"]
    options = _SignalOptions(
        taxonomy_file=settings.taxonomy_file,
        repeat_contact_days=settings.repeat_contact_days,
        handling_cost=settings.handling_cost,
        topic_model=topic_model(settings, texts),
    )
    model: Any = None
    fitted: SelfTrainedTopics | bool = False
    if options.topic_model is None:
        fitted = _fit_self_training(accepted, settings, rows)
        model = spark.sparkContext.broadcast(fitted)
    example = _signals_of_bucket(inputs.limit(50).toPandas(), options=options, self_train=fitted)

    def signals_of(frame: pd.DataFrame) -> pd.DataFrame:
        trained = model.value if model is not None else False
        return _plain(_signals_of_bucket(frame, options=options, self_train=trained))

    signals = inputs.groupBy(_BUCKET).applyInPandas(signals_of, schema=_schema_of(example))
    signals = signals.persist(StorageLevel.MEMORY_AND_DISK)
    signals.count()
    return signals


def _sample(frame: DataFrame, cap: int, rows: int, key: str | None = None) -> DataFrame:
    """All rows up to ``cap``; above it about ``cap`` rows chosen by a hash of ``key``.

    ``key`` defaults to the interaction id.
    """
    if rows <= cap:
        return frame
    key = key or ("interaction_id" if "interaction_id" in frame.columns else "id")
    keep = int(cap / rows * 1_000_000)
    return frame.filter(F.pmod(F.xxhash64(F.col(key)), F.lit(1_000_000)) < keep)


# ----------------------------------------------------------------------------- per customer


def _summary_bucket(frame: pd.DataFrame, *, columns: list[str]) -> pd.DataFrame:
    summary = customer_signal_summary(frame.drop(columns=[_ROW, _BUCKET]))
    return summary.reindex(columns=columns)


def _customer_summaries(signals: DataFrame) -> pd.DataFrame:
    """:func:`customer_signal_summary` per customer bucket, collected, in the local order."""
    example_signals = signals.limit(5000).toPandas().drop(columns=[_ROW, _BUCKET])
    example = customer_signal_summary(example_signals)
    columns = [str(c) for c in example.columns]

    def summarise(frame: pd.DataFrame) -> pd.DataFrame:
        return _plain(_summary_bucket(frame, columns=columns))

    summary = signals.groupBy(_BUCKET).applyInPandas(summarise, schema=_schema_of(example))
    frame = summary.toPandas()
    frame = frame.sort_values(["customer_id", "root_cause"], kind="stable").reset_index(drop=True)
    for column, dtype in example.dtypes.items():
        if pd.api.types.is_integer_dtype(dtype):
            frame[column] = frame[column].astype("int64")
    return frame


def _flags_from_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """0/1 per customer and root cause: the (customer, root cause) pairs of the summary.

    The summary has a row for every root cause a customer's contacts raised (primary or
    secondary), the same pairs :func:`~cximpact.exposure.issues.issue_flags` marks.
    """
    customer_codes, customer_ids = pd.factorize(summary["customer_id"], sort=True)
    topic_codes, topic_names = pd.factorize(summary["root_cause"], sort=True)
    flags = np.zeros((len(customer_ids), len(topic_names)), dtype=np.int8)
    flags[customer_codes, topic_codes] = 1
    return pd.DataFrame(
        flags,
        index=pd.Index(np.asarray(customer_ids, dtype=object), name="customer_id"),
        columns=[str(t) for t in topic_names],
    )


def main(argv: list[str] | None = None) -> None:
    """``spark-submit .../cximpact/engines/spark.py --data DIR --db FILE``: run on Spark."""
    from cximpact.cli import main as cli_main

    sys.argv = ["cximpact", "run", "--engine", "spark", *(argv or sys.argv[1:])]
    cli_main()


if __name__ == "__main__":
    main()
