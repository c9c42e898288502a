"""Django's FlowMiddleware with Django's own test clients, sync and async."""

from __future__ import annotations

import asyncio
import json
import logging

import django
import pytest
from django.conf import settings

if not settings.configured:
    from tests.contrib import django_site

    settings.configure(**django_site.SETTINGS)
    django.setup()

from django.test import AsyncClient, Client

from penstock import configure, current_flow_id, get_flow_context
from tests.backends.test_otel import Traced, trace_id_of
from tests.contrib._web_checks import HEX32, HOSTILE, VALID

HEADER = "X-Correlation-ID"


def test_sync_view_runs_in_a_flow_and_the_response_names_it() -> None:
    response = Client().get("/sync/")
    assert response.status_code == 200
    body = json.loads(response.content)
    cid = response[HEADER]
    assert HEX32.match(cid)
    assert body["cid"] == cid
    assert body["flow"] == "http.request"
    assert body["step"] == f"A1:{cid}", "steps called from the view join the request's flow"
    assert body["nested"] == cid, "an entrypoint in the view continues the request's ID"
    assert current_flow_id() is None
    assert Client().get("/sync/")[HEADER] != cid, "every request gets its own ID"


def test_async_view_with_the_async_client() -> None:
    async def run() -> tuple[str, dict[str, str]]:
        response = await AsyncClient().get("/async/")
        return response[HEADER], json.loads(response.content)

    cid, body = asyncio.run(run())
    assert body == {"cid": cid, "step": f"B2:{cid}"}


def test_a_valid_incoming_id_is_continued_and_a_uuid_normalised() -> None:
    response = Client().get("/sync/", headers={HEADER: VALID})
    assert response[HEADER] == VALID
    assert json.loads(response.content)["cid"] == VALID
    dashed = "0AF76519-16CD-43DD-8448-EB211C80319C"
    assert Client().get("/sync/", headers={HEADER: dashed})[HEADER] == VALID


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_incoming_values_are_replaced_never_echoed_or_logged(
    hostile: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = Client().get("/sync/", HTTP_X_CORRELATION_ID=hostile)
    cid = response[HEADER]
    assert HEX32.match(cid)
    assert cid != hostile
    assert hostile not in response.content.decode()
    assert all(hostile not in str(value) for value in response.headers.values())
    assert all(hostile not in record.getMessage() for record in caplog.records)


def test_header_name_is_configurable() -> None:
    from django.test import override_settings

    with override_settings(PENSTOCK_CORRELATION_HEADER="X-Request-ID"):
        response = Client().get("/sync/", headers={"X-Request-ID": VALID})
    assert response["X-Request-ID"] == VALID
    assert HEADER not in response


def test_context_is_restored_after_an_exception_in_the_view() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/fail/")
    assert response.status_code == 500
    assert HEX32.match(response[HEADER])
    assert get_flow_context() is None
    with pytest.raises(RuntimeError, match="the view failed"):
        Client().get("/fail/")
    assert get_flow_context() is None


def test_streamed_response_keeps_the_flow_until_it_finishes() -> None:
    response = Client().get("/stream/")
    cid = response[HEADER]
    assert current_flow_id() is None, "nothing is left behind while the body waits"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines == [f"{index}:{cid}" for index in range(3)]
    assert current_flow_id() is None


def test_async_streamed_response_keeps_the_flow() -> None:
    async def run() -> tuple[str, list[str]]:
        response = await AsyncClient().get("/astream/")
        chunks = [chunk async for chunk in response.streaming_content]
        return response[HEADER], b"".join(chunks).decode().splitlines()

    cid, lines = asyncio.run(run())
    assert lines == [f"{index}:{cid}" for index in range(3)]


def test_under_opentelemetry_the_id_is_the_server_span_trace_id() -> None:
    traced = Traced()
    configure(traced.backend)
    response = Client().get("/sync/")
    cid = response[HEADER]
    spans = traced.by_name()
    server = spans["GET sync/"]
    assert trace_id_of(server) == cid
    assert dict(server.attributes or {})["http.response.status_code"] == 200
    assert spans["lookup"].parent.span_id == server.context.span_id  # type: ignore[union-attr]
    incoming = f"00-{VALID}-00f067aa0ba902b7-01"
    continued = Client().get("/sync/", headers={"traceparent": incoming})
    assert continued[HEADER] == VALID
