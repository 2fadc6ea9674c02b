"""One exception root for crmsync, grouped by what the runner does next.

::

    CrmsyncError                      exit 1  anything unexpected the runner cannot classify
    ├── ConfigError                   exit 2  the user fixes settings (env, .env, crmsync.toml)
    ├── DefinitionError               exit 2  an admin fixes a YAML file
    │   ├── MappingError                      mappings/*.yaml
    │   ├── RulesError                        config/rules.yaml
    │   └── JobDefinitionError                jobs/*.yaml
    ├── AuthError                     exit 1  credentials refused; re-authenticate once, then stop
    ├── ApiError                              a CRM answered with something other than success
    │   ├── RetryableApiError                 429, 5xx, lock contention, network: retry with backoff
    │   ├── QuotaExhaustedError       exit 4  daily quota spent: stop cleanly, keep state, resume
    │   └── FatalApiError             exit 1  a request the CRM will never accept (400s, bad field)
    ├── RecordRejectedError           exit 3  one record refused: skip, dead-letter, continue
    ├── StateError                    exit 1  the state store is unusable or inconsistent
    │   └── RunLockedError            exit 1  another run holds the lock for this connection pair
    ├── StageTransitionError          exit 1  a funnel move the stage machine refuses
    └── StopRequested                 exit 0  SIGTERM/SIGINT: record what went out, mark the run
                                              interrupted, stop; the next run resumes

``str(error)`` is short and meant for users: system, object, record id, status. It never holds
a response body, a token or personal data; payloads go to debug logs through the redacting
logger only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from pathlib import Path

__all__ = [
    "ApiError",
    "AuthError",
    "ConfigError",
    "CrmsyncError",
    "DefinitionError",
    "ExitCode",
    "FatalApiError",
    "JobDefinitionError",
    "MappingError",
    "Problem",
    "QuotaExhaustedError",
    "RecordRejectedError",
    "RetryableApiError",
    "RulesError",
    "RunLockedError",
    "StageTransitionError",
    "StateError",
    "StopRequested",
    "System",
]


class ExitCode(IntEnum):
    """The CLI's documented exit codes (README, "Exit codes")."""

    OK = 0
    FAILED = 1
    INVALID_DEFINITION = 2
    FINISHED_WITH_REJECTIONS = 3
    STOPPED_ON_QUOTA = 4


class System(StrEnum):
    """The CRMs crmsync connects."""

    SALESFORCE = "salesforce"
    HUBSPOT = "hubspot"


@dataclass(frozen=True, slots=True)
class Problem:
    """One precise thing wrong with an input the user or admin controls.

    ``where`` names the source: a file path, an environment variable, or a setting key.
    ``field`` is the dotted setting, mapping or rule the problem is about.
    """

    where: str
    message: str
    field: str = ""
    line: int | None = None
    column: int | None = None
    hint: str = ""

    def location(self) -> str:
        parts = [self.where]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = self.location()
        if self.field:
            text += f": {self.field}"
        text += f": {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class CrmsyncError(Exception):
    """Root of every error crmsync raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILED


class _ProblemsError(CrmsyncError):
    """An error that lists every problem found, so users fix all of them in one pass."""

    title = "invalid input"

    def __init__(self, problems: Iterable[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(where="", message=problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.title}: {count} {noun}"]
        lines.extend(f"  - {problem}" for problem in self.problems)
        return "\n".join(lines)


class ConfigError(_ProblemsError):
    """Settings are missing or invalid; the user fixes env, .env or crmsync.toml."""

    exit_code = ExitCode.INVALID_DEFINITION
    title = "configuration error"


class DefinitionError(_ProblemsError):
    """An admin-edited YAML file (mapping, rules, job) is invalid."""

    exit_code = ExitCode.INVALID_DEFINITION
    title = "definition error"


class MappingError(DefinitionError):
    title = "mapping error"


class RulesError(DefinitionError):
    title = "rules error"


class JobDefinitionError(DefinitionError):
    title = "job definition error"


class ApiError(CrmsyncError):
    """A CRM answered with something other than success.

    Carries the facts a user needs (system, status, error code, object, record id) and never the
    response body.
    """

    def __init__(
        self,
        system: System,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        object_type: str = "",
        record_id: str = "",
    ) -> None:
        self.system = system
        self.status = status
        self.code = code
        self.object_type = object_type
        self.record_id = record_id
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        subject = self.system.value
        if self.object_type:
            subject += f" {self.object_type}"
        if self.record_id:
            subject += f" {self.record_id}"
        details = [str(self.status)] if self.status is not None else []
        if self.code:
            details.append(self.code)
        suffix = f" [{' '.join(details)}]" if details else ""
        return f"{subject}: {self.message}{suffix}"


class AuthError(ApiError):
    """Credentials were refused (after one re-authentication attempt)."""


class RetryableApiError(ApiError):
    """A transient failure: rate limit, server error, lock contention or the network.

    ``retry_after`` is the wait, in seconds, the server asked for (``Retry-After`` or a
    documented rate-limit window), when it said.
    """

    def __init__(
        self,
        system: System,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        code: str = "",
        object_type: str = "",
        record_id: str = "",
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            system, message, status=status, code=code, object_type=object_type, record_id=record_id
        )


class QuotaExhaustedError(ApiError):
    """The daily API quota (or the run's configured share of it) is spent.

    The run stops cleanly and keeps its state; the next run resumes. Never retried.
    """

    exit_code = ExitCode.STOPPED_ON_QUOTA


class FatalApiError(ApiError):
    """A request the CRM will never accept as sent (a 400, an unknown field, a bad query)."""


class RecordRejectedError(ApiError):
    """The CRM refused one record; it is reported and dead-lettered, the run continues."""

    exit_code = ExitCode.FINISHED_WITH_REJECTIONS

    def __init__(
        self,
        system: System,
        message: str,
        *,
        object_type: str,
        record_id: str,
        code: str = "",
        status: int | None = None,
        fields: Sequence[str] = (),
    ) -> None:
        self.fields = tuple(fields)
        super().__init__(
            system, message, status=status, code=code, object_type=object_type, record_id=record_id
        )


class StateError(CrmsyncError):
    """The state store is unreachable, corrupt, or at an unexpected schema version."""


class RunLockedError(StateError):
    """Another run holds the lock for this connection pair."""

    def __init__(self, pair: str, holder: str, expires_at: str) -> None:
        self.pair = pair
        self.holder = holder
        self.expires_at = expires_at
        super().__init__(
            f"another run ({holder}) holds the lock for {pair} until {expires_at}; "
            "wait for it to finish, or let the lease expire if that process is gone"
        )


class StageTransitionError(CrmsyncError):
    """The funnel's stage machine refuses a move."""


class StopRequested(CrmsyncError):
    """A stop was asked for (SIGTERM, SIGINT): raised at the next call, wait or checkpoint.

    Like a quota stop it ends a write part-way and carries what went out (see
    ``connector.crm._partial``), so that it is recorded; the run is recorded as interrupted
    and the next run resumes. Never retried.
    """

    exit_code = ExitCode.OK

    def __init__(self, message: str = "stopped on request") -> None:
        super().__init__(message)


def display_path(path: Path | str) -> str:
    """A path as users should see it in messages: relative to the working directory if below it."""
    candidate = Path(path)
    try:
        return str(candidate.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(candidate)
