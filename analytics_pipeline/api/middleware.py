"""ASGI middleware of the API: security headers, JSON-only bodies, a time limit on bodies.

The size limit on bodies is Starlette's own (``Starlette(max_body_size=...)`` in ``app.py``)."""

from __future__ import annotations

import anyio
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Answers that are data, not pages: nothing in them may load, run or be framed.
DEFAULT_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
# The events page: its own script, style, images and clips, requests to this origin only.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# A daily report: its inline style and its chart beside it.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
BODY_SECONDS = 30  # the whole body must arrive within this: a stalled upload is a 408
JSON_TYPES = {"application/json"}
MAX_HEAD_BYTES = 16 * 1024  # request line and headers (uvicorn's h11 caps incomplete ones)


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` and a Content-Security-Policy to every response; a route
    that sets its own CSP (the page, GraphiQL, images) keeps it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestChecks:
    """Refuses, before any route runs, a request head over ``MAX_HEAD_BYTES`` (431) and a
    POST, PUT or PATCH body that is not ``Content-Type: application/json`` (415): a form or
    text/plain body, which a browser sends cross-site without asking, is never parsed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    @staticmethod
    def _refusal(scope: Scope) -> JSONResponse | None:
        head = len(scope.get("raw_path", b"")) + len(scope.get("query_string", b""))
        head += sum(len(name) + len(value) + 4 for name, value in scope["headers"])
        if head > MAX_HEAD_BYTES:
            return JSONResponse({"detail": f"request head over {MAX_HEAD_BYTES} bytes"}, 431)
        if scope["method"] in ("POST", "PUT", "PATCH"):
            content_type = dict(scope["headers"]).get(b"content-type", b"")
            media_type = content_type.split(b";")[0].strip().lower().decode("latin-1")
            if media_type not in JSON_TYPES:
                return JSONResponse(
                    {"detail": "request bodies must be JSON (Content-Type: application/json)"},
                    415,
                )
        return None


class BodyDeadline:
    """Answers 408 to a request body that takes longer than ``seconds`` to arrive (a client
    that declares a body and stalls would otherwise hold a worker until it disconnects)."""

    def __init__(self, app: ASGIApp, seconds: float = BODY_SECONDS) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        complete = False
        deadline = anyio.current_time() + self.seconds

        async def receive_in_time() -> Message:
            nonlocal complete
            if complete:  # after the body: waiting for a disconnect, which may take hours
                return await receive()
            try:
                with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, "the request body took too long to arrive") from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, receive_in_time, send)
