"""WSGI (Flask, Django's WSGI handler, any WSGI app): a flow per request.

Wrap the application::

    from penstock.contrib.wsgi import FlowMiddleware

    app.wsgi_app = FlowMiddleware(app.wsgi_app)  # Flask

Each request runs in a flow context, including while the server iterates a streamed body, and
its response carries ``X-Correlation-ID``. The flow never stays behind in the server's thread:
the body is produced in a copy of the request's context, and the request ends when the server
closes the body.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterable
from typing import Any

from penstock.contrib._web import CORRELATION_HEADER, DEFAULT_FLOW_NAME, RequestScope, iterate_in

__all__ = ["FlowMiddleware"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (key[5:].replace("_", "-"), value)
        for key, value in environ.items()
        if key.startswith("HTTP_") and isinstance(value, str)
    ]


class FlowMiddleware:
    """WSGI middleware that runs each request in a penstock flow.

    Args:
        app: The WSGI application to wrap.
        header: The correlation-ID header, read from requests and written to responses.
        flow_name: The flow name of each request's context.
    """

    def __init__(
        self,
        app: WSGIApp,
        *,
        header: str = CORRELATION_HEADER,
        flow_name: str = DEFAULT_FLOW_NAME,
    ) -> None:
        self.app = app
        self.header = header
        self.flow_name = flow_name

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Handle one request; the returned body keeps the flow until it is closed."""
        request = RequestScope(
            _headers(environ),
            method=str(environ.get("REQUEST_METHOD", "")),
            path=str(environ.get("PATH_INFO", "")),
            header=self.header,
            flow_name=self.flow_name,
        )
        request.start()

        def start_with_id(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            kept = [(n, v) for n, v in headers if n.lower() != self.header.lower()]
            with contextlib.suppress(ValueError):
                request.set_status(int(status.split(" ", 1)[0]))
            return start_response(status, [*kept, *request.response_headers()], *args)

        try:
            body = self.app(environ, start_with_id)
        except BaseException as exc:
            request.leave()
            request.finish(exc)
            raise
        snapshot = contextvars.copy_context()
        request.leave()
        return iterate_in(snapshot, body, request.finish)
