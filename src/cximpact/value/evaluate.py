"""RFM summaries of a transaction log and the ``cximpact evaluate clv`` calibration/holdout test.

Conventions (those of Fader, Hardie & Lee 2005 for CDNOW; time in weeks = days / 7):

* a *purchase* is a distinct purchase **day** of a customer (same-day transactions are summed);
* ``frequency`` ``x`` = purchase days in the calibration period minus one (repeat purchases);
* ``recency`` ``t_x`` = last minus first purchase day; ``T`` = ``calibration_end`` minus the
  first purchase day; customers whose first purchase is after ``calibration_end`` are left out;
* ``monetary_value`` ``z̄`` = mean value of the customer's *repeat* purchase days in the
  calibration period, the first purchase left out (Fader & Hardie 2013, which gives their
  published ``p 6.25, q 3.74, γ 15.44`` on the 946 CDNOW repeat buyers); ``0`` when ``x = 0``;
* holdout = ``(calibration_end, holdout_end]``; ``frequency_holdout`` = purchase days in it.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from cximpact.errors import ConfigError, ContractError, LowSampleWarning
from cximpact.ingest.readers import read_records
from cximpact.value.bgnbd import BetaGeoFitter
from cximpact.value.gamma_gamma import GammaGammaFitter, customer_lifetime_value

__all__ = [
    "CLV_DISCOUNT_RATE_MONTHLY",
    "CLV_HORIZON_MONTHS",
    "MIN_REPEAT_BUYERS",
    "evaluate_clv",
    "rfm_summary",
]

#: Fewer repeat buyers than this in the calibration period: the models cannot be fitted.
MIN_REPEAT_BUYERS: Final = 10
#: Fewer customers than this: the estimates are reported with a LowSampleWarning.
_LOW_SAMPLE_CUSTOMERS: Final = 200
#: Horizon and monthly discount rate of the CLV summary :func:`evaluate_clv` reports.
CLV_HORIZON_MONTHS: Final = 12
CLV_DISCOUNT_RATE_MONTHLY: Final = 0.01

_DAYS_PER_WEEK: Final = 7.0

DateLike = str | date | datetime | pd.Timestamp


def _parse_cutoff(value: DateLike, name: str) -> pd.Timestamp:
    """A cut-off date given by the user, as a midnight Timestamp; ConfigError if invalid."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{name}: expected a date such as 1997-09-30, got {value!r}") from exc
    if pd.isna(stamp):
        raise ConfigError(f"{name}: expected a date such as 1997-09-30, got {value!r}")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()


def _require_columns(transactions: pd.DataFrame, columns: dict[str, str]) -> None:
    """ContractError naming the first missing column, the columns present and the fix."""
    for option, column in columns.items():
        if column not in transactions.columns:
            present = ", ".join(map(str, transactions.columns[:20]))
            raise ContractError(
                f"transactions: expected a column {column!r} ({option.replace('_', ' ')}), but "
                f"the columns are: {present}. Fix: rename the column or pass "
                f"--{option.replace('_', '-')} <name>"
            )


def _row_label(transactions: pd.DataFrame, position: int) -> str:
    """How a row is named in messages: its index label (the source row number when read)."""
    return f"row {transactions.index[position]}"


def _parse_dates(transactions: pd.DataFrame, column: str) -> pd.Series:
    """Purchase days (midnight, tz-naive) of ``column``; ContractError naming a bad row."""
    raw = transactions[column]
    text = raw.astype("string").str.strip() if raw.dtype == object or raw.dtype == "str" else raw
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            parsed = pd.to_datetime(text, errors="coerce")
        except (ValueError, TypeError):  # mixed time-zone offsets
            parsed = pd.to_datetime(text, errors="coerce", utc=True)
        bad = parsed.isna().to_numpy() & text.notna().to_numpy()
        if bad.any():  # mixed formats: parse the rest element by element
            retry = pd.to_datetime(text[bad], errors="coerce", format="mixed", utc=True)
            if isinstance(parsed.dtype, pd.DatetimeTZDtype):
                parsed = parsed.dt.tz_convert("UTC")
                parsed[bad] = retry
            else:
                parsed[bad] = retry.dt.tz_localize(None)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    missing = parsed.isna().to_numpy()
    if missing.any():
        position = int(np.flatnonzero(missing)[0])
        raise ContractError(
            f"transactions column {column!r}: expected a purchase date such as 1997-01-18, "
            f"but {_row_label(transactions, position)} holds {str(raw.iloc[position])!r} "
            f"({int(missing.sum())} unparsable value(s) in all). Fix: correct or remove those "
            f"rows, or pass --date-column with the right column"
        )
    return parsed.dt.normalize()


