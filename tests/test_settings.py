"""Settings are declared once, listed by the CLI, and every one is documented."""

from pathlib import Path

import pytest

from cximpact.errors import ConfigError
from cximpact.settings import Settings, describe_settings, load_settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text()
    missing = [name for name in Settings.model_fields if f"`CXIMPACT_{name.upper()}`" not in text]
    assert not missing, f"document these settings in docs/settings.md: {missing}"


def test_environment_and_file_and_override_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[cximpact]\nhorizon_days = 90\ndefault_ltv = 5.0\n")
    monkeypatch.setenv("CXIMPACT_CONFIG", str(config))
    monkeypatch.setenv("CXIMPACT_DEFAULT_LTV", "7.5")
    settings = load_settings(db=tmp_path / "x.duckdb")
    assert settings.horizon_days == 90 and settings.default_ltv == 7.5
    assert settings.state_url().endswith("x.state.sqlite")
    assert {r["name"] for r in describe_settings(settings)} == set(Settings.model_fields)


def test_invalid_setting_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXIMPACT_HORIZON_DAYS", "-3")
    with pytest.raises(ConfigError, match="horizon_days"):
        load_settings()
