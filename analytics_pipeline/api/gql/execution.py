"""One GraphQL request from text to answer: parse (or take from the cache), check limits and
keys, validate, execute. Runs in a worker thread, never on the event loop, and stops
resolving once its deadline has passed.

Only the project's own messages reach the client: a GraphQLError raised on purpose, a
:class:`~analytics_pipeline.errors.PipelineError`, or graphql-core's own validation and
coercion messages. Anything else is logged and answered as an internal error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache, partial
from inspect import iscoroutinefunction
from types import CoroutineType, GeneratorType
from typing import Any
from uuid import UUID

from graphene.types.resolver import attr_resolver, dict_or_attr_resolver, dict_resolver
from graphql.execution.collect_fields import collect_fields
from graphql.execution.execute import ExecutionContext, get_field_def
from graphql.execution.values import get_argument_values
from graphql.pyutils import Undefined
from graphql.pyutils import is_awaitable as graphql_is_awaitable

from analytics_pipeline.api.gql.context import GraphQLContext
from analytics_pipeline.api.gql.documents import (
    hide_suggestions,
    parse_document,
    validate_document,
)
from analytics_pipeline.api.gql.limits import Limits, check_limits, select_operation
from analytics_pipeline.api.schema import schema
from analytics_pipeline.api.state import AppState
from analytics_pipeline.errors import PipelineError
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLField,
    OperationDefinitionNode,
    OperationType,
    execute,
    is_leaf_type,
    is_non_null_type,
    located_error,
)

log = logging.getLogger(__name__)
INTERNAL_ERROR = "internal error (logged on the server)"


class DeadlinePassed(PipelineError):
    """The request ran out of its time budget."""


@dataclass(frozen=True)
class GraphQLRequest:
    text: str
    variables: dict[str, Any]
    operation_name: str | None
    may_write: bool


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LeafPlan:
    """How a scalar or enum field without arguments is resolved and serialised directly.
    ``needs_info``: false for graphene's default resolvers, which read an attribute or a key
    and never look at the resolve info (so none is built unless the value needs completing)."""

    field: GraphQLField
    resolve: Callable[..., Any]
    serialize: Callable[[Any], Any]
    needs_info: bool = True


SLOW = object()  # a field that graphql-core's own execute_field resolves
PLAIN = frozenset({str, int, float, bool, dict, list, datetime, UUID})  # never awaitable
INFO_BLIND = frozenset({attr_resolver, dict_or_attr_resolver, dict_resolver})


@lru_cache(maxsize=256)  # bounded: a class made at run time is not kept for ever
def _may_await(kind: type) -> bool:
    return issubclass(kind, CoroutineType | GeneratorType) or hasattr(kind, "__await__")


def is_awaitable(value: Any) -> bool:
    """graphql-core's ``is_awaitable``, answered from the value's type for the types whose
    instances never are (nearly every result): graphql-core asks it of every field's value,
    and its ``hasattr(value, "__await__")`` on a pydantic model raises and catches an
    AttributeError each time."""
    return _may_await(type(value)) and graphql_is_awaitable(value)


def leaf_plan(context: ExecutionContext, parent_type: Any, node: FieldNode) -> LeafPlan | object:
    """A :class:`LeafPlan` for a field that needs no more than resolve and serialise (a
    scalar or enum, no arguments, a synchronous resolver, no middleware), else :data:`SLOW`."""
    field = get_field_def(context.schema, parent_type, node)
    if field is None or field.args or context.middleware_manager is not None:
        return SLOW
    named = field.type.of_type if is_non_null_type(field.type) else field.type
    resolve = field.resolve or context.field_resolver
    function = resolve.func if isinstance(resolve, partial) else resolve
    if not is_leaf_type(named) or iscoroutinefunction(function):
        return SLOW
    return LeafPlan(field, resolve, named.serialize, needs_info=function not in INFO_BLIND)


class DeadlineContext(ExecutionContext):
    """graphql-core execution that resolves nothing more once ``deadline`` (a
    ``time.monotonic()``) has passed, and completes plain leaf fields directly.

    The deadline is checked once per object whose fields are resolved, not once per field
    as a middleware would: that wraps every resolver, default ones included (about 400 calls
    for a page of 50 events, a quarter of the execution). A scalar or enum field without
    arguments (:func:`leaf_plan`) is resolved and serialised here, without graphql-core's
    argument coercion and its generic dispatch (about half of a page's execution); a value
    that is not plainly serialisable (None, an error, an awaitable) is completed by
    graphql-core's ``complete_value`` and its errors handled as graphql-core does. Each
    resolver runs once.
    """

    deadline: float = float("inf")
    budget: float = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.leaf_plans: dict[tuple[str, int], LeafPlan | object] = {}
        if self.is_awaitable is graphql_is_awaitable:  # none given: the fast one
            self.is_awaitable = is_awaitable

    def execute_fields(  # type: ignore[override]
        self, parent_type: Any, source_value: Any, path: Any, fields: Any
    ) -> Any:
        if time.monotonic() > self.deadline:
            raise DeadlinePassed(f"the request took longer than {self.budget:g} s")
        return super().execute_fields(parent_type, source_value, path, fields)

    def execute_field(  # type: ignore[override]
        self, parent_type: Any, source: Any, field_nodes: list[FieldNode], path: Any
    ) -> Any:
        key = (parent_type.name, id(field_nodes[0]))  # nodes live as long as the request
        plan = self.leaf_plans.get(key)
        if plan is None:
            plan = self.leaf_plans[key] = leaf_plan(self, parent_type, field_nodes[0])
        if plan is SLOW:
            return super().execute_field(parent_type, source, field_nodes, path)
        # graphql-core's execute_field without argument coercion and middleware; plain values
        # serialised at once, anything else completed (and its errors reported) as there.
        info = None
        try:
            if plan.needs_info:
                info = self.build_resolve_info(plan.field, field_nodes, parent_type, path)
            value = plan.resolve(source, info)
            if type(value) in PLAIN:
                serialized = plan.serialize(value)
                if serialized is not None and serialized is not Undefined:
                    return serialized
            if info is None:
                info = self.build_resolve_info(plan.field, field_nodes, parent_type, path)
            if self.is_awaitable(value):
                return self._complete_later(plan.field, field_nodes, info, path, value)
            return self.complete_value(plan.field.type, field_nodes, info, path, value)
        except Exception as raw_error:
            error = located_error(raw_error, field_nodes, path.as_list())
            self.handle_field_error(error, plan.field.type, path)
            return None

    async def _complete_later(
        self, field: GraphQLField, field_nodes: list[FieldNode], info: Any, path: Any, value: Any
    ) -> Any:
        """An awaitable leaf value awaited, then completed as graphql-core does."""
        try:
            return self.complete_value(field.type, field_nodes, info, path, await value)
        except Exception as raw_error:
            error = located_error(raw_error, field_nodes, path.as_list())
            self.handle_field_error(error, field.type, path)
            return None


def deadline_context(deadline: float, budget: float) -> type[ExecutionContext]:
    """The execution context class of one request."""
    return type("RequestContext", (DeadlineContext,), {"deadline": deadline, "budget": budget})


def limits_of(state: AppState) -> Limits:
    settings = state.settings
    return Limits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_cost=settings.graphql_max_cost,
        max_page_size=settings.api_max_page_size,
    )


def public_error(error: GraphQLError, production: bool) -> dict[str, Any]:
    """An error as the client sees it: our own messages, never internals."""
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError | PipelineError):
        log.error("resolver error at %s", error.path, exc_info=original)
        formatted = GraphQLError(INTERNAL_ERROR, path=error.path).formatted
    else:
        formatted = dict(error.formatted)
    if production:
        formatted["message"] = hide_suggestions(formatted["message"])
    return formatted


def _refusal(errors: list[GraphQLError], status: int, production: bool) -> Answer:
    return Answer(status, {"errors": [public_error(e, production) for e in errors]})


def check_request(
    state: AppState, request: GraphQLRequest
) -> tuple[DocumentNode, OperationDefinitionNode] | Answer:
    """The parsed document and the operation to run, or the refusal (parse, keys, limits,
    validation): the same checks for HTTP requests and WebSocket subscriptions."""
    production = state.settings.api_production
    cache = state.documents
    document = cache.get(request.text, production)
    cached = document is not None
    try:
        if document is None:
            document = parse_document(request.text)
        operation = select_operation(document, request.operation_name)
    except GraphQLError as exc:
        return _refusal([exc], 400, production)
    if operation.operation == OperationType.MUTATION and not request.may_write:
        return _refusal([GraphQLError("mutations need an API key")], 401, production)
    if errors := check_limits(document, operation, request.variables, limits_of(state)):
        return _refusal(errors, 400, production)
    if not cached:
        if errors := validate_document(document, production):
            return _refusal(errors, 400, production)
        cache.put(request.text, production, document)
    return document, operation


def answer(state: AppState, request: GraphQLRequest, deadline: float, budget: float) -> Answer:
    """The answer to one request (status and JSON body)."""
    production = state.settings.api_production
    checked = check_request(state, request)
    if isinstance(checked, Answer):
        return checked
    document, operation = checked
    if operation.operation == OperationType.SUBSCRIPTION:
        refusal = GraphQLError("subscriptions run over WebSocket (graphql-transport-ws)")
        return _refusal([refusal], 400, production)
    if time.monotonic() > deadline:
        late = GraphQLError(f"the request took longer than {budget:g} s")
        return _refusal([late], 503, production)
    result: ExecutionResult = execute(
        schema.graphql_schema,
        document,
        context_value=GraphQLContext(state, may_write=request.may_write),
        variable_values=request.variables,
        operation_name=request.operation_name,
        execution_context_class=deadline_context(deadline, budget),
    )
    return Answer(200, result_body(result, production))


def result_body(result: ExecutionResult, production: bool) -> dict[str, Any]:
    """An execution result as the client sees it (``data``, public ``errors``)."""
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [public_error(e, production) for e in result.errors]
    return body


def root_arguments(
    state: AppState, document: DocumentNode, request: GraphQLRequest
) -> tuple[str, dict[str, Any]] | Answer:
    """The name and coerced arguments of a subscription's one root field."""
    production = state.settings.api_production
    built = ExecutionContext.build(
        schema.graphql_schema, document, None, None, request.variables, request.operation_name
    )
    if isinstance(built, list):
        return _refusal(built, 400, production)
    root_type = schema.graphql_schema.subscription_type
    assert root_type is not None
    fields = collect_fields(
        schema.graphql_schema,
        built.fragments,
        built.variable_values,
        root_type,
        built.operation.selection_set,
    )
    if not fields:
        return _refusal([GraphQLError("the subscription selects no field")], 400, production)
    name, nodes = next(iter(fields.items()))
    field_def = root_type.fields.get(nodes[0].name.value)
    if field_def is None:
        return _refusal([GraphQLError(f"no subscription field {name!r}")], 400, production)
    try:
        arguments = get_argument_values(field_def, nodes[0], built.variable_values)
    except GraphQLError as exc:
        return _refusal([exc], 400, production)
    return nodes[0].name.value, arguments
