"""Prometheus metrics for ``crmsync schedule --metrics-port N``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from connector.sync.report import RunReport

__all__ = ["Metrics"]


class Metrics:
    """Runs by job and outcome, records pulled/written/rejected, API calls, last success."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.runs = Counter(
            "crmsync_runs", "Runs by job and outcome", ["job", "outcome"], registry=r
        )
        self.pulled = Counter("crmsync_records_pulled", "Records pulled", ["job"], registry=r)
        self.written = Counter(
            "crmsync_records_written", "Records written", ["job", "target"], registry=r
        )
        self.rejected = Counter("crmsync_records_rejected", "Records rejected", ["job"], registry=r)
        self.calls = Counter(
            "crmsync_api_calls", "API calls by system", ["job", "system"], registry=r
        )
        self.last_success = Gauge(
            "crmsync_last_success_timestamp_seconds",
            "When a job last succeeded",
            ["job"],
            registry=r,
        )
        self.partial = Counter(
            "crmsync_records_written_partially",
            "Records a stopped run changed part-way (written whole by the next run)",
            ["job", "target"],
            registry=r,
        )
        self.held = Counter(
            "crmsync_values_held_back",
            "Planned values held back because the CRM would refuse them",
            ["job", "reason"],
            registry=r,
        )
        self.gone = Counter(
            "crmsync_records_gone",
            "CRM records found deleted, archived, merged away or missing",
            ["job", "how"],
            registry=r,
        )
        self.identity_seen = Counter(
            "crmsync_identity_issues_seen",
            "Identity issues seen by runs",
            ["job", "kind"],
            registry=r,
        )
        self.identity_open = Gauge(
            "crmsync_identity_issues_open", "Identity issues waiting for a resolution", registry=r
        )
        self.dead_letters = Gauge("crmsync_dead_letters", "Dead letters waiting", registry=r)
        self.drift = Gauge(
            "crmsync_stage_drift", "People whose stage differs across CRMs", registry=r
        )

    def serve(self, port: int) -> None:
        start_http_server(port, addr="127.0.0.1", registry=self.registry)

    def observe(self, job: str, report: RunReport) -> None:
        outcome = report.outcome.value if report.outcome else "unknown"
        self.runs.labels(job, outcome).inc()
        self.pulled.labels(job).inc(sum(report.pulled.values()))
        # Writes a killed earlier run made, confirmed by this one, are counted now: the sum
        # over time equals what the CRMs received.
        for target, count in (report.written + report.confirmed).items():
            self.written.labels(job, target).inc(count)
        for target, count in report.partial.items():
            self.partial.labels(job, target).inc(count)
        self.rejected.labels(job).inc(report.rejected_total)
        for reason, count in report.held.items():
            self.held.labels(job, reason).inc(count)
        for how, count in (report.gone + report.missing).items():
            self.gone.labels(job, how).inc(count)
        for kind, count in report.identity_counts.items():
            self.identity_seen.labels(job, kind).inc(count)
        self.identity_open.set(report.identity_open)
        for system, calls in report.api_calls.items():
            self.calls.labels(job, system.value).inc(calls)
        if outcome in ("succeeded", "finished_with_rejections") and report.ended_at is not None:
            self.last_success.labels(job).set(report.ended_at.timestamp())

    def failed(self, job: str) -> None:
        self.runs.labels(job, "failed").inc()
