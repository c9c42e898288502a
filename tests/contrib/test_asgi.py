"""The ASGI middleware with Starlette's and FastAPI's own test clients."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from penstock import configure, current_flow_id, entrypoint, get_flow_context, step
from penstock.contrib.asgi import FlowMiddleware
from tests.backends.test_otel import Traced, trace_id_of
from tests.contrib._web_checks import HEX32, HOSTILE, VALID

HEADER = "X-Correlation-ID"
lifespan_seen: list[str | None] = []


@step("asgi_orders")
def lookup(order_id: str) -> str:
    return f"{order_id}:{current_flow_id()}"


async def home(request: Request) -> JSONResponse:
    await asyncio.sleep(0)
    ctx = get_flow_context()
    return JSONResponse(
        {"cid": current_flow_id(), "flow": ctx.flow_name if ctx else None, "step": lookup("C3")}
    )


async def fail(request: Request) -> PlainTextResponse:
    msg = "the endpoint failed"
    raise RuntimeError(msg)


async def socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json({"cid": current_flow_id()})
    await websocket.close()


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    lifespan_seen.append(current_flow_id())
    yield


def starlette_app(**options: Any) -> Starlette:
    app = Starlette(
        routes=[Route("/", home), Route("/fail", fail), WebSocketRoute("/ws", socket)],
        lifespan=lifespan,
    )
    app.add_middleware(FlowMiddleware, **options)
    return app


fastapi_app = FastAPI()


@entrypoint("asgi_stream")
async def produce_rows() -> AsyncIterator[str]:
    for index in range(3):
        await asyncio.sleep(0)
        yield f"{index}:{current_flow_id()}\n"


@fastapi_app.get("/items/{item_id}")
async def read_item(item_id: int) -> dict[str, Any]:
    return {"cid": current_flow_id(), "step": lookup(str(item_id))}


@fastapi_app.get("/stream")
async def stream() -> StreamingResponse:
    return StreamingResponse(produce_rows(), media_type="text/plain")


fastapi_app.add_middleware(FlowMiddleware)


def test_starlette_request_runs_in_a_flow() -> None:
    with TestClient(starlette_app()) as client:
        response = client.get("/")
    cid = response.headers[HEADER]
    assert HEX32.match(cid)
    assert response.json() == {"cid": cid, "flow": "http.request", "step": f"C3:{cid}"}
    assert current_flow_id() is None


def test_lifespan_and_websocket_pass_through_untouched() -> None:
    lifespan_seen.clear()
    with TestClient(starlette_app()) as client, client.websocket_connect("/ws") as ws:
        assert ws.receive_json() == {"cid": None}
    assert lifespan_seen == [None]


def test_incoming_ids_continued_or_replaced() -> None:
    client = TestClient(starlette_app())
    assert client.get("/", headers={HEADER: VALID}).headers[HEADER] == VALID
    uuid = "0af76519-16cd-43dd-8448-eb211c80319c"
    assert client.get("/", headers={HEADER: uuid}).headers[HEADER] == VALID


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_values_never_reach_the_response(hostile: str) -> None:
    """Sent as raw ASGI headers, so even bytes a client would refuse arrive."""
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "headers": [(b"x-correlation-id", hostile.encode("utf-8"))],
            "client": ("127.0.0.1", 1),
            "server": ("test", 80),
            "scheme": "http",
            "root_path": "",
        }
        await FlowMiddleware(starlette_app())(scope, receive, send)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    values = [value for name, value in start["headers"] if name == b"x-correlation-id"]
    assert len(values) == 1
    assert HEX32.match(values[0].decode())
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert hostile.encode("utf-8") not in body


def test_custom_header_and_flow_name() -> None:
    client = TestClient(starlette_app(header="X-Request-ID", flow_name="web"))
    response = client.get("/", headers={"X-Request-ID": VALID})
    assert response.headers["X-Request-ID"] == VALID
    assert HEADER not in response.headers
    assert response.json()["flow"] == "web"


def test_context_restored_after_an_exception() -> None:
    client = TestClient(starlette_app(), raise_server_exceptions=False)
    assert client.get("/fail").status_code == 500
    assert get_flow_context() is None


def test_fastapi_endpoint_and_streamed_response() -> None:
    client = TestClient(fastapi_app)
    response = client.get("/items/7")
    cid = response.headers[HEADER]
    assert response.json() == {"cid": cid, "step": f"7:{cid}"}
    streamed = client.get("/stream")
    cid = streamed.headers[HEADER]
    assert streamed.text.splitlines() == [f"{index}:{cid}" for index in range(3)]


def test_under_opentelemetry_the_id_is_the_trace_id() -> None:
    traced = Traced()
    configure(traced.backend)
    client = TestClient(starlette_app())
    cid = client.get("/").headers[HEADER]
    spans = traced.by_name()
    server = spans["GET /"]  # named after the matched route
    assert trace_id_of(server) == cid
    assert dict(server.attributes or {})["http.route"] == "/"
    assert spans["lookup"].parent.span_id == server.context.span_id  # type: ignore[union-attr]
    incoming = f"00-{VALID}-00f067aa0ba902b7-01"
    response = client.get("/", headers={"traceparent": incoming})
    assert response.headers[HEADER] == VALID
