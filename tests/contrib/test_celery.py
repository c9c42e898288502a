"""Celery signals and flow_task, with a real in-process worker and a real worker process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker

from penstock import configure, current_flow_id, entrypoint, get_flow
from tests.backends.test_otel import Traced
from tests.contrib._web_checks import HEX32, VALID
from tests.contrib.celery_tasks import app, report, write_changelog

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def worker() -> Iterator[None]:
    """A real Celery worker in this process: memory transport, solo pool."""
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


@entrypoint("celery_caller")
def send_report(**options: object) -> tuple[str | None, dict[str, object]]:
    return current_flow_id(), report.apply_async(**options).get(timeout=20, interval=0.01)


def test_task_continues_the_flow_that_sent_it(worker: None) -> None:
    cid, result = send_report()
    assert result == {"cid": cid, "flow": "celery.task"}
    assert current_flow_id() is None


def test_task_sent_outside_any_flow_gets_a_fresh_id(worker: None) -> None:
    first = report.delay().get(timeout=20, interval=0.01)
    second = report.delay().get(timeout=20, interval=0.01)
    assert HEX32.match(first["cid"])
    assert first["cid"] != second["cid"]


def test_a_header_the_sender_set_is_kept(worker: None) -> None:
    cid, result = send_report(headers={"X-Correlation-ID": VALID})
    assert result["cid"] == VALID
    assert cid != VALID


def test_nothing_leaks_from_one_task_to_the_next(worker: None) -> None:
    seen_in: set[str] = set()
    seen_out: set[str] = set()
    for index in range(40):
        if index % 2:
            cid, result = send_report()
            assert result["cid"] == cid
            seen_in.add(str(cid))
        else:
            result = report.delay().get(timeout=20, interval=0.01)
            seen_out.add(str(result["cid"]))
    assert not seen_in & seen_out, "a task outside a flow never inherits an earlier task's ID"
    assert len(seen_out) == 20


def test_eager_mode_keeps_the_callers_id() -> None:
    app.conf.task_always_eager = True
    try:
        cid, result = send_report()
        assert result["cid"] == cid
        outside = report.delay().get()
        assert HEX32.match(outside["cid"])
        assert outside["cid"] != cid
        assert current_flow_id() is None
    finally:
        app.conf.task_always_eager = False


def test_flow_task_is_a_real_task_and_a_step_of_its_flow(worker: None) -> None:
    assert hasattr(write_changelog, "delay")
    steps = get_flow("celery_sync").steps
    assert steps["write_changelog"].after == ("start_sync",)
    assert steps["write_changelog"].qualname.endswith("write_changelog")

    @entrypoint("celery_sync_caller")
    def run() -> tuple[str | None, dict[str, object]]:
        return current_flow_id(), write_changelog.delay("P-1").get(timeout=20, interval=0.01)

    cid, result = run()
    assert result["cid"] == cid
    assert result["flow"] == "celery_sync"


def test_under_opentelemetry_task_spans_are_children_of_the_sender(worker: None) -> None:
    traced = Traced()
    configure(traced.backend)

    @entrypoint("celery_traced")
    def run() -> tuple[str | None, dict[str, object]]:
        return current_flow_id(), write_changelog.delay("P-2").get(timeout=20, interval=0.01)

    cid, result = run()
    spans = traced.by_name()
    sender, task = spans["run"], spans["write_changelog"]
    assert f"{task.context.trace_id:032x}" == cid  # type: ignore[union-attr]
    assert task.parent.span_id == sender.context.span_id  # type: ignore[union-attr]
    assert result["cid"] == cid


# -- across a real process boundary -------------------------------------------------------------

REDIS = ("127.0.0.1", 6379)


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_worker() -> Iterator[subprocess.Popen[str]]:
    """A `celery worker` subprocess on a Redis broker, with OpenTelemetry in both processes."""
    if not _redis_up():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not running on 127.0.0.1:6379; .ci/run starts redis-server")
        pytest.skip("Redis is not running on 127.0.0.1:6379 (apt-get install redis-server)")
    broker = "redis://127.0.0.1:6379/15"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PENSTOCK_TEST_BROKER": broker,
        "PENSTOCK_TEST_BACKEND": broker,
        "PENSTOCK_TEST_OTEL": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.contrib.celery_tasks",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app.conf.broker_url = broker
    app.conf.result_backend = broker
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()
        app.conf.broker_url = "memory://"
        app.conf.result_backend = "cache+memory://"


def test_id_and_trace_parent_cross_a_real_process_boundary(
    redis_worker: subprocess.Popen[str],
) -> None:
    from celery import Celery

    client = Celery("penstock_client", broker=app.conf.broker_url, backend=app.conf.result_backend)
    traced = Traced()
    configure(traced.backend)

    @entrypoint("celery_remote")
    def run() -> tuple[str | None, dict[str, object]]:
        result = client.send_task("tests.contrib.celery_tasks.write_changelog", args=["P-3"])
        return current_flow_id(), result.get(timeout=60)

    deadline = time.monotonic() + 60
    while True:  # the worker takes a moment to start listening
        try:
            cid, result = run()
            break
        except Exception:
            if time.monotonic() > deadline or redis_worker.poll() is not None:
                output = redis_worker.stdout.read() if redis_worker.stdout else ""
                pytest.fail(f"the worker did not answer:\n{output}")
            time.sleep(0.5)
    sender = traced.by_name()["run"]
    assert result["cid"] == cid
    assert result["trace_id"] == cid
    assert result["parent_span_id"] == f"{sender.context.span_id:016x}"  # type: ignore[union-attr]
    outside = client.send_task("penstock_tests.report").get(timeout=60)
    assert HEX32.match(outside["cid"])
    assert outside["cid"] != cid, "a task sent outside any flow sees none"
