"""GraphQL over WebSocket on ``/graphql``: the ``graphql-transport-ws`` protocol (the one of
the ``graphql-ws`` library, its PROTOCOL.md), written here on a Starlette WebSocket route.

``connection_init`` within ``INIT_SECONDS`` (else 4408), once (else 4429); when reads need a
key it comes in its payload (``{"apiKey": …}`` or ``{"authorization": "Bearer …"}``) or in the
upgrade request's headers (else 4403). ``subscribe`` before the ack is 4401, a second one with
a live id 4409, a message that is not one of the protocol's 4400, a client that did not offer
the ``graphql-transport-ws`` subprotocol 4406. ``ping`` gets ``pong``.

A ``subscribe`` passes the same checks as a POST (parse, depth, aliases, cost, validation)
and its refusal is an ``error`` message. Queries and mutations answer with one ``next`` and a
``complete``; subscriptions go to :mod:`analytics_pipeline.api.subscriptions`. A subscriber
that falls ``GRAPHQL_SUBSCRIBER_QUEUE`` results behind gets an ``error`` saying so and the
connection is closed (1013, try again later): it resumes with ``after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

from analytics_pipeline.api import inputs
from analytics_pipeline.api.auth import presented_key
from analytics_pipeline.api.gql.events import to_event_filter
from analytics_pipeline.api.gql.execution import (
    Answer,
    GraphQLRequest,
    answer,
    check_request,
    root_arguments,
)
from analytics_pipeline.api.graphql_route import time_budget
from analytics_pipeline.api.state import AppState
from analytics_pipeline.api.subscriptions import (
    OVERFLOW,
    Operation,
    SubscriptionRegistry,
    backlog,
    is_duplicate,
)
from analytics_pipeline.config import Settings
from graphql import OperationType

log = logging.getLogger(__name__)
PROTOCOL = "graphql-transport-ws"
INIT_SECONDS = 5.0
SEND_SECONDS = 10.0  # a send that takes longer closes the connection
MAX_OPERATIONS = 100  # operations one connection may have open at once


class Closed(Exception):
    """Close the connection with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason[:120]


def key_in(payload: object, websocket: WebSocket) -> str | None:
    """The API key of a connection: its ``connection_init`` payload, else its headers."""
    if isinstance(payload, dict):
        for name in ("apiKey", "api_key", "x-api-key"):
            if isinstance(payload.get(name), str):
                return payload[name]
        header = payload.get("authorization") or payload.get("Authorization")
        if isinstance(header, str) and header.lower().startswith("bearer "):
            return header[7:].strip()
    return presented_key(websocket)  # type: ignore[arg-type] (a WebSocket has headers too)


def valid_key(settings: Settings, key: str | None) -> bool:
    """Whether ``key`` is one of the configured keys (constant-time compare)."""
    if not key:
        return False
    return any(hmac.compare_digest(key.encode(), good.encode()) for good in settings.api_key_set)


