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


SF_PASSWORD = "sfpass-8c1d2e"
SF_TOKEN_USER = "00D5g000004AbcD!AQ0AQHkqFzWqwertyuiop"
HS_KEY = "hubkey-4f0a9b77"
PG_PASSWORD = "pgpass-77ab12"


def test_config_show_masks_credentials_in_every_url_setting(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "CRMSYNC_SALESFORCE__LOGIN_URL", f"https://admin:{SF_PASSWORD}@acme.my.salesforce.com"
    )
    monkeypatch.setenv(
        "CRMSYNC_SALESFORCE__INSTANCE_URL", f"https://{SF_TOKEN_USER}@acme.my.salesforce.com"
    )
    monkeypatch.setenv("CRMSYNC_HUBSPOT__BASE_URL", f"https://api.hubapi.com/?hapikey={HS_KEY}")
    monkeypatch.setenv("CRMSYNC_STATE_URL", f"postgresql://crm@db/crmsync?password={PG_PASSWORD}")

    assert main(["config", "show"]) == 0
    table = capsys.readouterr().out
    assert main(["config", "show", "--json"]) == 0
    json_out = capsys.readouterr().out
    for secret in (SF_PASSWORD, SF_TOKEN_USER, HS_KEY, PG_PASSWORD):
        assert secret not in table
        assert secret not in json_out
    rows = json.loads(json_out)
    assert rows["salesforce.login_url"]["value"] == "https://admin:****@acme.my.salesforce.com/"
    assert rows["salesforce.instance_url"]["value"] == "https://****@acme.my.salesforce.com/"
    assert rows["hubspot.base_url"]["value"] == "https://api.hubapi.com/?hapikey=****"
    assert rows["state_url"]["value"] == "postgresql://crm@db/crmsync?password=****"


def test_an_unreachable_state_store_is_named_without_its_password(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "CRMSYNC_STATE_URL", f"postgresql://crm@127.0.0.1:1/crmsync?password={PG_PASSWORD}"
    )
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert "cannot open the state store at" in err
    assert "password=****" in err
    assert PG_PASSWORD not in err


def test_passwords_inside_url_settings_are_scrubbed_from_logs(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    monkeypatch.setenv(
        "CRMSYNC_SALESFORCE__LOGIN_URL", f"https://admin:{SF_PASSWORD}@acme.my.salesforce.com"
    )
    assert main(["config", "show"]) == 0  # loads settings and configures logging as every command
    # A library that echoes the password outside its URL (a Basic auth failure, say).
    logging.getLogger("connector.test").warning("login refused for admin / %s", SF_PASSWORD)
    err = capsys.readouterr().err
    assert "login refused for admin" in err
    assert SF_PASSWORD not in err


def _complete_project(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files and credentials enough for ``config check`` to pass."""
    (root / "mappings").mkdir()
    (root / "jobs").mkdir()
    _write(root / "config/rules.yaml", "version: 1\n")
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__MODE", "refresh_token")
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__CLIENT_ID", "3MVG9")
    monkeypatch.setenv("CRMSYNC_SALESFORCE__AUTH__REFRESH_TOKEN", "5Aep861-refresh-value")
    monkeypatch.setenv("CRMSYNC_HUBSPOT__AUTH__MODE", "private_app")
    monkeypatch.setenv("CRMSYNC_HUBSPOT__AUTH__ACCESS_TOKEN", TOKEN)


def test_config_check_warns_about_credentials_in_a_crm_url(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _complete_project(clean_env, monkeypatch)
    assert main(["config", "check"]) == 0
    assert "warning" not in capsys.readouterr().err

    _write(
        clean_env / ".env",
        f"CRMSYNC_SALESFORCE__LOGIN_URL=https://admin:{SF_PASSWORD}@acme.my.salesforce.com\n",
    )
    monkeypatch.setenv("CRMSYNC_HUBSPOT__BASE_URL", f"https://api.hubapi.com/?hapikey={HS_KEY}")

    code = main(["config", "check"])  # a warning, not an error: the URLs still work
    captured = capsys.readouterr()
    assert code == 0
    assert "configuration ok" in captured.out
    err = " ".join(captured.err.split())
    assert (
        "warning: .env:1: salesforce.login_url: the URL carries a user name and password "
        "(remove them from CRMSYNC_SALESFORCE__LOGIN_URL and use the auth fields instead"
    ) in err
    assert (
        "warning: environment CRMSYNC_HUBSPOT__BASE_URL: hubspot.base_url: the URL carries the "
        "query parameter 'hapikey'"
    ) in err
    assert SF_PASSWORD not in err
    assert HS_KEY not in err


@pytest.mark.parametrize(
    ("variable", "field"),
    [
        ("CRMSYNC_SALESFORCE__LOGIN_URL", "salesforce.login_url"),
        ("CRMSYNC_SALESFORCE__INSTANCE_URL", "salesforce.instance_url"),
        ("CRMSYNC_HUBSPOT__BASE_URL", "hubspot.base_url"),
    ],
)
def test_plain_http_to_a_crm_host_is_refused_unless_it_is_loopback(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    field: str,
) -> None:
    # The sandbox serves HubSpot over plain http on 127.0.0.1: loopback stays allowed.
    for url in ("http://127.0.0.1:8080", "http://[::1]:8080", "http://localhost:8080"):
        monkeypatch.setenv(variable, url)
        load_settings()
    monkeypatch.setenv(variable, "http://crm.example.com")
    # Refused when settings load, so every command (sync included) stops before connecting.
    with pytest.raises(ConfigError, match=f"{field}: plain http:// would send credentials"):
        load_settings()
    assert main(["config", "check"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"environment {variable}: {field}: plain http:// would send credentials" in err
    assert "use https://" in err


_VALID_DOTENV = """\
# crmsync settings

export CRMSYNC_LOG_LEVEL=DEBUG
CRMSYNC_STATE_URL="sqlite:///state.db#not-a-comment=1"
CRMSYNC_MAPPINGS_DIR='maps # here' # a comment after a value
OTHER_TOOL_SETTING=
CRMSYNC_JOBS_DIR = spaced
CRMSYNC_RULES_FILE="rules
file.yaml"
"""


def test_a_malformed_dotenv_line_is_refused_with_its_line_number(
    clean_env: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    _write(
        clean_env / ".env",
        _VALID_DOTENV + "\nthis is not a dotenv line ===\nCRMSYNC_LOG_FORMAT=json\n"
        "pat-na1-pasted-alone-0123\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert [str(problem).split(" (")[0] for problem in caught.value.problems] == [
        ".env:11: not a dotenv line",
        ".env:13: a name without '=' sets nothing",
    ]
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert ".env:11: not a dotenv line" in err
    assert "this is not" not in err
    assert "pat-na1-pasted-alone-0123" not in err  # a line may be a pasted secret
    # python-dotenv's own notice numbers lines differently; ours is the one users see.
    assert "could not parse" not in caplog.text

    # Everything else in the file is valid dotenv syntax and loads as written.
    _write(clean_env / ".env", _VALID_DOTENV)
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.state_url == "sqlite:///state.db#not-a-comment=1"
    assert settings.mappings_dir == Path("maps # here")
    assert settings.jobs_dir == Path("spaced")
    assert settings.rules_file == Path("rules\nfile.yaml")