def _parse_amounts(transactions: pd.DataFrame, column: str) -> pd.Series:
    """Numeric purchase amounts of ``column``; ContractError naming a bad row."""
    raw = transactions[column]
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = ~np.isfinite(values.to_numpy())
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise ContractError(
            f"transactions column {column!r}: expected a purchase amount such as 29.33, but "
            f"{_row_label(transactions, position)} holds {str(raw.iloc[position])!r} "
            f"({int(bad.sum())} bad value(s) in all). Fix: write amounts as plain numbers "
            f"(no currency symbol or thousands separator), or pass --amount-column"
        )
    return values


def _customer_ids(transactions: pd.DataFrame, column: str) -> pd.Series:
    """Customer ids of ``column``; ContractError naming a row with an empty id."""
    ids = transactions[column]
    empty = (ids.isna() | (ids.astype("string").str.strip() == "")).to_numpy()
    if empty.any():
        position = int(np.flatnonzero(empty)[0])
        raise ContractError(
            f"transactions column {column!r}: {_row_label(transactions, position)} has no "
            f"customer id ({int(empty.sum())} such row(s)). Fix: fill in or drop those rows, or "
            f"pass --customer-column with the right column"
        )
    return ids


def rfm_summary(
    transactions: pd.DataFrame,
    customer_column: str,
    date_column: str,
    amount_column: str,
    calibration_end: DateLike,
    holdout_end: DateLike | None = None,
) -> pd.DataFrame:
    """Summarise a transaction log per customer as frequency, recency, T and monetary value.

    Parameters
    ----------
    transactions
        One row per transaction (text columns as read by
        :func:`~cximpact.ingest.readers.read_records`, or typed ones). Never modified.
    customer_column, date_column, amount_column
        Names of the customer id, purchase date and amount columns. Times of day are dropped;
        time-zone-aware stamps are taken at their local date.
    calibration_end
        Last day of the calibration period (inclusive).
    holdout_end
        Last day of the holdout period (inclusive); ``None`` for no holdout columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted), customers with a first purchase on or before
        ``calibration_end`` only, with columns

        * ``frequency`` (int): purchase days in the calibration period minus one;
        * ``recency`` (weeks): last minus first purchase day;
        * ``T`` (weeks): ``calibration_end`` minus the first purchase day;
        * ``monetary_value``: mean summed amount of the repeat purchase days (first excluded),
          ``0`` when ``frequency == 0``;

        and, with ``holdout_end``, ``frequency_holdout`` (int, purchase days in
        ``(calibration_end, holdout_end]``), ``monetary_value_holdout`` (mean amount of those
        days, ``0`` if none) and ``duration_holdout`` (weeks).

    Raises
    ------
    ContractError
        A column is missing, or holds unparsable dates, amounts or empty customer ids; no
        customer bought on or before ``calibration_end``.
    ConfigError
        A cut-off is not a date, or ``holdout_end`` is not after ``calibration_end``.
    """
    cal_end = _parse_cutoff(calibration_end, "calibration_end")
    hold_end = None if holdout_end is None else _parse_cutoff(holdout_end, "holdout_end")
    if hold_end is not None and hold_end <= cal_end:
        raise ConfigError(
            f"holdout_end ({hold_end.date()}) must be after calibration_end ({cal_end.date()})"
        )
    _require_columns(
        transactions,
        {"customer_column": customer_column, "date_column": date_column},
    )
    _require_columns(transactions, {"amount_column": amount_column})
    frame = pd.DataFrame(
        {
            "customer": _customer_ids(transactions, customer_column).to_numpy(),
            "day": _parse_dates(transactions, date_column).to_numpy(),
            "amount": _parse_amounts(transactions, amount_column).to_numpy(),
        }
    )
    days = frame.groupby(["customer", "day"], sort=True, as_index=False)["amount"].sum()
    calibration = days[days["day"] <= cal_end]
    if calibration.empty:
        first_day = days["day"].min()
        raise ContractError(
            f"no customer bought on or before calibration_end {cal_end.date()} (the first "
            f"purchase in {date_column!r} is on {first_day.date()}). Fix: choose a later "
            "--calibration-end"
        )
    grouped = calibration.groupby("customer", sort=True)
    first = grouped["day"].min()
    last = grouped["day"].max()
    count = grouped.size()
    is_first = calibration["day"].to_numpy() == calibration["customer"].map(first).to_numpy()
    repeat_amounts = calibration.loc[~is_first].groupby("customer")["amount"].mean()
    summary = pd.DataFrame(
        {
            "frequency": (count - 1).astype("int64"),
            "recency": (last - first).dt.days / _DAYS_PER_WEEK,
            "T": (cal_end - first).dt.days / _DAYS_PER_WEEK,
            "monetary_value": repeat_amounts.reindex(first.index).fillna(0.0).astype("float64"),
        }
    )
    summary.index.name = customer_column
    if hold_end is not None:
        window = days[(days["day"] > cal_end) & (days["day"] <= hold_end)]
        window = window[window["customer"].isin(summary.index)]
        by_customer = window.groupby("customer")
        summary["frequency_holdout"] = (
            by_customer.size().reindex(summary.index).fillna(0).astype("int64")
        )
        summary["monetary_value_holdout"] = (
            by_customer["amount"].mean().reindex(summary.index).fillna(0.0).astype("float64")
        )
        summary["duration_holdout"] = (hold_end - cal_end).days / _DAYS_PER_WEEK
    return summary


