"""A small Django project for the middleware tests: settings, views and URLs in one module."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path

from penstock import current_flow_id, entrypoint, get_flow_context, step

log = logging.getLogger("tests.django_site")


@step("django_orders")
def lookup(order_id: str) -> str:
    return f"{order_id}:{current_flow_id()}"


@entrypoint("django_orders")
def place(order_id: str) -> str | None:
    return current_flow_id()


def sync_view(request: HttpRequest) -> JsonResponse:
    ctx = get_flow_context()
    log.info("handling %s", request.path)
    return JsonResponse(
        {
            "cid": current_flow_id(),
            "flow": ctx.flow_name if ctx else None,
            "step": lookup("A1"),
            "nested": place("A1"),
        }
    )


async def async_view(request: HttpRequest) -> JsonResponse:
    await asyncio.sleep(0)
    return JsonResponse({"cid": current_flow_id(), "step": lookup("B2")})


def failing_view(request: HttpRequest) -> HttpResponse:
    msg = "the view failed"
    raise RuntimeError(msg)


def streaming_view(request: HttpRequest) -> StreamingHttpResponse:
    def chunks() -> Iterator[str]:
        for index in range(3):
            yield f"{index}:{current_flow_id()}\n"

    return StreamingHttpResponse(chunks())


async def async_streaming_view(request: HttpRequest) -> StreamingHttpResponse:
    async def chunks() -> AsyncIterator[str]:
        for index in range(3):
            await asyncio.sleep(0)
            yield f"{index}:{current_flow_id()}\n"

    return StreamingHttpResponse(chunks())


urlpatterns = [
    path("sync/", sync_view),
    path("async/", async_view),
    path("fail/", failing_view),
    path("stream/", streaming_view),
    path("astream/", async_streaming_view),
]

SETTINGS = {
    "DEBUG": False,
    "SECRET_KEY": "tests-only",
    "ALLOWED_HOSTS": ["*"],
    "ROOT_URLCONF": __name__,
    "MIDDLEWARE": ["penstock.contrib.django.FlowMiddleware"],
    "INSTALLED_APPS": [],
    "DATABASES": {},
    "USE_TZ": True,
    "LOGGING_CONFIG": None,
}
