"""The app skeleton: health, readiness, metrics, the one error shape, scheduled jobs."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from tenure.app import create_app
from tenure.db import make_engine, make_sessionmaker
from tenure.jobs import Job, Scheduler, default_jobs
from tenure.kit.runtime import Runtime
from tenure.scoring.models import ScoreSnapshot


def test_health_ready_metrics_and_error_shape(runtime: Runtime) -> None:
    with TestClient(create_app(runtime)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {"status": "ready"}
        missing = client.get("/no/such/page")
        assert missing.status_code == 404
        assert missing.json() == {
            "error": {"code": "not_found", "message": "Not Found", "details": []}
        }
        assert missing.headers["x-request-id"]
        metrics = client.get("/metrics").text
        assert (
            'tenure_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in metrics
        )


def test_readyz_reports_a_dead_database(runtime: Runtime) -> None:
    dead = make_engine("postgresql://postgres@127.0.0.1:9/none")  # nothing listens on port 9
    broken = Runtime(settings=runtime.settings, engine=dead, sessions=make_sessionmaker(dead))
    with TestClient(create_app(broken)) as client:
        assert client.get("/healthz").status_code == 200
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_scheduler_runs_due_jobs_and_survives_failures(runtime: Runtime) -> None:
    calls: list[str] = []

    def boom(_: Runtime) -> None:
        raise RuntimeError("disk full")

    scheduler = Scheduler(
        runtime, [Job("ok", 60, lambda _: calls.append("ok")), Job("bad", 60, boom)]
    )
    assert scheduler.run_due(now=0) == ["ok", "bad"]
    assert scheduler.run_due(now=30) == []
    assert scheduler.run_due(now=61) == ["ok", "bad"]
    assert calls == ["ok", "ok"]
    bad = scheduler.jobs[1]
    assert (bad.runs, bad.failures, bad.last_error) == (2, 2, "RuntimeError: disk full")


def test_default_score_job_scores_today(runtime: Runtime) -> None:
    only_scoring = default_jobs(
        score_every=300, flush_every=0, engage_every=0, dispatch_every=0, remind_every=0
    )
    scheduler = Scheduler(runtime, only_scoring)
    assert scheduler.run_due(now=0) == ["score"]
    assert scheduler.jobs[0].last_error is None
    with runtime.sessions() as s:
        assert s.query(ScoreSnapshot).filter_by(as_of=dt.date.today()).count() == 0  # no accounts
    assert [j.name for j in default_jobs(score_every=300)] == [
        "tracking-flush", "score", "engagement", "dispatch", "survey-reminders",
    ]  # fmt: skip


def test_nul_characters_are_refused_on_pages_and_api(runtime: Runtime) -> None:
    with TestClient(create_app(runtime)) as client:
        for url in ("/accounts?search=a%00b", "/api/v1/accounts?search=a%00b"):
            response = client.get(url, follow_redirects=False)
            assert response.status_code == 422, url
            assert response.json()["error"]["details"][0]["field"] == "search"


def test_runtime_rereads_the_config_when_the_file_changes(runtime: Runtime) -> None:
    assert runtime.config.value.current_weight == 0.6
    path = runtime.settings.config_path
    text = path.read_text().replace("current_weight = 0.6", "current_weight = 0.5")
    path.write_text(text.replace("potential_weight = 0.4", "potential_weight = 0.5"))
    assert runtime.config.value.current_weight == 0.5
