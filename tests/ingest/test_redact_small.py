"""Short columns are redacted value by value: exactly what the vectorised path gives."""

import pandas as pd
import pytest

from cximpact.errors import ContractError
from cximpact.ingest import redact as redact_mod
from cximpact.ingest.redact import redact_series, redact_text

from .pii_corpus import make_corpus


def _vectorised(series: pd.Series, monkeypatch: pytest.MonkeyPatch) -> pd.Series:
    with monkeypatch.context() as patch:
        patch.setattr(redact_mod, "_SMALL", -1)
        return redact_series(series)


@pytest.mark.parametrize("dtype", [object, "str", "string"])
@pytest.mark.parametrize("size", [1, 7, 100, 256])
def test_small_columns_equal_the_vectorised_path(
    dtype: object, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts: list[str | None] = [t for t, _ in make_corpus(size, size, pii_rate=0.5)]
    texts[::5] = [None] * len(texts[::5])
    series = pd.Series(texts, index=[f"r{i}" for i in range(size)], name="body", dtype=dtype)
    small = redact_series(series)
    pd.testing.assert_series_equal(small, _vectorised(series, monkeypatch), check_exact=True)
    assert small.tolist() == [t if pd.isna(t) else redact_text(t) for t in series]
    if size >= 100:
        assert not small.equals(series)  # something was redacted


def test_small_columns_with_other_values_still_raise() -> None:
    with pytest.raises(ContractError, match="not str"):
        redact_series(pd.Series(["call 415-555-2671", 4111111111111111], dtype=object))
