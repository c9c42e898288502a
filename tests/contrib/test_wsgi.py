"""The WSGI middleware with Flask's test client, and with a bare WSGI app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, jsonify

from penstock import configure, current_flow_id, get_flow_context, step
from penstock.contrib.wsgi import FlowMiddleware
from tests.backends.test_otel import Traced, trace_id_of
from tests.contrib._web_checks import HEX32, HOSTILE, VALID

HEADER = "X-Correlation-ID"


@step("wsgi_orders")
def lookup(order_id: str) -> str:
    return f"{order_id}:{current_flow_id()}"


def flask_app(**options: Any) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def home() -> Response:
        ctx = get_flow_context()
        return jsonify(
            cid=current_flow_id(), flow=ctx.flow_name if ctx else None, step=lookup("D4")
        )

    @app.get("/fail")
    def fail() -> Response:
        msg = "the view failed"
        raise RuntimeError(msg)

    @app.get("/stream")
    def stream() -> Response:
        def rows() -> Iterator[str]:
            for index in range(3):
                yield f"{index}:{current_flow_id()}\n"

        return Response(rows(), mimetype="text/plain")

    app.wsgi_app = FlowMiddleware(app.wsgi_app, **options)  # type: ignore[method-assign]
    return app


def test_flask_request_runs_in_a_flow() -> None:
    response = flask_app().test_client().get("/")
    cid = response.headers[HEADER]
    assert HEX32.match(cid)
    assert response.get_json() == {"cid": cid, "flow": "http.request", "step": f"D4:{cid}"}
    assert current_flow_id() is None


def test_incoming_ids_continued_or_replaced() -> None:
    client = flask_app().test_client()
    assert client.get("/", headers={HEADER: VALID}).headers[HEADER] == VALID
    assert client.get("/", headers={HEADER: VALID.upper()}).headers[HEADER] == VALID


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_values_never_reach_the_response(hostile: str) -> None:
    """Put straight into the WSGI environ, so even what a client would refuse arrives."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        captured["headers"] = headers

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": "test",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
        "HTTP_X_CORRELATION_ID": hostile,
    }
    body = b"".join(flask_app().wsgi_app(environ, start_response))
    values = [value for name, value in captured["headers"] if name.lower() == HEADER.lower()]
    assert len(values) == 1
    assert HEX32.match(values[0])
    assert hostile.encode("utf-8", "replace") not in body


def test_streamed_body_keeps_the_flow_until_closed() -> None:
    response = flask_app().test_client().get("/stream", buffered=False)
    cid = response.headers[HEADER]
    assert current_flow_id() is None, "nothing stays behind in the server's context"
    assert response.get_data(as_text=True).splitlines() == [f"{i}:{cid}" for i in range(3)]
    response.close()
    assert current_flow_id() is None


def test_context_restored_after_an_exception() -> None:
    app = flask_app()
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(RuntimeError, match="the view failed"):
        app.test_client().get("/fail")
    assert get_flow_context() is None
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.test_client().get("/fail").status_code == 500
    assert get_flow_context() is None


def test_custom_header_and_flow_name() -> None:
    client = flask_app(header="X-Request-ID", flow_name="web").test_client()
    response = client.get("/", headers={"X-Request-ID": VALID})
    assert response.headers["X-Request-ID"] == VALID
    assert response.get_json()["flow"] == "web"


def test_bare_wsgi_app_and_existing_header_replaced() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), (HEADER, "stale")])
        return [str(current_flow_id()).encode()]

    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        seen["headers"] = headers

    body = b"".join(
        FlowMiddleware(app)({"REQUEST_METHOD": "GET", "PATH_INFO": "/"}, start_response)
    )
    values = [value for name, value in seen["headers"] if name == HEADER]
    assert values == [body.decode()]


def test_under_opentelemetry_the_id_is_the_trace_id() -> None:
    traced = Traced()
    configure(traced.backend)
    response = flask_app().test_client().get("/")
    cid = response.headers[HEADER]
    assert traced.spans == [] or "GET" not in traced.by_name(), "open until the body is done"
    response.get_data()
    response.close()
    server = traced.by_name()["GET"]
    assert trace_id_of(server) == cid
    assert dict(server.attributes or {})["http.response.status_code"] == 200
