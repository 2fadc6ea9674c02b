"""Settings, read with pydantic-settings.

Precedence, highest first: environment variables (``CRMSYNC_`` prefix, ``__`` between nested
keys) > the ``.env`` file > ``config/crmsync.toml`` > built-in defaults. Secrets are
``SecretStr`` and are never printed. Authentication modes are discriminated unions chosen by an
explicit ``mode``, never guessed from which values happen to be set.

:func:`load_settings` returns the settings or raises :class:`ConfigError` listing every problem;
:func:`explain_sources` says where each effective value came from; :func:`check_settings` finds
problems pydantic cannot see (files that do not exist, credentials that are missing);
:func:`url_credential_warnings` finds credentials written into a CRM URL.

A CRM URL (``salesforce.login_url``, ``salesforce.instance_url``, ``hubspot.base_url``) must be
``https://`` unless it points at this machine: every command that loads settings refuses plain
``http://`` elsewhere, so no token can be sent unencrypted across a network. A ``.env`` line that
is not ``NAME=value`` is refused with its line number rather than skipped.
"""

from __future__ import annotations

import difflib
import io
import ipaddress
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from dotenv.parser import parse_stream
from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from connector.errors import ConfigError, Problem, display_path
from connector.masking import embedded_credentials

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_ENV_FILE",
    "ENV_PREFIX",
    "HubSpotOAuth",
    "HubSpotPrivateApp",
    "HubSpotSettings",
    "SalesforceClientCredentials",
    "SalesforceJwt",
    "SalesforceRefreshToken",
    "SalesforceSession",
    "SalesforceSettings",
    "SettingSource",
    "Settings",
    "SyncSettings",
    "check_settings",
    "explain_sources",
    "load_settings",
    "url_credential_warnings",
]

ENV_PREFIX = "CRMSYNC_"
DEFAULT_CONFIG_FILE = Path("config/crmsync.toml")
DEFAULT_ENV_FILE = Path(".env")
DEFAULT_SALESFORCE_API_VERSION = "66.0"

_STRICT = ConfigDict(extra="forbid", frozen=True)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _refuse_plain_http(url: AnyHttpUrl) -> AnyHttpUrl:
    # Tokens and client secrets travel to these hosts; over plain http anyone on the path reads
    # them. The sandbox serves HubSpot over http on 127.0.0.1, which never leaves the machine.
    if url.scheme == "http" and not _is_loopback(url.host or ""):
        raise ValueError(
            "plain http:// would send credentials unencrypted; use https:// "
            "(http is accepted only for 127.0.0.1, ::1 and localhost)"
        )
    return url


_CrmUrl = Annotated[AnyHttpUrl, AfterValidator(_refuse_plain_http)]


# --- Salesforce -------------------------------------------------------------------------------


class SalesforceJwt(BaseModel):
    """OAuth 2.0 JWT bearer flow: a connected app, a pre-authorised user, a private key."""

    model_config = _STRICT
    mode: Literal["jwt"]
    client_id: str = Field(min_length=1)
    username: str = Field(min_length=1)
    private_key_file: Path


class SalesforceClientCredentials(BaseModel):
    """OAuth 2.0 client credentials flow; needs the org's My Domain login URL."""

    model_config = _STRICT
    mode: Literal["client_credentials"]
    client_id: str = Field(min_length=1)
    client_secret: SecretStr


class SalesforceRefreshToken(BaseModel):
    """OAuth 2.0 refresh token flow."""

    model_config = _STRICT
    mode: Literal["refresh_token"]
    client_id: str = Field(min_length=1)
    client_secret: SecretStr | None = None
    refresh_token: SecretStr


class SalesforceSession(BaseModel):
    """An existing session id, used as is (needs ``instance_url``)."""

    model_config = _STRICT
    mode: Literal["session"]
    session_id: SecretStr


SalesforceAuth = Annotated[
    SalesforceJwt | SalesforceClientCredentials | SalesforceRefreshToken | SalesforceSession,
    Field(discriminator="mode"),
]

_GENERIC_LOGIN_HOSTS = frozenset({"login.salesforce.com", "test.salesforce.com"})


