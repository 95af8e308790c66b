"""POST /graphql: parse, validate, check limits and keys, then execute (graphql-core).

The pattern dagster-webserver uses: a small Starlette route around graphql-core's parse,
validate (with extra rules) and execute. Limits and keys are checked before any resolver runs.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import Any

from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from analytics_pipeline.api.auth import has_valid_key, may_read
from analytics_pipeline.api.limits import Limits, check_limits, select_operation
from analytics_pipeline.api.schema import CameraLoader, schema
from analytics_pipeline.api.state import AppState
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)

log = logging.getLogger(__name__)

GRAPHIQL_PAGE = """<!doctype html>
<html><head><title>GraphiQL: analytics pipeline</title>
<link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css"></head>
<body style="margin:0"><div id="graphiql" style="height:100vh"></div>
<script src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
<script src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
<script src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
<script>
ReactDOM.createRoot(document.getElementById('graphiql')).render(
  React.createElement(GraphiQL, {fetcher: GraphiQL.createFetcher({url: '/graphql'})}));
</script></body></html>"""


@lru_cache(maxsize=256)
def parse_and_validate(
    text: str, production: bool
) -> tuple[DocumentNode, tuple[GraphQLError, ...]]:
    """Parse and validate a query once; a frontend sends the same few operations again and
    again. Raises GraphQLError on a syntax error."""
    document = parse(text)
    rules = [*specified_rules, NoSchemaIntrospectionCustomRule] if production else specified_rules
    return document, tuple(validate(schema.graphql_schema, document, rules))


def _errors(errors: list[GraphQLError], status: int) -> JSONResponse:
    return JSONResponse({"errors": [e.formatted for e in errors]}, status_code=status)


def _public(error: GraphQLError) -> dict[str, Any]:
    """A resolver error as the client sees it: our own messages, never internals."""
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError | ValueError):
        log.error("resolver error at %s", error.path, exc_info=original)
        return GraphQLError("internal error (logged on the server)", path=error.path).formatted
    return error.formatted


def _payload(request: Request, body: bytes) -> tuple[str, dict[str, Any], str | None]:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise GraphQLError("the request body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        raise GraphQLError("the request body needs a 'query' string")
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise GraphQLError("'variables' must be an object")
    name = data.get("operationName")
    if name is not None and not isinstance(name, str):
        raise GraphQLError("'operationName' must be a string")
    return data["query"], variables, name


async def graphql_endpoint(request: Request) -> Response:
    """GraphiQL on GET (outside production), queries and mutations on POST."""
    state: AppState = request.app.state.app
    settings = state.settings
    if request.method == "GET":
        if settings.api_production:
            return JSONResponse({"detail": "GraphiQL is off in production mode"}, 404)
        return HTMLResponse(GRAPHIQL_PAGE)
    try:
        text, variables, operation_name = _payload(request, await request.body())
        document, errors = parse_and_validate(text, settings.api_production)
    except GraphQLError as exc:
        return _errors([exc], 400)
    if errors:
        return _errors(list(errors), 400)
    try:
        operation = select_operation(document, operation_name)
    except GraphQLError as exc:
        return _errors([exc], 400)
    limits = Limits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_cost=settings.graphql_max_cost,
        max_page_size=settings.api_max_page_size,
    )
    if errors := check_limits(document, operation, variables, limits):
        return _errors(errors, 400)
    if operation.operation == OperationType.MUTATION and not has_valid_key(settings, request):
        return _errors([GraphQLError("mutations need an API key")], 401)
    if not may_read(settings, request):
        return _errors([GraphQLError("this server needs an API key for reads")], 401)
    context = {"state": state, "cameras": CameraLoader(state), "request": request}
    result: ExecutionResult = await run_in_threadpool(
        execute,
        schema.graphql_schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
    )
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [_public(e) for e in result.errors]
    return JSONResponse(body)
