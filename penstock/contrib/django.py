"""Django: every request runs in a penstock flow, and its response names the correlation ID.

Add the middleware near the top of ``MIDDLEWARE``, so that everything after it runs inside the
request's flow::

    MIDDLEWARE = [
        "penstock.contrib.django.FlowMiddleware",
        "django.middleware.security.SecurityMiddleware",
        ...
    ]

Optional settings: ``PENSTOCK_CORRELATION_HEADER`` (default ``"X-Correlation-ID"``) and
``PENSTOCK_REQUEST_FLOW`` (the flow name of the request's context, default ``"http.request"``).
Works for sync and async views alike, and keeps the flow in force while a streamed response is
being sent.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings

from penstock.contrib._web import (
    CORRELATION_HEADER,
    DEFAULT_FLOW_NAME,
    RequestScope,
    iterate_in,
    iterate_in_async,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponseBase

__all__ = ["FlowMiddleware"]


class FlowMiddleware:
    """Run each request in a flow context and set ``X-Correlation-ID`` on its response."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.header: str = getattr(settings, "PENSTOCK_CORRELATION_HEADER", CORRELATION_HEADER)
        self.flow_name: str = getattr(settings, "PENSTOCK_REQUEST_FLOW", DEFAULT_FLOW_NAME)
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def _scope(self, request: HttpRequest) -> RequestScope:
        return RequestScope(
            request.headers,
            method=request.method or "",
            path=request.path,
            header=self.header,
            flow_name=self.flow_name,
        )

    def __call__(self, request: HttpRequest) -> Any:
        """Handle ``request`` inside its flow (returns a coroutine for async stacks)."""
        if self._async:
            return self.__acall__(request)
        scope = self._scope(request)
        scope.start()
        try:
            response = self.get_response(request)
        except BaseException as exc:
            scope.finish(exc)
            raise
        finally:
            snapshot = contextvars.copy_context()
            scope.leave()
        return self._respond(scope, request, response, snapshot)

    async def __acall__(self, request: HttpRequest) -> Any:
        """The asynchronous :meth:`__call__`."""
        scope = self._scope(request)
        scope.start()
        try:
            response = await self.get_response(request)
        except BaseException as exc:
            scope.finish(exc)
            raise
        finally:
            snapshot = contextvars.copy_context()
            scope.leave()
        return self._respond(scope, request, response, snapshot)

    def _respond(
        self,
        scope: RequestScope,
        request: HttpRequest,
        response: HttpResponseBase,
        snapshot: contextvars.Context,
    ) -> HttpResponseBase:
        for name, value in scope.response_headers():
            response[name] = value
        match = getattr(request, "resolver_match", None)
        scope.set_status(response.status_code, getattr(match, "route", None))
        if getattr(response, "streaming", False):
            # The body is produced after this returns: produce it inside the request's flow,
            # and end the request when it is done.
            content: Any = response.streaming_content
            if getattr(response, "is_async", False):
                response.streaming_content = iterate_in_async(snapshot, content, scope.finish)
            else:
                response.streaming_content = iterate_in(snapshot, content, scope.finish)
        else:
            scope.finish()
        return response