class SalesforceSettings(BaseModel):
    model_config = _STRICT

    auth: SalesforceAuth | None = None
    login_url: _CrmUrl = AnyHttpUrl("https://login.salesforce.com")
    instance_url: _CrmUrl | None = None
    ca_bundle: Path | None = None
    api_version: str = Field(default=DEFAULT_SALESFORCE_API_VERSION, pattern=r"^\d{2,3}\.0$")
    max_daily_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Largest share of the org's daily API allowance one run may spend.",
    )
    lookback_seconds: int = Field(default=300, ge=0, le=86_400)
    bulk_threshold: int = Field(default=10_000, ge=1)
    timeout_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _check_auth_needs(self) -> SalesforceSettings:
        if isinstance(self.auth, SalesforceSession) and self.instance_url is None:
            raise ValueError("session auth needs instance_url (CRMSYNC_SALESFORCE__INSTANCE_URL)")
        if (
            isinstance(self.auth, SalesforceClientCredentials)
            and urlsplit(str(self.login_url)).hostname in _GENERIC_LOGIN_HOSTS
        ):
            raise ValueError(
                "client_credentials auth needs your My Domain login URL "
                "(https://yourdomain.my.salesforce.com), not login/test.salesforce.com"
            )
        return self


# --- HubSpot ----------------------------------------------------------------------------------


class HubSpotPrivateApp(BaseModel):
    """A private app's access token."""

    model_config = _STRICT
    mode: Literal["private_app"]
    access_token: SecretStr


class HubSpotOAuth(BaseModel):
    """A public app's OAuth refresh token."""

    model_config = _STRICT
    mode: Literal["oauth"]
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr


HubSpotAuth = Annotated[HubSpotPrivateApp | HubSpotOAuth, Field(discriminator="mode")]


class HubSpotSettings(BaseModel):
    model_config = _STRICT

    auth: HubSpotAuth | None = None
    base_url: _CrmUrl = AnyHttpUrl("https://api.hubapi.com")
    ca_bundle: Path | None = None
    burst_limit_per_10s: int = Field(
        default=100, ge=1, le=1000, description="Requests per rolling 10 s for this app."
    )
    search_per_second: int = Field(
        default=4, ge=1, le=5, description="Search requests per second (HubSpot allows 5)."
    )
    daily_limit: int = Field(default=250_000, ge=1)
    max_daily_share: float = Field(default=0.5, gt=0, le=1)
    search_lag_seconds: int = Field(
        default=60,
        ge=0,
        le=3_600,
        description="How far HubSpot's search index may trail its writes (it says 'a few "
        "moments'; integrators wait up to 60 s after an update).",
    )
    lookback_seconds: int | None = Field(
        default=None,
        ge=0,
        le=86_400,
        description="Re-read this far before the watermark; default five times the search lag.",
    )
    timeout_seconds: float = Field(default=60.0, gt=0)

    @property
    def lookback(self) -> int:
        """Seconds re-read before the watermark. An edit becomes searchable up to the search
        lag after it is made, so a run ending before that leaves it to the next run's window:
        the lookback must cover the lag (and clock skew), five times over by default."""
        if self.lookback_seconds is not None:
            return self.lookback_seconds
        return max(5 * self.search_lag_seconds, 60)

    @model_validator(mode="after")
    def _lookback_covers_the_lag(self) -> HubSpotSettings:
        if self.lookback_seconds is not None and self.lookback_seconds < self.search_lag_seconds:
            raise ValueError(
                f"lookback_seconds ({self.lookback_seconds}) is shorter than search_lag_seconds "
                f"({self.search_lag_seconds}): an edit searchable only after a run ends would be "
                "missed; raise lookback_seconds or leave it unset (five times the lag)"
            )
        return self


# --- Sync policy ------------------------------------------------------------------------------


class SyncSettings(BaseModel):
    """How the two CRMs are kept together when one of them loses a record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    on_delete: Literal["unlink", "propagate", "recreate"] = "unlink"
    """A record deleted, archived or merged away in one CRM is never re-created by crmsync:
    ``unlink`` stops syncing the pair and keeps the other CRM's record (reported);
    ``propagate`` deletes (archives) the other CRM's record too, through the plan;
    ``recreate`` (opt-in) creates it again from the other CRM under the creation policy."""


# --- Root -------------------------------------------------------------------------------------


class Settings(BaseSettings):
    """Everything crmsync reads from the environment, ``.env`` and ``config/crmsync.toml``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=DEFAULT_ENV_FILE,
        env_file_encoding="utf-8",
        toml_file=DEFAULT_CONFIG_FILE,
        extra="forbid",
        frozen=True,
    )

    state_url: str = Field(default="sqlite:///.crmsync/state.db", min_length=1)
    mappings_dir: Path = Path("mappings")
    rules_file: Path = Path("config/rules.yaml")
    jobs_dir: Path = Path("jobs")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    salesforce: SalesforceSettings = SalesforceSettings()
    hubspot: HubSpotSettings = HubSpotSettings()
    sync: SyncSettings = SyncSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
        )