def evaluate_clv(
    path: Path,
    *,
    customer_column: str = "customer_id",
    date_column: str = "date",
    amount_column: str = "amount",
    calibration_end: str,
    holdout_end: str | None = None,
) -> dict[str, Any]:
    """Fit BG/NBD and Gamma-Gamma on a calibration period and score them on the holdout.

    Parameters
    ----------
    path
        Transactions file (CSV, Parquet, JSON Lines; see
        :func:`~cximpact.ingest.readers.read_records`).
    customer_column, date_column, amount_column
        Column names.
    calibration_end
        Last day of the calibration period.
    holdout_end
        Last day of the holdout; default the last purchase day in the file.

    Returns
    -------
    dict
        JSON-ready: ``bgnbd`` ``{r, alpha, a, b}`` (``alpha`` in weeks), ``gamma_gamma``
        ``{p, q, v}``, ``holdout`` ``{predicted_repeat_transactions, actual_repeat_transactions,
        mae_per_customer, ...}``, ``fit`` (log-likelihoods, convergence), ``clv`` (12-month
        discounted value at 1 % a month) and the counts of customers. The holdout prediction
        is the sum over customers of the conditional expectation E[Y(t) | x, t_x, T]
        (FHL 2005 eq. 10, ``t`` = holdout weeks); the cohort-based unconditional total
        ``Σ_i E[X(T_i + t)] - E[X(T_i)]`` (FHL 2005 eq. 7) is reported next to it. When the
        file has no purchase after ``calibration_end`` the holdout numbers are ``None``.

    Raises
    ------
    ContractError
        Bad columns or values (see :func:`rfm_summary`), or fewer than
        :data:`MIN_REPEAT_BUYERS` repeat buyers in the calibration period.
    ConfigError
        Invalid cut-off dates.
    FileFormatError
        The file cannot be read.
    """
    transactions = read_records(Path(path))
    cal_end = _parse_cutoff(calibration_end, "calibration_end")
    if holdout_end is None:
        _require_columns(transactions, {"date_column": date_column})
        last_day = _parse_dates(transactions, date_column).max()
        hold_end: pd.Timestamp | None = last_day if last_day > cal_end else None
    else:
        hold_end = _parse_cutoff(holdout_end, "holdout_end")
    summary = rfm_summary(
        transactions, customer_column, date_column, amount_column, cal_end, hold_end
    )
    repeaters = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(repeaters) < MIN_REPEAT_BUYERS:
        raise ContractError(
            f"only {len(repeaters)} of {len(summary)} customers bought again (with a positive "
            f"amount) by calibration_end {cal_end.date()}; BG/NBD and Gamma-Gamma need at least "
            f"{MIN_REPEAT_BUYERS} repeat buyers. Fix: choose a later --calibration-end or "
            "provide a longer transaction history"
        )
    if len(summary) < _LOW_SAMPLE_CUSTOMERS:
        warnings.warn(
            f"CLV models fitted on only {len(summary)} customers; parameters are uncertain",
            LowSampleWarning,
            stacklevel=2,
        )
    x = summary["frequency"].to_numpy(dtype=np.float64)
    t_x = summary["recency"].to_numpy()
    big_t = summary["T"].to_numpy()
    bgnbd = BetaGeoFitter().fit(x, t_x, big_t)
    gg = GammaGammaFitter().fit(repeaters["frequency"], repeaters["monetary_value"])
    clv = customer_lifetime_value(
        bgnbd,
        gg,
        x,
        t_x,
        big_t,
        summary["monetary_value"].to_numpy(),
        CLV_HORIZON_MONTHS,
        CLV_DISCOUNT_RATE_MONTHLY,
    )
    return {
        "n_customers": len(summary),
        "n_repeat_buyers": int((summary["frequency"] > 0).sum()),
        "n_gamma_gamma_customers": len(repeaters),
        "calibration_end": str(cal_end.date()),
        "holdout_end": None if hold_end is None else str(hold_end.date()),
        "bgnbd": dict(bgnbd.params_),
        "gamma_gamma": dict(gg.params_),
        "fit": {
            "bgnbd_log_likelihood": bgnbd.log_likelihood_,
            "bgnbd_converged": bgnbd.converged_,
            "gamma_gamma_log_likelihood": gg.log_likelihood_,
            "gamma_gamma_converged": gg.converged_,
            "population_mean_spend": gg.population_mean_spend(),
        },
        "holdout": _holdout(bgnbd, summary, hold_end is not None),
        "clv": {
            "horizon_months": CLV_HORIZON_MONTHS,
            "discount_rate_monthly": CLV_DISCOUNT_RATE_MONTHLY,
            "mean": float(np.mean(clv)),
            "median": float(np.median(clv)),
            "total": float(np.sum(clv)),
        },
    }


