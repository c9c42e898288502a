"""Carrying a flow across processes, with both backends, and refusing bad incoming values."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import trace

from penstock import configure, current_flow_id, entrypoint
from penstock.propagation import (
    CORRELATION_HEADER,
    IncomingFlow,
    continue_flow,
    extract,
    inject,
    parse_correlation_id,
)
from tests.backends.test_otel import Traced, trace_id_of

ROOT = Path(__file__).resolve().parent.parent
VALID = "0af7651916cd43dd8448eb211c80319c"


@entrypoint("prop_sender")
def send() -> tuple[str | None, dict[str, str]]:
    return current_flow_id(), inject({})


@entrypoint("prop_receiver")
def receive() -> str | None:
    return current_flow_id()


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (VALID, VALID),
        (VALID.upper(), VALID),
        (f"  {VALID}\t", VALID),
        ("0af76519-16cd-43dd-8448-eb211c80319c", VALID),
        (VALID.encode(), VALID),
        ("0" * 32, None),
        ("00000000-0000-0000-0000-000000000000", None),
        (VALID[:-1], None),
        (VALID + "0", None),
        ("g" * 32, None),
        ("0af76519-16cd-43dd-8448eb211c80319c", None),
        (VALID[:16] + "\r\n" + VALID[16:], None),
        ("\u0660" * 32, None),  # Arabic-Indic zeros: digits, but not hex
        ("\uff41" * 32, None),  # full-width letters
        ("x" * 10_000, None),
        (b"\xff" * 32, None),
        ("", None),
        (None, None),
        (123, None),
    ],
)
def test_parse_correlation_id(raw: object, expected: str | None) -> None:
    assert parse_correlation_id(raw) == expected


@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_any_input_is_a_valid_id_or_nothing(raw: str | bytes) -> None:
    parsed = parse_correlation_id(raw)
    if parsed is not None:
        assert len(parsed) == 32
        assert set(parsed) <= set("0123456789abcdef")
        assert int(parsed, 16) != 0


# -- logging backend ----------------------------------------------------------------------------


def test_inject_outside_a_flow_writes_nothing() -> None:
    assert inject({}) == {}
    assert inject([]) == []


def test_round_trip_with_the_logging_backend() -> None:
    cid, headers = send()
    assert headers == {CORRELATION_HEADER: cid}
    with continue_flow(headers) as incoming:
        assert incoming.correlation_id == cid
        assert receive() == cid
        assert receive() == cid, "every entrypoint in the block continues it"
    assert current_flow_id() is None
    assert receive() != cid, "outside the block flows start fresh again"


def test_kafka_style_headers_round_trip() -> None:
    @entrypoint("prop_kafka")
    def produce() -> tuple[str | None, list[tuple[str, bytes]]]:
        headers: list[tuple[str, bytes]] = [("content-type", b"application/json")]
        return current_flow_id(), inject(headers)

    cid, headers = produce()
    assert headers == [("content-type", b"application/json"), (CORRELATION_HEADER, cid.encode())]  # type: ignore[union-attr]
    with continue_flow(headers):
        assert receive() == cid


def test_header_names_match_in_any_case_and_name_is_configurable() -> None:
    with continue_flow({"x-correlation-id": VALID}):
        assert receive() == VALID
    with continue_flow([(b"X-Request-ID", VALID.encode())], header="X-Request-ID"):
        assert receive() == VALID

    @entrypoint("prop_custom_header")
    def send_custom() -> dict[str, str]:
        return inject({}, header="X-Request-ID")

    assert list(send_custom()) == ["X-Request-ID"]


@pytest.mark.parametrize(
    "bad",
    ["0" * 32, "<script>alert(1)</script>", "a" * 5000, "abc\r\nSet-Cookie: x=1", "ä" * 32],
)
def test_invalid_incoming_ids_are_replaced_and_never_logged(
    bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with continue_flow({CORRELATION_HEADER: bad}) as incoming:
        assert incoming.correlation_id is None
        cid = receive()
    assert cid is not None
    assert cid != bad
    assert len(cid) == 32
    assert all(bad not in record.getMessage() for record in caplog.records)
    assert all(bad not in str(record.__dict__) for record in caplog.records)


def test_traceparent_alone_gives_the_logging_backend_its_trace_id() -> None:
    headers = {"traceparent": f"00-{VALID}-00f067aa0ba902b7-01"}
    assert extract(headers).correlation_id == VALID
    with continue_flow(headers):
        assert receive() == VALID
    assert extract({"traceparent": f"00-{'0' * 32}-00f067aa0ba902b7-01"}).correlation_id is None
    assert extract({"traceparent": "garbage"}).correlation_id is None


def test_undecodable_values_are_dropped() -> None:
    incoming = extract([("X-Correlation-ID", b"\xff\xfe"), ("other", b"ok")])
    assert incoming == IncomingFlow(correlation_id=None, headers={"other": "ok"})


def test_inject_rejects_a_read_only_carrier() -> None:
    with pytest.raises(TypeError, match="writes into a mutable mapping"):
        inject(("a", "b"))


def test_nested_entrypoints_ignore_the_incoming_id() -> None:
    @entrypoint("prop_outer")
    def outer() -> tuple[str | None, str | None]:
        with continue_flow({CORRELATION_HEADER: VALID}):
            return current_flow_id(), receive()

    mine, nested = outer()
    assert mine == nested, "a running flow is continued, not replaced"
    assert mine != VALID


# -- OpenTelemetry backend ----------------------------------------------------------------------


def test_otel_round_trip_joins_the_callers_trace() -> None:
    sender = Traced()
    configure(sender.backend)
    cid, headers = send()
    assert headers[CORRELATION_HEADER] == cid
    assert headers["traceparent"].split("-")[1] == cid
    (send_span,) = sender.spans

    receiver = Traced()  # another service, with its own provider
    configure(receiver.backend)
    with continue_flow(headers):
        assert receive() == cid
    (receive_span,) = receiver.spans
    assert trace_id_of(receive_span) == cid
    assert receive_span.parent is not None
    assert receive_span.parent.span_id == send_span.context.span_id  # type: ignore[union-attr]
    assert receive_span.parent.is_remote


def test_otel_continues_a_bare_correlation_id_as_the_trace_id() -> None:
    receiver = Traced()
    configure(receiver.backend)
    with continue_flow({CORRELATION_HEADER: VALID}):
        assert receive() == VALID
    (span,) = receiver.spans
    assert trace_id_of(span) == VALID
    assert span.parent is not None
    assert span.parent.is_remote


def test_otel_invalid_traceparent_starts_a_fresh_trace() -> None:
    receiver = Traced()
    configure(receiver.backend)
    with continue_flow({"traceparent": "00-zzzz-00f067aa0ba902b7-01", CORRELATION_HEADER: "bad"}):
        cid = receive()
    (span,) = receiver.spans
    assert span.parent is None
    assert trace_id_of(span) == cid
    assert not trace.get_current_span().get_span_context().is_valid


def test_otel_block_restores_the_previous_context() -> None:
    receiver = Traced()
    configure(receiver.backend)
    with continue_flow({CORRELATION_HEADER: VALID}):
        assert trace.get_current_span().get_span_context().trace_id == int(VALID, 16)
    assert not trace.get_current_span().get_span_context().is_valid


def test_continue_flow_resolves_an_automatic_otel_backend_first() -> None:
    """Before any step ran, continue_flow must already know OpenTelemetry is in use."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                from opentelemetry import trace
                from opentelemetry.sdk.trace import TracerProvider
                trace.set_tracer_provider(TracerProvider())
                from penstock import current_flow_id, entrypoint
                from penstock.propagation import continue_flow

                @entrypoint("auto_receiver")
                def receive():
                    return current_flow_id()

                with continue_flow({{"X-Correlation-ID": "{VALID}"}}):
                    print(receive())
                """
            ),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.stdout.strip() == VALID


def test_inject_replaces_values_written_before() -> None:
    @entrypoint("prop_retry")
    def send_again() -> tuple[dict[str, str], list[tuple[str, bytes]]]:
        mapping = {"x-correlation-id": "stale", "Other": "kept"}
        pairs = [("X-CORRELATION-ID", b"stale"), ("other", b"kept")]
        return inject(mapping), inject(pairs)

    mapping, pairs = send_again()
    assert list(mapping) == ["Other", CORRELATION_HEADER]
    assert [name for name, _ in pairs] == ["other", CORRELATION_HEADER]


def test_none_headers_mean_none_and_strings_are_refused() -> None:
    with continue_flow(None) as incoming:
        assert incoming.correlation_id is None
        assert len(receive()) == 32  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Headers must be a mapping or a list"):
        extract("X-Correlation-ID: abc")  # type: ignore[arg-type]


def test_incoming_headers_stay_out_of_repr() -> None:
    incoming = extract({"Authorization": "Bearer secret", CORRELATION_HEADER: VALID})
    assert "secret" not in repr(incoming)
    assert VALID in repr(incoming)


def test_round_trip_across_a_real_process_boundary(tmp_path: Path) -> None:
    """Headers written here are read by a separate Python process that continues the flow."""
    worker = tmp_path / "worker.py"
    worker.write_text(
        textwrap.dedent(
            """
            import json, sys
            from penstock import current_flow_id, entrypoint
            from penstock.propagation import continue_flow

            @entrypoint("remote_worker")
            def work():
                return current_flow_id()

            headers = json.load(sys.stdin)
            with continue_flow(headers):
                print(work())
            """
        )
    )
    cid, headers = send()
    result = subprocess.run(
        [sys.executable, str(worker)],
        input=json.dumps(headers),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.stdout.strip() == cid
