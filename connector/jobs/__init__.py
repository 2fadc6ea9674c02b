"""Scheduled jobs: definitions in ``jobs/*.yaml``, cron schedules, the scheduler, alerts."""

from connector.jobs.alerts import alert_reason, send_alert
from connector.jobs.cron import CronError, CronSchedule
from connector.jobs.definition import (
    Action,
    Alert,
    AlertOn,
    JobDefinition,
    JobOptions,
    MissedRuns,
    Schedule,
    load_jobs,
)
from connector.jobs.scheduler import JobRun, Scheduler

__all__ = [
    "Action",
    "Alert",
    "AlertOn",
    "CronError",
    "CronSchedule",
    "JobDefinition",
    "JobOptions",
    "JobRun",
    "MissedRuns",
    "Schedule",
    "Scheduler",
    "alert_reason",
    "load_jobs",
    "send_alert",
]
