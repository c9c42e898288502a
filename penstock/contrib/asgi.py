"""ASGI (Starlette, FastAPI, Django's ASGI handler, any ASGI app): a flow per HTTP request.

Wrap the application::

    from penstock.contrib.asgi import FlowMiddleware

    app = FlowMiddleware(app)

or, with Starlette and FastAPI, ``app.add_middleware(FlowMiddleware)``. Each HTTP request runs in
a flow context for as long as the application handles it, streamed bodies included, and its
response carries ``X-Correlation-ID``. Lifespan and websocket connections pass through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from penstock.contrib._web import CORRELATION_HEADER, DEFAULT_FLOW_NAME, RequestScope

__all__ = ["FlowMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class FlowMiddleware:
    """ASGI middleware that runs each HTTP request in a penstock flow.

    Args:
        app: The ASGI application to wrap.
        header: The correlation-ID header, read from requests and written to responses.
        flow_name: The flow name of each request's context.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        header: str = CORRELATION_HEADER,
        flow_name: str = DEFAULT_FLOW_NAME,
    ) -> None:
        self.app = app
        self.header = header
        self.flow_name = flow_name
        self._header_bytes = header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection; only ``http`` ones get a flow."""
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        headers = [(name, value) for name, value in scope.get("headers", [])]
        request = RequestScope(
            headers,
            method=str(scope.get("method", "")),
            path=str(scope.get("path", "")),
            header=self.header,
            flow_name=self.flow_name,
        )
        request.start()
        outgoing = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in request.response_headers()
        ]

        async def send_with_id(message: Message) -> None:
            if message.get("type") == "http.response.start":
                kept = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != self._header_bytes
                ]
                message["headers"] = [*kept, *outgoing]
                route = scope.get("route")
                request.set_status(int(message.get("status", 0)), getattr(route, "path", None))
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException as exc:
            error = exc
            raise
        finally:
            request.leave()
            request.finish(error)
