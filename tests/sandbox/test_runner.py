"""The sandbox runner: both emulators up, settings that load, control endpoints, determinism."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connector.sandbox.commands import serve_search_lag
from connector.sandbox.faults import REALISTIC_SEARCH_LAG_MS, FaultPlan
from connector.sandbox.runner import Sandbox
from connector.settings import load_settings


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(seed=5, people=120) as running:
        yield running


def _sf(sandbox: Sandbox) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(sandbox.salesforce.ca_file))
    return httpx.Client(base_url=sandbox.salesforce.url, verify=context)


def _api(sandbox: Sandbox) -> httpx.Client:
    client = _sf(sandbox)
    client.headers["Authorization"] = f"Bearer {sandbox.salesforce.emulator.issue_token()}"
    return client


def test_env_file_loads_into_settings(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("CRMSYNC_"):
            monkeypatch.delenv(name)
    env_file = sandbox.write_env_file(tmp_path / "sandbox.env")
    assert env_file.stat().st_mode & 0o077 == 0
    settings = load_settings(tmp_path / "missing.toml", env_file)
    assert settings.salesforce.auth is not None
    assert settings.salesforce.auth.mode == "client_credentials"
    assert str(settings.salesforce.login_url).rstrip("/") == sandbox.salesforce.login_url
    assert str(settings.salesforce.instance_url).rstrip("/") == sandbox.salesforce.url
    assert settings.salesforce.ca_bundle == sandbox.salesforce.ca_file
    assert str(settings.hubspot.base_url).rstrip("/") == sandbox.hubspot.url
    for auth in ("jwt", "refresh_token"):
        jwt_env = sandbox.write_env_file(tmp_path / f"{auth}.env", salesforce_auth=auth)
        loaded = load_settings(tmp_path / "missing.toml", jwt_env).salesforce.auth
        assert loaded is not None
        assert loaded.mode == auth


def test_client_credentials_from_env_get_a_token_and_hubspot_answers(sandbox: Sandbox) -> None:
    env = sandbox.env()
    context = ssl.create_default_context(cafile=env["CRMSYNC_SALESFORCE__CA_BUNDLE"])
    with httpx.Client(verify=context) as client:
        answer = client.post(
            f"{env['CRMSYNC_SALESFORCE__LOGIN_URL']}/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": env["CRMSYNC_SALESFORCE__AUTH__CLIENT_ID"],
                "client_secret": env["CRMSYNC_SALESFORCE__AUTH__CLIENT_SECRET"],
            },
        )
    assert answer.status_code == 200
    hubspot = httpx.get(
        f"{env['CRMSYNC_HUBSPOT__BASE_URL']}/crm/v3/objects/contacts",
        headers={"Authorization": f"Bearer {env['CRMSYNC_HUBSPOT__AUTH__ACCESS_TOKEN']}"},
    )
    assert hubspot.status_code == 200


def test_stats_count_calls_records_and_usage(sandbox: Sandbox) -> None:
    sandbox.salesforce.emulator.reset()
    with _api(sandbox) as client:
        client.get("/services/data/v66.0/query", params={"q": "SELECT Id FROM Lead LIMIT 1"})
        client.get("/services/data/v66.0/sobjects/Lead/describe")
        stats = client.get("/__sandbox__/stats").json()
    assert stats["calls"] == {
        "GET /services/data/{version:str}/query": 1,
        "GET /services/data/{version:str}/sobjects/{sobject:str}/describe": 1,
    }
    assert stats["api_usage"] == {"used": 2, "max": 15000}
    people = sandbox.world.people
    in_sf_contacts = sum(p.in_salesforce and p.salesforce_object == "Contact" for p in people)
    assert stats["records"]["Contact"] == {"live": in_sf_contacts, "deleted": 0}


def _statuses(client: httpx.Client, count: int) -> list[int]:
    return [
        client.get("/services/data/v66.0/query", params={"q": "SELECT Id FROM User"}).status_code
        for _ in range(count)
    ]


def test_posted_faults_are_deterministic_for_a_seed(sandbox: Sandbox) -> None:
    plan: dict[str, Any] = {"error_rates": {"503": 0.3, "500": 0.1}, "seed": 99}
    with _api(sandbox) as client:
        assert client.post("/__sandbox__/faults", json=plan).status_code == 200
        first = _statuses(client, 30)
        client.post("/__sandbox__/faults", json=plan)
        second = _statuses(client, 30)
        client.post("/__sandbox__/faults", json={})
    assert first == second
    assert {200, 503, 500} <= set(first)


def test_same_seed_gives_same_records_and_same_faults() -> None:
    plan = FaultPlan(error_rates={503: 0.5})
    runs = []
    for _ in range(2):
        with Sandbox.start(seed=21, people=40, faults=plan) as running:
            leads = list(running.salesforce.store.table("Lead").rows.values())
            with _api(running) as client:
                runs.append((leads, _statuses(client, 12)))
    assert runs[0] == runs[1]
    assert 503 in runs[0][1]


def test_session_expiry_and_quota_faults(sandbox: Sandbox) -> None:
    emulator = sandbox.salesforce.emulator
    emulator.set_faults(FaultPlan(expire_session_after_calls=2))
    with _api(sandbox) as client:
        assert _statuses(client, 3) == [200, 200, 401]
        assert client.get("/services/data/v66.0/limits").status_code == 401
    emulator.set_faults(FaultPlan(daily_quota_remaining=0))
    with _api(sandbox) as client:
        refused = client.get("/services/data/v66.0/limits")
    assert refused.status_code == 403
    assert refused.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    emulator.reset()


def test_convert_lead_control_endpoint(sandbox: Sandbox) -> None:
    emulator = sandbox.salesforce.emulator
    emulator.reset()
    lead = next(row for row in emulator.store.table("Lead").rows.values() if not row["IsConverted"])
    with _sf(sandbox) as client:
        done = client.post(
            "/__sandbox__/convert-lead", json={"leadId": lead["Id"], "createOpportunity": False}
        ).json()
        again = client.post("/__sandbox__/convert-lead", json={"leadId": lead["Id"]})
    assert done["opportunityId"] is None
    assert lead["IsConverted"]
    assert lead["ConvertedContactId"] == done["contactId"]
    assert again.status_code == 400
    assert again.json()[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
    with _sf(sandbox) as client:
        assert client.post("/__sandbox__/reset").json() == {"reset": True}
    assert not emulator.store.table("Lead").rows[lead["Id"]]["IsConverted"]


def test_hubspot_search_lag_is_none_unless_asked(sandbox: Sandbox) -> None:
    faults = httpx.get(f"{sandbox.hubspot.url}/__sandbox__/faults").json()
    assert faults["search_lag_ms"] == 0
    with Sandbox.start(seed=5, people=10, search_lag_ms=2500) as lagging:
        faults = httpx.get(f"{lagging.hubspot.url}/__sandbox__/faults").json()
    assert faults["search_lag_ms"] == 2500


def test_serve_lags_search_realistically_unless_told_otherwise() -> None:
    assert serve_search_lag(None, None) == REALISTIC_SEARCH_LAG_MS > 0
    assert serve_search_lag(None, FaultPlan(latency_ms=5)) == REALISTIC_SEARCH_LAG_MS
    assert serve_search_lag(None, FaultPlan(search_lag_ms=0)) == 0
    assert serve_search_lag(750, FaultPlan(search_lag_ms=0)) == 750


def test_serve_command_prints_settings_and_stops_on_sigint(tmp_path: Path) -> None:
    env_file = tmp_path / "serve.env"
    clients_file = tmp_path / "clients.env"
    process = subprocess.Popen(
        [sys.executable, "-c", "from connector.cli import entrypoint; entrypoint()",
         "sandbox", "serve", "--people", "20", "--seed", "3", "--env-file", str(env_file),
         "--clients-env-file", str(clients_file), "--search-lag-ms", "1500"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not clients_file.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert clients_file.exists(), process.stderr.read() if process.stderr else ""
        while not env_file.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert env_file.exists(), process.stderr.read() if process.stderr else ""
        hubspot = next(
            line.split("=", 1)[1]
            for line in env_file.read_text().splitlines()
            if line.startswith("CRMSYNC_HUBSPOT__BASE_URL=")
        )
        lag = httpx.get(f"{hubspot}/__sandbox__/faults").json()["search_lag_ms"]
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "CRMSYNC_SALESFORCE__LOGIN_URL=https://127.0.0.1:" in out
    assert "CRMSYNC_HUBSPOT__BASE_URL=http://127.0.0.1:" in env_file.read_text()
    clients = dict(line.split("=", 1) for line in clients_file.read_text().splitlines())
    for key in ("USERNAME", "PASSWORD", "SECURITY_TOKEN", "CLIENT_ID", "CLIENT_SECRET",
                "REFRESH_TOKEN", "LOGIN_URL", "INSTANCE_URL", "CA_BUNDLE"):  # fmt: skip
        assert f"SALESFORCE_{key}={clients[f'SALESFORCE_{key}']}" in out
    assert clients["SALESFORCE_LOGIN_URL"] != clients["SALESFORCE_INSTANCE_URL"]
    assert "SALESFORCE_PASSWORD" not in env_file.read_text()
    assert lag == 1500
    assert "search lag 1500 ms" in out
