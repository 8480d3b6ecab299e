"""Measurement designed in: plans fixed at opening, effect estimators and their evaluation."""

from cximpact.measure.design import choose_method, holdout_sample_size, in_holdout, plan_measurement
from cximpact.measure.estimators import (
    Effect,
    did_effect,
    holdout_effect,
    its_effect,
    ols,
    rate_ratio_effect,
    verdict_of,
)

__all__ = [
    "Effect",
    "choose_method",
    "did_effect",
    "holdout_effect",
    "holdout_sample_size",
    "in_holdout",
    "its_effect",
    "ols",
    "plan_measurement",
    "rate_ratio_effect",
    "verdict_of",
]