# --- Loading, provenance, errors --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettingSource:
    """Where one effective value came from."""

    kind: Literal["environment", "dotenv", "toml", "default", "override"]
    name: str  # the variable or file
    line: int | None = None

    def __str__(self) -> str:
        if self.kind == "environment":
            return f"environment {self.name}"
        if self.kind in ("dotenv", "toml"):
            return f"{self.name}:{self.line}" if self.line else self.name
        return self.kind


@dataclass(frozen=True, slots=True)
class _Files:
    config_file: Path
    env_file: Path | None


def _settings_class(files: _Files) -> type[Settings]:
    """A ``Settings`` subclass bound to particular files (no global state is changed)."""

    class _Bound(Settings):
        model_config = SettingsConfigDict(toml_file=files.config_file, env_file=files.env_file)
        __files__: ClassVar[_Files] = files

    _Bound.__name__ = _Bound.__qualname__ = "Settings"
    return _Bound


def _source_dicts(files: _Files) -> list[tuple[str, dict[str, Any]]]:
    cls = _settings_class(files)
    env = EnvSettingsSource(cls)
    dotenv = DotEnvSettingsSource(cls, env_file=files.env_file)
    toml = TomlConfigSettingsSource(cls, toml_file=files.config_file)
    # Checked in precedence order, so a key set in several places is attributed to the winner.
    return [("environment", env()), ("dotenv", dotenv()), ("toml", toml())]


def _flatten(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, path)
        else:
            yield path


def _toml_line(config_file: Path, path: tuple[str, ...]) -> int | None:
    """The line where ``path`` is set in a TOML file (``[a.b]`` sections and ``k = v`` lines)."""
    try:
        lines = config_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    section: tuple[str, ...] = ()
    header = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
    assignment = re.compile(r"^\s*([A-Za-z0-9_.\"-]+)\s*=")
    for number, text in enumerate(lines, start=1):
        if match := header.match(text):
            section = tuple(part.strip().strip('"') for part in match.group(1).split("."))
            continue
        if match := assignment.match(text):
            key = tuple(part.strip('"') for part in match.group(1).split("."))
            full = section + key
            if full == path[: len(full)]:
                return number
    return None


def _dotenv_line(env_file: Path | None, variable: str) -> int | None:
    if env_file is None:
        return None
    try:
        lines = env_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    pattern = re.compile(rf"^\s*(export\s+)?{re.escape(variable)}\s*=", re.IGNORECASE)
    for number, text in enumerate(lines, start=1):
        if pattern.match(text):
            return number
    return None


def _dotenv_problems(env_file: Path | None) -> list[Problem]:
    """Lines of the dotenv file that set nothing: not ``NAME=value`` syntax, or a name alone.

    Parsed with python-dotenv's own parser, the one pydantic-settings loads the file with, so
    what is accepted here is exactly what gets loaded (comments, blank lines, ``export NAME=``,
    quoted values holding ``#`` or ``=``, empty values); python-dotenv skips the rest silently.
    The line's text is never repeated: it may be a pasted secret. A file that cannot be read
    at all raises :class:`ConfigError` at once (nothing else in it can be checked).
    """
    if env_file is None or not env_file.is_file():
        return []
    label = display_path(env_file)
    try:
        text = env_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [Problem(where=label, line=line, message="not UTF-8 text", hint="save it as UTF-8")]
        ) from None
    except OSError as exc:
        raise ConfigError(
            [Problem(where=label, message=f"cannot read the file ({exc.strerror})")]
        ) from None
    problems: list[Problem] = []
    for binding in parse_stream(io.StringIO(text)):
        if not binding.error and (binding.key is None or binding.value is not None):
            continue
        original = binding.original
        # python-dotenv counts the blank lines before a binding as part of it.
        skipped = original.string[: len(original.string) - len(original.string.lstrip())]
        line = original.line + skipped.count("\n")
        if binding.error:
            message = "not a dotenv line"
            hint = "write NAME=value, quote a value that holds spaces, quotes or '#', start a "
            hint += "comment with '#'"
        else:
            message = "a name without '=' sets nothing"
            hint = "write NAME=value (NAME= for an empty value), or start a comment with '#'"
        problems.append(Problem(where=label, line=line, message=message, hint=hint))
    return problems


def _env_name(path: tuple[str, ...]) -> str:
    return ENV_PREFIX + "__".join(part.upper() for part in path)