def _holdout(bgnbd: BetaGeoFitter, summary: pd.DataFrame, has_holdout: bool) -> dict[str, Any]:
    """Predicted vs actual repeat purchase days in the holdout, in total and per customer."""
    if not has_holdout:
        return {
            "weeks": 0.0,
            "predicted_repeat_transactions": None,
            "predicted_repeat_transactions_unconditional": None,
            "actual_repeat_transactions": None,
            "mae_per_customer": None,
            "rmse_per_customer": None,
        }
    weeks = float(summary["duration_holdout"].iloc[0])
    big_t = summary["T"].to_numpy()
    predicted = bgnbd.predict_purchases(
        weeks, summary["frequency"].to_numpy(dtype=np.float64), summary["recency"], big_t
    )
    actual = summary["frequency_holdout"].to_numpy(dtype=np.float64)
    unconditional = bgnbd.expected_purchases(big_t + weeks) - bgnbd.expected_purchases(big_t)
    error = predicted - actual
    return {
        "weeks": weeks,
        "predicted_repeat_transactions": float(predicted.sum()),
        "predicted_repeat_transactions_unconditional": float(unconditional.sum()),
        "actual_repeat_transactions": int(actual.sum()),
        "mae_per_customer": float(np.mean(np.abs(error))),
        "rmse_per_customer": float(np.sqrt(np.mean(error**2))),
    }