class Connection:
    """One WebSocket connection and its operations."""

    def __init__(
        self, websocket: WebSocket, state: AppState, registry: SubscriptionRegistry
    ) -> None:
        self.websocket = websocket
        self.state = state
        self.registry = registry
        self.initialised = False
        self.acknowledged = False
        self.may_write = False
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.send_lock = asyncio.Lock()
        self.closed = asyncio.Event()
        self.close_code = 1000
        self.close_reason = ""

    async def send(self, message: dict[str, Any]) -> None:
        """Send one message; a client that does not take it in time is closed."""
        async with self.send_lock:
            if self.closed.is_set():
                return
            try:
                with anyio.fail_after(SEND_SECONDS):
                    await self.websocket.send_text(json.dumps(message, separators=(",", ":")))
            except (TimeoutError, OSError, RuntimeError, WebSocketDisconnect):
                self.close(1013, "the client does not read its messages")

    def close(self, code: int, reason: str) -> None:
        """End the connection (the receive loop closes it)."""
        if not self.closed.is_set():
            self.close_code, self.close_reason = code, reason[:120]
            self.closed.set()

    def end(self) -> None:
        """The server is stopping (called by the hub)."""
        self.close(1001, "the server is stopping")

    async def run(self) -> None:
        """Serve the connection until the client leaves or it is closed."""
        receiver = asyncio.create_task(self._receive())
        closer = asyncio.create_task(self.closed.wait())
        timer = asyncio.get_running_loop().call_later(INIT_SECONDS, self._init_timeout)
        try:
            await asyncio.wait({receiver, closer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            for task in (receiver, closer, *self.operations.values()):
                task.cancel()
            await asyncio.gather(
                receiver, closer, *self.operations.values(), return_exceptions=True
            )
            if self.closed.is_set():
                with contextlib.suppress(Exception):
                    await self.websocket.close(self.close_code, self.close_reason)

    def _init_timeout(self) -> None:
        if not self.initialised:
            self.close(4408, "Connection initialisation timeout")

    async def _receive(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            try:
                if text is None:
                    raise Closed(4400, "Invalid message received: binary frames are not used")
                await self._handle(text)
            except Closed as closed:
                self.close(closed.code, closed.reason)
                return

    async def _handle(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            raise Closed(4400, "Invalid message received: not JSON") from None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "connection_init":
            await self._init(message.get("payload"))
        elif kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            self._subscribe(message)
        elif kind == "complete":
            ident = message.get("id")
            task = self.operations.pop(ident, None) if isinstance(ident, str) else None
            if task is not None:
                task.cancel()
        else:
            raise Closed(4400, "Invalid message received: unknown type")

    async def _init(self, payload: object) -> None:
        if self.initialised:
            raise Closed(4429, "Too many initialisation requests")
        self.initialised = True
        if payload is not None and not isinstance(payload, dict):
            raise Closed(4400, "Invalid message received: payload must be an object")
        settings = self.state.settings
        has_key = valid_key(settings, key_in(payload, self.websocket))
        if settings.api_reads_need_key and not has_key:
            raise Closed(4403, "Forbidden: this server needs an API key for reads")
        self.may_write = has_key
        self.acknowledged = True
        await self.send({"type": "connection_ack"})

    def _subscribe(self, message: dict[str, Any]) -> None:
        if not self.acknowledged:
            raise Closed(4401, "Unauthorized")
        ident, payload = message.get("id"), message.get("payload")
        if not isinstance(ident, str) or not ident or len(ident) > 200:
            raise Closed(4400, "Invalid message received: id must be a non-empty string")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise Closed(4400, "Invalid message received: payload needs a query")
        if ident in self.operations:
            raise Closed(4409, f"Subscriber for {ident[:60]} already exists")
        if len(self.operations) >= MAX_OPERATIONS:
            raise Closed(4400, f"more than {MAX_OPERATIONS} operations on one connection")
        task = asyncio.create_task(self._operation(ident, payload))
        self.operations[ident] = task
        task.add_done_callback(lambda _t: self._done(ident, task))

    def _done(self, ident: str, task: asyncio.Task[None]) -> None:
        if self.operations.get(ident) is task:
            del self.operations[ident]

    async def _error(self, ident: str, messages: list[dict[str, Any]] | list[str]) -> None:
        errors = [m if isinstance(m, dict) else {"message": m} for m in messages]
        await self.send({"id": ident, "type": "error", "payload": errors})

    async def _operation(self, ident: str, payload: dict[str, Any]) -> None:
        variables = payload.get("variables") or {}
        name = payload.get("operationName")
        try:
            if not isinstance(variables, dict):
                raise inputs.BadInput("'variables' must be an object")
            inputs.plain_json(variables, "variables")
            if name is not None and not isinstance(name, str):
                raise inputs.BadInput("'operationName' must be a string")
        except inputs.BadInput as exc:
            await self._error(ident, [str(exc)])
            return
        request = GraphQLRequest(payload["query"], variables, name, may_write=self.may_write)
        limiter = self.state.graphql_limiter
        checked = await anyio.to_thread.run_sync(
            check_request, self.state, request, limiter=limiter
        )
        if isinstance(checked, Answer):
            await self._error(ident, checked.body["errors"])
            return
        document, operation = checked
        if operation.operation != OperationType.SUBSCRIPTION:
            await self._single(ident, request)
            return
        arguments = await anyio.to_thread.run_sync(
            root_arguments, self.state, document, request, limiter=limiter
        )
        if isinstance(arguments, Answer):
            await self._error(ident, arguments.body["errors"])
            return
        field, values = arguments
        try:
            to_event_filter(values.get("filter"))
        except inputs.BadInput as exc:
            await self._error(ident, [str(exc)])
            return
        subscription = Operation(
            request.text,
            document,
            name,
            variables,
            values.get("filter"),
            values.get("after"),
            field,
        )
        await self._stream(ident, subscription)

    async def _single(self, ident: str, request: GraphQLRequest) -> None:
        budget = time_budget(self.state)
        result: Answer = await anyio.to_thread.run_sync(
            answer,
            self.state,
            request,
            time.monotonic() + budget,
            budget,
            limiter=self.state.graphql_limiter,
        )
        if result.status != 200:
            await self._error(ident, result.body.get("errors", []))
            return
        await self.send({"id": ident, "type": "next", "payload": result.body})
        await self.send({"id": ident, "type": "complete"})

    async def _stream(self, ident: str, operation: Operation) -> None:
        try:
            feed, subscriber = self.registry.join(operation)
        except inputs.BadInput as exc:
            await self._error(ident, [str(exc)])
            return
        try:
            seen = None
            if operation.after:
                try:
                    missed, seen = await backlog(feed, operation.after)
                except inputs.BadInput as exc:
                    await self._error(ident, [str(exc)])
                    return
                for _key, body in missed:
                    await self.send({"id": ident, "type": "next", "payload": body})
            while True:
                item = await subscriber.queue.get()
                if item is OVERFLOW:
                    size = self.registry.queue_size
                    await self._error(
                        ident,
                        [
                            f"too slow: more than {size} results waited for this client; "
                            "subscribe again with after: the last extensions.after received"
                        ],
                    )
                    self.close(1013, "too slow: results queued past the limit")
                    return
                if is_duplicate(item, seen):  # type: ignore[arg-type]
                    continue
                await self.send({"id": ident, "type": "next", "payload": item[1]})  # type: ignore[index]
        finally:
            self.registry.leave(feed, subscriber)


def same_origin(websocket: WebSocket) -> bool:
    """Whether a browser opened this socket from the API's own origin. Browsers apply no
    same-origin rule to WebSockets, so without this check any web page an operator opens could
    read the API through their browser; clients that send no ``Origin`` (not browsers) pass."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()


async def graphql_websocket(websocket: WebSocket) -> None:
    """``/graphql`` over WebSocket (graphql-transport-ws)."""
    state: AppState = websocket.app.state.app
    registry: SubscriptionRegistry = websocket.app.state.subscriptions
    if not same_origin(websocket):
        await websocket.accept()
        await websocket.close(4403, "Forbidden: another site's page")
        return
    if PROTOCOL not in websocket.scope.get("subprotocols", []):
        await websocket.accept()
        await websocket.close(4406, "Subprotocol not acceptable")
        return
    await websocket.accept(subprotocol=PROTOCOL)
    hub = state.live
    if hub.closing:
        await websocket.close(1001, "the server is stopping")
        return
    connection = Connection(websocket, state, registry)
    hub.sessions.add(connection)
    try:
        await connection.run()
    finally:
        hub.sessions.discard(connection)
