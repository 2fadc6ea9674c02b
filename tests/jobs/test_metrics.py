from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from prometheus_client import generate_latest

from connector.errors import System
from connector.jobs.metrics import Metrics
from connector.state.models import RunOutcome
from connector.sync.report import RunReport


def test_metrics_count_runs_records_and_calls() -> None:
    metrics = Metrics()
    report = RunReport(job="sync", run_id="r1", started_at=datetime(2026, 1, 1, tzinfo=UTC))
    report.pulled = Counter({"salesforce.Lead": 7, "hubspot.contacts": 5})
    report.written = Counter({"hubspot.update": 3})
    report.rejected = Counter({"salesforce.update": 1})
    report.finish(datetime(2026, 1, 1, 0, 1, tzinfo=UTC), RunOutcome.FINISHED_WITH_REJECTIONS, {
        System.SALESFORCE: 4, System.HUBSPOT: 9
    })  # fmt: skip
    metrics.observe("sync", report)
    metrics.failed("sync")
    text = generate_latest(metrics.registry).decode()
    assert 'crmsync_runs_total{job="sync",outcome="finished_with_rejections"} 1.0' in text
    assert 'crmsync_runs_total{job="sync",outcome="failed"} 1.0' in text
    assert 'crmsync_records_pulled_total{job="sync"} 12.0' in text
    assert 'crmsync_records_written_total{job="sync",target="hubspot.update"} 3.0' in text
    assert 'crmsync_records_rejected_total{job="sync"} 1.0' in text
    assert 'crmsync_api_calls_total{job="sync",system="hubspot"} 9.0' in text
    assert 'crmsync_last_success_timestamp_seconds{job="sync"} 1.76' in text


def test_metrics_count_every_write_the_crms_received_and_what_waits() -> None:
    metrics = Metrics()
    report = RunReport(job="sync", run_id="r2", started_at=datetime(2026, 1, 1, tzinfo=UTC))
    report.written = Counter({"salesforce.update": 2})
    report.confirmed = Counter({"salesforce.update": 5})  # a killed run's, confirmed now
    report.partial = Counter({"hubspot.update": 1})
    report.held = Counter({"salesforce.INVALID_PICKLIST_VALUE": 4})
    report.gone = Counter({"salesforce.deleted": 2})
    report.identity_counts = Counter({"ambiguous_email": 3})
    report.identity_open = 11
    report.finish(datetime(2026, 1, 1, 0, 1, tzinfo=UTC), RunOutcome.SUCCEEDED, {})
    metrics.observe("sync", report)
    text = generate_latest(metrics.registry).decode()
    assert 'crmsync_records_written_total{job="sync",target="salesforce.update"} 7.0' in text
    assert 'crmsync_records_written_partially_total{job="sync",target="hubspot.update"} 1.0' in text
    assert (
        'crmsync_values_held_back_total{job="sync",reason="salesforce.INVALID_PICKLIST_VALUE"} 4.0'
        in text
    )
    assert 'crmsync_records_gone_total{how="salesforce.deleted",job="sync"} 2.0' in text
    assert 'crmsync_identity_issues_seen_total{job="sync",kind="ambiguous_email"} 3.0' in text
    assert "crmsync_identity_issues_open 11.0" in text
