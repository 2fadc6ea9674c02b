"""Job definitions: one scheduled job per YAML file in ``jobs/``.

A job names what to run (``sync``, ``reconcile``, ``rescore``, ``backfill``), when (a cron
expression in a time zone), with which options, what to do about runs missed while no scheduler
was running, and where to send an alert when it fails. Files are strict data: unknown keys are
errors with "did you mean ...?", and every problem in every file is reported at once.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator, model_validator

from connector.errors import JobDefinitionError, Problem
from connector.jobs.cron import CronError, CronSchedule
from connector.yamlfile import load_yaml, validate_document

__all__ = [
    "Action",
    "Alert",
    "AlertOn",
    "JobDefinition",
    "JobOptions",
    "MissedRuns",
    "Schedule",
    "load_jobs",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)
SUPPORTED_VERSIONS = ("1",)


class Action(StrEnum):
    SYNC = "sync"  # incremental: pull changes, evaluate, write
    RECONCILE = "reconcile"  # compare every linked person across both CRMs; report (or fix) drift
    RESCORE = "rescore"  # re-evaluate rules for everyone, so decay applies without new activity
    BACKFILL = "backfill"  # full read from the beginning, ignoring watermarks


class MissedRuns(StrEnum):
    """What a scheduler that was down does about fire times it missed."""

    RUN_ONCE = "run_once"  # run once at start-up, however many were missed (the default)
    SKIP = "skip"  # wait for the next fire time


class AlertOn(StrEnum):
    FAILURE = "failure"  # exit 1
    REJECTIONS = "rejections"  # finished, but records were rejected (exit 3)
    QUOTA = "quota"  # stopped early on the API quota (exit 4)


class Schedule(BaseModel):
    model_config = _STRICT
    cron: str = Field(min_length=1, description="Five-field cron expression or @daily etc.")
    timezone: str = "UTC"

    # Checked field by field so each error points at its own line.
    @field_validator("cron")
    @classmethod
    def _cron_parses(cls, value: str) -> str:
        try:
            CronSchedule.parse(value).next_after(datetime(2026, 1, 1, tzinfo=UTC))
        except CronError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            CronSchedule.parse("@daily", value)
        except CronError as exc:
            raise ValueError(str(exc)) from None
        return value

    def compiled(self) -> CronSchedule:
        return CronSchedule.parse(self.cron, self.timezone)


class JobOptions(BaseModel):
    model_config = _STRICT
    dry_run: bool = False
    objects: tuple[str, ...] = Field(
        default=(),
        description="Limit to these objects (Lead, Contact, contacts); empty means all.",
    )
    api_budget_share: float | None = Field(
        default=None, gt=0, le=1, description="Override the run's share of the daily API quota."
    )
    apply: bool = Field(default=False, description="reconcile only: fix the drift it finds.")

    @field_validator("objects")
    @classmethod
    def _known_objects(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = {"Lead", "Contact", "contacts"}
        unknown = [item for item in value if item not in known]
        if unknown:
            raise ValueError(
                f"unknown object {unknown[0]!r}; choose from Lead, Contact (Salesforce), "
                "contacts (HubSpot)"
            )
        return value


class Alert(BaseModel):
    """A JSON POST (Slack-compatible ``{"text": ...}``) sent when a run ends badly."""

    model_config = _STRICT
    webhook_url: AnyHttpUrl
    on: tuple[AlertOn, ...] = (AlertOn.FAILURE, AlertOn.QUOTA)


class JobDefinition(BaseModel):
    model_config = _STRICT
    version: str
    name: str = Field(min_length=1, max_length=64)
    description: str = ""
    schedule: Schedule
    action: Action
    options: JobOptions = JobOptions()
    missed_runs: MissedRuns = MissedRuns.RUN_ONCE
    alert: Alert | None = None
    enabled: bool = True

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> str:
        text = str(value)
        if text not in SUPPORTED_VERSIONS:
            raise ValueError(
                f"unsupported version {text!r}; this crmsync reads version "
                + " or ".join(SUPPORTED_VERSIONS)
            )
        return text

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value):
            raise ValueError("use lowercase letters, digits, '-' and '_' (e.g. 'hourly-sync')")
        return value

    @model_validator(mode="after")
    def _apply_only_for_reconcile(self) -> Self:
        if self.options.apply and self.action is not Action.RECONCILE:
            raise ValueError("options.apply only applies to action 'reconcile'")
        return self


def load_jobs(directory: Path) -> tuple[JobDefinition, ...]:
    """Load every ``*.yaml``/``*.yml`` file in ``directory``; report all problems at once."""
    problems: list[Problem] = []
    jobs: list[JobDefinition] = []
    seen: dict[str, Path] = {}
    paths = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    for path in paths:
        try:
            document = load_yaml(path, JobDefinitionError)
            job = validate_document(document, JobDefinition, JobDefinitionError)
        except JobDefinitionError as error:
            problems.extend(error.problems)
            continue
        if job.name in seen:
            line, column = document.position(("name",))
            problems.append(
                Problem(
                    where=document.name,
                    line=line,
                    column=column,
                    field="name",
                    message=f"job name {job.name!r} is already used by {seen[job.name].name}",
                    hint="give each job a unique name",
                )
            )
            continue
        seen[job.name] = path
        jobs.append(job)
    if problems:
        raise JobDefinitionError(problems)
    return tuple(jobs)