def _locate(
    files: _Files, sources: list[tuple[str, dict[str, Any]]], path: tuple[str, ...]
) -> SettingSource:
    for kind, data in sources:
        node: Any = data
        found = True
        for depth, part in enumerate(path):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, Mapping) and depth > 0:
                found = False
                break
            else:
                found = depth > 0 and not isinstance(node, Mapping)
                break
        if not found:
            continue
        if kind == "environment":
            return SettingSource("environment", _env_name(path))
        if kind == "dotenv":
            name = _env_name(path)
            label = display_path(files.env_file) if files.env_file else ".env"
            return SettingSource("dotenv", label, _dotenv_line(files.env_file, name))
        label = display_path(files.config_file)
        return SettingSource("toml", label, _toml_line(files.config_file, path))
    return SettingSource("default", "")


_UNION_TAGS = frozenset(
    {"jwt", "client_credentials", "refresh_token", "session", "private_app", "oauth"}
)


def _error_path(loc: tuple[int | str, ...]) -> tuple[str, ...]:
    """A pydantic error location without discriminated-union tags."""
    parts: list[str] = []
    for index, part in enumerate(loc):
        text = str(part)
        # Tags appear right after an ``auth`` key; other keys are real field names.
        if index > 0 and str(loc[index - 1]) == "auth" and text in _UNION_TAGS:
            continue
        parts.append(text)
    return tuple(parts)


def _problems_from(error: ValidationError, files: _Files) -> list[Problem]:
    sources = _source_dicts(files)
    problems: list[Problem] = []
    for detail in error.errors(include_input=False, include_url=False):
        path = _error_path(detail["loc"])
        source = _locate(files, sources, path)
        field = ".".join(path) or "(settings)"
        where = str(source) if source.kind != "default" else "settings"
        message = str(detail["msg"]).removeprefix("Value error, ")
        hint = ""
        if detail["type"] == "missing":
            hint = f"set {_env_name(path)} or add it to {display_path(files.config_file)}"
        elif detail["type"] == "extra_forbidden":
            message = "unknown setting"
            hint = "check the spelling against the README's configuration reference"
            if len(path) == 1 and path[0].upper().startswith(ENV_PREFIX):
                # An unknown CRMSYNC_* line in the .env file arrives as a top-level extra key.
                variable = path[0].upper()
                field = variable
                label = display_path(files.env_file) if files.env_file else ".env"
                line = _dotenv_line(files.env_file, variable)
                where = f"{label}:{line}" if line else label
                hint += did_you_mean_setting(variable)
        elif detail["type"] == "union_tag_invalid":
            message = "unknown auth mode"
            hint = "choose one of: " + ", ".join(sorted(_UNION_TAGS))
        problems.append(Problem(where=where, field=field, message=message, hint=hint))
    return problems


def load_settings(
    config_file: Path | None = None,
    env_file: Path | None = DEFAULT_ENV_FILE,
    **overrides: Any,
) -> Settings:
    """Load settings from the environment, ``env_file`` and ``config_file``.

    Raises :class:`ConfigError` listing every problem at once; never shows a secret's value.
    """
    files = _Files(config_file or DEFAULT_CONFIG_FILE, env_file)
    problems: list[Problem] = []
    try:
        import tomllib

        if files.config_file.exists():
            tomllib.loads(files.config_file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError) as exc:
        problems.append(
            Problem(where=display_path(files.config_file), message=f"not valid TOML: {exc}")
        )
        raise ConfigError(problems) from exc
    # Listed with pydantic's findings: all problems at once.
    problems = _dotenv_problems(files.env_file)
    # python-dotenv would also log each of those lines, numbered from the blank lines before it.
    dotenv_logger = logging.getLogger("dotenv.main")
    mute = logging.Filter("(none)")  # passes only that logger's records: none
    if problems:
        dotenv_logger.addFilter(mute)
    try:
        settings = _settings_class(files)(**overrides)
    except ValidationError as exc:
        raise ConfigError(problems + _problems_from(exc, files)) from None
    finally:
        dotenv_logger.removeFilter(mute)
    if problems:
        raise ConfigError(problems)
    return settings


def explain_sources(
    settings: Settings, config_file: Path | None = None, env_file: Path | None = DEFAULT_ENV_FILE
) -> dict[str, SettingSource]:
    """Map each effective setting (dotted key) to where its value came from."""
    files = _Files(config_file or DEFAULT_CONFIG_FILE, env_file)
    sources = _source_dicts(files)
    data = settings.model_dump(mode="python")
    return {".".join(path): _locate(files, sources, path) for path in _flatten(data)}


