"""Building a :class:`SyncEngine` from settings: the one place collaborators are assembled.

Everything an admin or user controls is validated first and every problem reported at once
(settings, mappings, rules); nothing is opened or pulled until all of it is valid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from connector.crm.connect import connect
from connector.crm.types import CrmSink, CrmSource
from connector.errors import ConfigError, DefinitionError, Problem, System
from connector.logs import add_secrets
from connector.mapping import load_mappings
from connector.mapping.model import MappingSet
from connector.rules import Rules, load_rules
from connector.settings import Settings
from connector.state import StateStore
from connector.stopping import Stop
from connector.sync.decide import DeletePolicy
from connector.sync.engine import EngineOptions, SyncEngine

__all__ = ["connected", "load_definitions", "require_credentials"]


def load_definitions(settings: Settings) -> tuple[MappingSet, Rules]:
    """Load mappings and rules; raise one error listing the problems of both."""
    problems: list[Problem] = []
    mappings: MappingSet | None = None
    rules: Rules | None = None
    try:
        mappings = load_mappings(settings.mappings_dir)
    except DefinitionError as error:
        problems.extend(error.problems)
    try:
        rules = load_rules(settings.rules_file)
    except DefinitionError as error:
        problems.extend(error.problems)
    if problems or mappings is None or rules is None:
        raise DefinitionError(problems)
    return mappings, rules


def require_credentials(settings: Settings) -> None:
    missing = [
        Problem(
            where="settings",
            field=f"{system}.auth",
            message="no credentials configured",
            hint=(
                f"set CRMSYNC_{system.upper()}__AUTH__MODE and its fields, or run "
                "`crmsync demo` / `crmsync sandbox serve --env-file .env` for the local sandbox"
            ),
        )
        for system in ("salesforce", "hubspot")
        if getattr(settings, system).auth is None
    ]
    if missing:
        raise ConfigError(missing)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def connected(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = _utc_now,
    options: EngineOptions | None = None,
    progress: Callable[[str, int], None] | None = None,
    sleep: Callable[[float], None] | None = None,
    stop: Stop | None = None,
) -> Iterator[SyncEngine]:
    """An engine wired to both CRMs and the state store, closed afterwards.

    ``stop`` is the run's stop request (a signal handler sets it), shared by the engine and
    both adapters: once set, the run ends at the next call, wait or checkpoint and is recorded
    as interrupted. ``sleep`` is what the adapters wait with between retries: by default a real
    sleep that a stop wakes; tests pass a virtual one."""
    mappings, rules = load_definitions(settings)
    require_credentials(settings)
    stop = stop or Stop()
    store = StateStore.from_settings(settings)
    try:
        adapters = connect(settings, sleep=sleep, stop=stop)
        salesforce, hubspot = adapters.salesforce, adapters.hubspot
        add_secrets(adapters.secrets())
        sources: dict[System, CrmSource] = {System.SALESFORCE: salesforce, System.HUBSPOT: hubspot}
        sinks: dict[System, CrmSink] = {System.SALESFORCE: salesforce, System.HUBSPOT: hubspot}
        yield SyncEngine(
            store=store,
            mappings=mappings,
            rules=rules,
            sources=sources,
            sinks=sinks,
            clock=clock,
            options=_with_policy(options or EngineOptions(), settings),
            progress=progress,
            stop=stop,
            api_calls=lambda: {
                System.SALESFORCE: salesforce.budget.spent(),
                System.HUBSPOT: hubspot.budget.calls,
            },
        )
    finally:
        store.close()


def _with_policy(options: EngineOptions, settings: Settings) -> EngineOptions:
    """The options, with the settings' delete policy unless the caller chose one."""
    if options.on_delete is not None:
        return options
    return replace(options, on_delete=DeletePolicy(settings.sync.on_delete))
