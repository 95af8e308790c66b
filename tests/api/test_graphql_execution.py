"""The project's execution context answers exactly as graphql-core's own: the same data and
the same errors (message, path), with leaf fields completed directly where they can be."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

import graphene
import pydantic
import pytest
from graphql.pyutils import is_awaitable as graphql_is_awaitable

from analytics_pipeline.api.gql.execution import (
    SLOW,
    DeadlineContext,
    LeafPlan,
    is_awaitable,
    leaf_plan,
)
from graphql import ExecutionContext, execute, parse

CALLS: Counter[str] = Counter()  # resolver calls, by field


class Colour(graphene.Enum):
    RED = "red"
    GREEN = "green"


class Item(graphene.ObjectType):
    name = graphene.String(required=True)
    label = graphene.String()
    colour = graphene.Field(Colour)
    when = graphene.DateTime(required=True)
    missing = graphene.String(required=True)  # resolves None: an error, the item nulled
    broken = graphene.Int()  # its resolver raises
    not_a_number = graphene.Int()  # serialising its value fails
    shout = graphene.String(times=graphene.Int(default_value=1))
    later = graphene.String()  # its (synchronous) resolver returns an awaitable
    nickname = graphene.String(required=True)  # no resolver, no such key: None, an error

    @staticmethod
    def resolve_later(item: dict[str, Any], info: Any) -> Awaitable[str]:
        async def value() -> str:
            return item["name"] + " later"

        return value()

    @staticmethod
    def resolve_label(item: dict[str, Any], info: Any) -> str:
        CALLS["label"] += 1
        return f"{item['name']} ({info.context['owner']})"

    @staticmethod
    def resolve_missing(item: dict[str, Any], info: Any) -> None:
        CALLS["missing"] += 1
        return None

    @staticmethod
    def resolve_broken(item: dict[str, Any], info: Any) -> int:
        CALLS["broken"] += 1
        raise ValueError("no luck")

    @staticmethod
    def resolve_not_a_number(item: dict[str, Any], info: Any) -> str:
        CALLS["not_a_number"] += 1
        return "seven"

    @staticmethod
    def resolve_shout(item: dict[str, Any], info: Any, times: int) -> str:
        return item["name"].upper() * times


class Query(graphene.ObjectType):
    items = graphene.List(graphene.NonNull(Item))
    first = graphene.Field(Item)

    @staticmethod
    def resolve_items(root: None, info: Any) -> list[dict[str, Any]]:
        when = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
        return [{"name": f"item-{i}", "colour": "red", "when": when} for i in range(3)]

    @staticmethod
    def resolve_first(root: None, info: Any) -> dict[str, Any]:
        return Query.resolve_items(root, info)[0]


SCHEMA = graphene.Schema(query=Query).graphql_schema


def run(text: str, context_class: type[ExecutionContext]) -> tuple[Any, list, dict[str, int]]:
    """Data, errors (message, path) and resolver calls of one execution (the project's
    context brings the project's ``is_awaitable``)."""
    CALLS.clear()
    result = execute(
        SCHEMA,
        parse(text),
        context_value={"owner": "ops"},
        execution_context_class=context_class,
    )
    if graphql_is_awaitable(result):
        result = asyncio.run(result)  # type: ignore[arg-type]
    errors = sorted((e.message, e.path) for e in result.errors or [])
    return result.data, errors, dict(CALLS)


@pytest.mark.parametrize(
    "text",
    [
        "{ items { name label colour when __typename shout(times: 2) } }",
        "{ first { name missing } }",
        "{ items { name broken notANumber } }",
        "{ a: first { n: name c: colour } b: first { name @skip(if: true) label } }",
        "{ items { name later } }",
        "{ items { name } first { name nickname } }",
    ],
)
def test_answers_as_graphql_core_does(text: str) -> None:
    ours = run(text, DeadlineContext)
    assert ours == run(text, ExecutionContext)


def test_errors_are_reported_once_and_resolvers_run_once() -> None:
    data, errors, calls = run(
        "{ items { name broken notANumber } first { name missing } }", DeadlineContext
    )
    assert calls == {"broken": 3, "not_a_number": 3, "missing": 1}
    assert data == {
        "items": [{"name": f"item-{i}", "broken": None, "notANumber": None} for i in range(3)],
        "first": None,
    }
    assert [path for _, path in errors] == [
        ["first", "missing"],
        *(["items", i, "notANumber"] for i in range(3)),
        *(["items", i, "broken"] for i in range(3)),
    ]


def test_plain_leaves_are_completed_directly_the_rest_the_general_way() -> None:
    context = DeadlineContext.build(SCHEMA, parse("{ first { name } }"), context_value={})
    assert isinstance(context, DeadlineContext)
    item = SCHEMA.type_map["Item"]
    fields = parse("{ name label colour shout(times: 2) first { name } }").definitions[0]
    nodes = {node.name.value: node for node in fields.selection_set.selections}  # type: ignore[attr-defined]
    name, label = leaf_plan(context, item, nodes["name"]), leaf_plan(context, item, nodes["label"])
    assert isinstance(name, LeafPlan) and not name.needs_info  # graphene's default resolver
    assert isinstance(label, LeafPlan) and label.needs_info  # a custom resolver
    assert leaf_plan(context, item, nodes["colour"]) is not SLOW  # an enum
    assert leaf_plan(context, item, nodes["shout"]) is SLOW  # arguments
    assert leaf_plan(context, SCHEMA.query_type, nodes["first"]) is SLOW  # an object


def test_is_awaitable_answers_as_graphql_core_does() -> None:
    class Model(pydantic.BaseModel):
        x: int = 1

    class Later:
        def __await__(self) -> Any:
            yield

    async def coroutine() -> int:
        return 1

    running, loop = coroutine(), asyncio.new_event_loop()
    values = [None, "a", 1, 2.5, True, {}, [], Model(), datetime.now(UTC), Later()]
    values += [running, loop.create_future(), (x for x in [])]
    try:
        answers = [is_awaitable(v) for v in values]
        assert answers == [graphql_is_awaitable(v) for v in values]
        assert answers[-4:] == [True, True, True, False]
    finally:
        running.close()
        loop.close()
