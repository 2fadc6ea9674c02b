from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import ConfigError, ExitCode
from connector.settings import (
    SalesforceJwt,
    check_settings,
    explain_sources,
    load_settings,
)

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
SECRET = "s3cr3t-client-value-xyz"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_source(clean_env: Path) -> None:
    settings = load_settings()
    assert settings.salesforce.api_version == "66.0"
    assert settings.state_url == "sqlite:///.crmsync/state.db"
    assert settings.hubspot.burst_limit_per_10s == 100
    assert settings.hubspot.search_per_second == 4
    assert settings.salesforce.auth is None


def test_precedence_env_over_dotenv_over_toml_over_default(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        clean_env / "config/crmsync.toml",
        '[salesforce]\napi_version = "61.0"\nlookback_seconds = 60\nbulk_threshold = 5\n'
        "[hubspot]\nburst_limit_per_10s = 150\n",
    )
    _write(
        clean_env / ".env",
        "CRMSYNC_SALESFORCE__API_VERSION=62.0\nCRMSYNC_SALESFORCE__LOOKBACK_SECONDS=120\n",
    )
    monkeypatch.setenv("CRMSYNC_SALESFORCE__API_VERSION", "63.0")

    settings = load_settings()
    assert settings.salesforce.api_version == "63.0"  # environment wins
    assert settings.salesforce.lookback_seconds == 120  # .env beats the TOML file
    assert settings.salesforce.bulk_threshold == 5  # TOML beats the default
    assert settings.hubspot.burst_limit_per_10s == 150
    assert settings.hubspot.search_per_second == 4  # default

    sources = explain_sources(settings)
    assert str(sources["salesforce.api_version"]) == "environment CRMSYNC_SALESFORCE__API_VERSION"
    assert str(sources["salesforce.lookback_seconds"]) == ".env:2"
    assert str(sources["salesforce.bulk_threshold"]) == "config/crmsync.toml:4"
    assert str(sources["hubspot.burst_limit_per_10s"]) == "config/crmsync.toml:6"
    assert str(sources["hubspot.search_per_second"]) == "default"


def test_auth_mode_is_explicit_and_discriminated(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = _write(clean_env / "key.pem", "not really a key")
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__MODE", "jwt")
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__CLIENT_ID", "3MVG9")
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__USERNAME", "integration@example.com")
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__PRIVATE_KEY_FILE", str(key))
    settings = load_settings()
    assert isinstance(settings.salesforce.auth, SalesforceJwt)
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__MODE", "password")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "unknown auth mode" in str(caught.value)


def test_client_credentials_refuses_the_generic_login_host(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__MODE", "client_credentials")
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__CLIENT_ID", "3MVG9")
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__CLIENT_SECRET", SECRET)
    with pytest.raises(ConfigError, match="My Domain"):
        load_settings()
    monkeypatch.setenv("CRMSYNC_SALESFORCE__LOGIN_URL", "https://acme.my.salesforce.com")
    assert load_settings().salesforce.login_url.host == "acme.my.salesforce.com"


def test_three_independent_errors_are_reported_together_and_exit_2(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(clean_env / "config/crmsync.toml", "[hubspot]\nsearch_per_second = 9\n")
    monkeypatch.setenv("CRMSYNC_SALESFORCE__API_VERSION", "latest")
    _write(clean_env / ".env", "CRMSYNC_LOG_LEVEL=LOUD\n")

    code = main(["config", "check"])

    err = capsys.readouterr().err
    assert code == ExitCode.INVALID_DEFINITION
    assert int(code) == 2
    assert "3 problems" in err
    assert "environment CRMSYNC_SALESFORCE__API_VERSION: salesforce.api_version" in err
    assert "config/crmsync.toml:2: hubspot.search_per_second" in err
    assert ".env:1: log_level" in err


def test_config_check_lists_missing_files_and_credentials(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["config", "check"])
    err = capsys.readouterr().err
    assert code == 2
    for expected in (
        "mappings directory not found",
        "rules file not found",
        "jobs directory not found",
        "salesforce.auth: no credentials configured",
        "hubspot.auth: no credentials configured",
    ):
        assert expected in err


def test_misspelt_variable_gets_a_suggestion(clean_env: Path) -> None:
    problems = check_settings(
        load_settings(), environ={"CRMSYNC_HUBSPOT_BASE_URL": "http://x", "CRMSYNC_TEST_X": "1"}
    )
    (typo,) = [p for p in problems if "unknown setting" in p.message]
    assert "did you mean CRMSYNC_HUBSPOT__BASE_URL?" in str(typo)


def test_config_show_never_prints_a_secret(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(
        clean_env / ".env",
        f"CRMSYNC_HUBSPOT__AUTH__MODE=private_app\nCRMSYNC_HUBSPOT__AUTH__ACCESS_TOKEN={TOKEN}\n",
    )
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__MODE", "refresh_token")
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__CLIENT_ID", "3MVG9")
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__CLIENT_SECRET", SECRET)
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__REFRESH_TOKEN", "5Aep861-refresh-value")
    monkeypatch.setenv("CRMSYNC_STATE_URL", "postgresql+psycopg://crm:hunter2pw@db/crmsync")

    assert main(["config", "show"]) == 0
    assert main(["config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    for secret in (TOKEN, SECRET, "5Aep861-refresh-value", "hunter2pw"):
        assert secret not in out
    rows = json.loads(out[out.index("{") :])
    assert rows["hubspot.auth.access_token"] == {"value": "**********", "source": ".env:2"}
    assert rows["state_url"]["value"] == "postgresql+psycopg://crm:****@db/crmsync"


def test_invalid_toml_is_reported_with_its_file(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(clean_env / "config/crmsync.toml", "[salesforce\napi_version = 1\n")
    assert main(["config", "show"]) == 2
    assert "config/crmsync.toml: not valid TOML" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from connector import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"crmsync {__version__}"


def test_usage_errors_exit_2_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "--no-such-option"]) == 2
    assert "No such option" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2
