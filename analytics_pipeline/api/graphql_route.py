"""POST /graphql: the HTTP side of GraphQL (GraphiQL on GET outside production mode, from
the project's own copy of its files: offline). The WebSocket side is ``graphql_ws``.

The pattern dagster-webserver uses: a small Starlette route around graphql-core's parse,
validate (with extra rules) and execute. The body is checked here (JSON, shapes, variables);
everything that costs in proportion to the document (parse, limits, validation, execution)
runs in a worker thread (:mod:`analytics_pipeline.api.gql.execution`), a few at a time, under
a time budget: a costly document never stalls the event loop, so ``/health`` and every other
request keep answering.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from analytics_pipeline.api import inputs
from analytics_pipeline.api.auth import has_valid_key, may_read
from analytics_pipeline.api.gql.execution import Answer, GraphQLRequest, answer
from analytics_pipeline.api.responses import FastJSONResponse
from analytics_pipeline.api.state import AppState

DEFAULT_TIME_BUDGET_SECONDS = 10.0
GRAPHIQL_DIR = Path(__file__).with_name("graphiql")  # npm ci there (scripts/setup.sh)
# The files GraphiQL's page loads, served at /graphiql/<name> from the npm packages that
# scripts/setup.sh installs at pinned versions (package-lock.json checks their integrity).
GRAPHIQL_FILES = {
    "graphiql.min.css": "node_modules/graphiql/graphiql.min.css",
    "graphiql.min.js": "node_modules/graphiql/graphiql.min.js",
    "react.production.min.js": "node_modules/react/umd/react.production.min.js",
    "react-dom.production.min.js": "node_modules/react-dom/umd/react-dom.production.min.js",
    "LICENSE-graphiql": "node_modules/graphiql/LICENSE",
    "LICENSE-react": "node_modules/react/LICENSE",
    "LICENSE-react-dom": "node_modules/react-dom/LICENSE",
}
GRAPHIQL_PAGE = """<!doctype html>
<html><head><title>GraphiQL: analytics pipeline</title>
<link rel="stylesheet" href="/graphiql/graphiql.min.css"></head>
<body style="margin:0"><div id="graphiql" style="height:100vh"></div>
<script src="/graphiql/react.production.min.js"></script>
<script src="/graphiql/react-dom.production.min.js"></script>
<script src="/graphiql/graphiql.min.js"></script>
<script src="/static/graphiql-start.js"></script></body></html>"""
# Everything from this origin; inline styles (React and CodeMirror set them), data: images
# and fonts (GraphiQL's stylesheet embeds them); queries and subscriptions to this origin.
GRAPHIQL_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
GRAPHIQL_MISSING = (
    "GraphiQL's files are not installed: run scripts/setup.sh "
    "(or: npm ci --prefix analytics_pipeline/api/graphiql)"
)


async def graphiql_file(request: Request) -> Response:
    """GET /graphiql/<name>: one of GraphiQL's files (``GRAPHIQL_FILES``), 404 otherwise."""
    relative = GRAPHIQL_FILES.get(request.path_params["name"])
    if relative is None or not (GRAPHIQL_DIR / relative).is_file():
        return JSONResponse({"detail": "no such file"}, 404)
    media = "text/css" if relative.endswith(".css") else "text/javascript"
    if "LICENSE" in relative:
        media = "text/plain"
    return FileResponse(
        GRAPHIQL_DIR / relative,
        media_type=media,
        headers={"Cache-Control": "public, max-age=86400"},
    )


def time_budget(state: AppState) -> float:
    """Seconds one GraphQL request may take (``GRAPHQL_TIME_BUDGET_SECONDS`` when the
    settings have it)."""
    return float(
        getattr(state.settings, "graphql_time_budget_seconds", DEFAULT_TIME_BUDGET_SECONDS)
    )


def _errors(status: int, *messages: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": m} for m in messages]}, status_code=status)


def _payload(body: bytes) -> tuple[str, dict[str, Any], str | None]:
    data = inputs.json_document(body)
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        raise inputs.BadInput("the request body needs a 'query' string")
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise inputs.BadInput("'variables' must be an object")
    inputs.plain_json(variables, "variables")
    name = data.get("operationName")
    if name is not None and not isinstance(name, str):
        raise inputs.BadInput("'operationName' must be a string")
    if name is not None:
        inputs.text(name, "operationName", 200)
    return data["query"], variables, name


async def graphql_endpoint(request: Request) -> Response:
    """GraphiQL on GET (outside production), queries and mutations on POST."""
    state: AppState = request.app.state.app
    settings = state.settings
    if request.method == "GET":
        if settings.api_production:
            return JSONResponse({"detail": "GraphiQL is off in production mode"}, 404)
        if not (GRAPHIQL_DIR / GRAPHIQL_FILES["graphiql.min.js"]).is_file():
            return JSONResponse({"detail": GRAPHIQL_MISSING}, 503)
        return HTMLResponse(GRAPHIQL_PAGE, headers={"Content-Security-Policy": GRAPHIQL_CSP})
    try:
        text, variables, operation_name = _payload(await request.body())
    except inputs.BadInput as exc:
        return _errors(400, str(exc))
    if not may_read(settings, request):
        return _errors(401, "this server needs an API key for reads")
    graphql_request = GraphQLRequest(
        text, variables, operation_name, may_write=has_valid_key(settings, request)
    )
    budget = time_budget(state)
    deadline = time.monotonic() + budget
    try:
        with anyio.fail_after(budget + 1):
            result: Answer = await anyio.to_thread.run_sync(
                answer,
                state,
                graphql_request,
                deadline,
                budget,
                limiter=state.graphql_limiter,
                abandon_on_cancel=True,
            )
    except TimeoutError:
        return _errors(503, f"the request took longer than {budget:g} s")
    return FastJSONResponse(result.body, status_code=result.status)