# Variables with the prefix that are not settings: the CLI's own option and the test suite's.
_NON_SETTING_VARIABLES = ("CRMSYNC_CONFIG_FILE", "CRMSYNC_TEST_")


def _known_variables() -> list[str]:
    names: list[str] = []
    for key, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.extend(_env_name((key, sub)) for sub in annotation.model_fields)
        else:
            names.append(_env_name((key,)))
    return names


def did_you_mean_setting(variable: str) -> str:
    matches = difflib.get_close_matches(variable, _known_variables(), n=1, cutoff=0.75)
    return f"; did you mean {matches[0]}?" if matches else ""


def check_settings(settings: Settings, environ: Mapping[str, str] | None = None) -> list[Problem]:
    """Problems pydantic cannot see: absent files, missing credentials, misspelt variables."""
    problems: list[Problem] = []
    environment = os.environ if environ is None else environ
    top_level = {_env_name((key,)) for key in Settings.model_fields}
    for variable in sorted(environment):
        upper = variable.upper()
        if not upper.startswith(ENV_PREFIX) or upper.startswith(_NON_SETTING_VARIABLES):
            continue
        if upper.split("__", 1)[0] not in top_level:
            problems.append(
                Problem(
                    where=f"environment {variable}",
                    message="unknown setting (ignored)",
                    hint="check the spelling against the README's configuration reference"
                    + did_you_mean_setting(upper),
                )
            )

    def need_file(path: Path | None, field: str, what: str, *, directory: bool = False) -> None:
        if path is None:
            return
        ok = path.is_dir() if directory else path.is_file()
        if not ok:
            problems.append(
                Problem(
                    where=display_path(path),
                    field=field,
                    message=f"{what} not found",
                    hint=f"create it or point {_env_name(tuple(field.split('.')))} elsewhere",
                )
            )

    need_file(settings.mappings_dir, "mappings_dir", "mappings directory", directory=True)
    need_file(settings.rules_file, "rules_file", "rules file")
    need_file(settings.jobs_dir, "jobs_dir", "jobs directory", directory=True)
    need_file(settings.salesforce.ca_bundle, "salesforce.ca_bundle", "CA bundle")
    need_file(settings.hubspot.ca_bundle, "hubspot.ca_bundle", "CA bundle")
    if isinstance(settings.salesforce.auth, SalesforceJwt):
        need_file(
            settings.salesforce.auth.private_key_file,
            "salesforce.auth.private_key_file",
            "private key",
        )
    for system in ("salesforce", "hubspot"):
        if getattr(settings, system).auth is None:
            problems.append(
                Problem(
                    where="settings",
                    field=f"{system}.auth",
                    message="no credentials configured",
                    hint=(
                        f"set {ENV_PREFIX}{system.upper()}__AUTH__MODE and its fields (README, "
                        "'Connecting real orgs'), or point at the local sandbox with "
                        "`crmsync sandbox serve --env-file .env`"
                    ),
                )
            )
    return problems


_CRM_URL_SETTINGS = (
    ("salesforce", "login_url"),
    ("salesforce", "instance_url"),
    ("hubspot", "base_url"),
)


def url_credential_warnings(
    settings: Settings, sources: Mapping[str, SettingSource] | None = None
) -> list[Problem]:
    """CRM URL settings that carry credentials (userinfo or a secret-looking parameter).

    Warnings, not errors: crmsync masks them wherever it shows a URL, but they belong in the
    auth fields, which are kept as secrets. ``state_url`` is left out on purpose: a database URL
    is how the state store is given its password (or use PGPASSWORD / ``~/.pgpass``).
    ``sources`` (from :func:`explain_sources`) lets each warning say where the value was set.
    """
    warnings: list[Problem] = []
    for system, name in _CRM_URL_SETTINGS:
        value = getattr(getattr(settings, system), name)
        found = embedded_credentials(str(value)) if value is not None else []
        if not found:
            continue
        key = f"{system}.{name}"
        source = (sources or {}).get(key)
        where = str(source) if source is not None and source.kind != "default" else "settings"
        warnings.append(
            Problem(
                where=where,
                field=key,
                message="the URL carries " + ", ".join(found),
                hint=(
                    f"remove them from {_env_name((system, name))} and use the auth fields "
                    f"instead ({ENV_PREFIX}{system.upper()}__AUTH__MODE and its fields, README "
                    "'Configuration')"
                ),
            )
        )
    return warnings
