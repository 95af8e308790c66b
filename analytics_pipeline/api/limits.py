"""Depth, alias, cost and page-size limits of a GraphQL operation, checked before execution.

Cost: every field costs 1 times the size of the lists around it; a connection's page size is
its ``first``/``last`` argument (default 50), other lists use the sizes in ``LIST_SIZES``.
Introspection fields are left out: production mode refuses them altogether.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

PAGED_FIELDS = {"events"}
DEFAULT_PAGE_SIZE = 50
LIST_SIZES = {
    "cameras": 100,
    "detections": 20,
    "byType": 10,
    "byCamera": 100,
    "byHour": 200,
    "dailyStats": 31,
    "counts": 50,
    "topPlates": 10,
}


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_cost: int
    max_page_size: int


@dataclass
class _Tally:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


def select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    """The operation to run; a clear error when it is ambiguous or missing."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) != 1:
            raise GraphQLError("the document has several operations: give operationName")
        return operations[0]
    for operation in operations:
        if operation.name and operation.name.value == name:
            return operation
    raise GraphQLError(f"no operation named {name!r}")


def check_limits(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    limits: Limits,
) -> list[GraphQLError]:
    """Every limit the operation breaks (empty when it may run)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    tally = _Tally()
    errors: list[GraphQLError] = []

    def page_size(field: FieldNode) -> int | None:
        size = None
        for argument in field.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                size = int(value.value)
            elif isinstance(value, VariableNode):
                raw = variables.get(value.name.value)
                size = raw if isinstance(raw, int) else None
            if size is not None and not 0 <= size <= limits.max_page_size:
                errors.append(
                    GraphQLError(
                        f"{argument.name.value} on {field.name.value} must be between 0 and "
                        f"{limits.max_page_size}",
                        [argument],
                    )
                )
        return size

    def visit(
        selection_set: SelectionSetNode, depth: int, multiplier: int, seen: frozenset
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                tally.depth = max(tally.depth, depth)
                tally.aliases += selection.alias is not None
                tally.cost += multiplier
                if selection.selection_set is None:
                    continue
                inner = multiplier
                if selection.name.value in PAGED_FIELDS:
                    size = page_size(selection)
                    inner *= max(1, DEFAULT_PAGE_SIZE if size is None else size)
                else:
                    inner *= LIST_SIZES.get(selection.name.value, 1)
                visit(selection.selection_set, depth + 1, inner, seen)
            elif isinstance(selection, InlineFragmentNode):
                visit(selection.selection_set, depth, multiplier, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen:
                    visit(fragments[name].selection_set, depth, multiplier, seen | {name})

    visit(operation.selection_set, 1, 1, frozenset())
    if tally.depth > limits.max_depth:
        errors.append(GraphQLError(f"query depth {tally.depth} exceeds {limits.max_depth}"))
    if tally.aliases > limits.max_aliases:
        errors.append(GraphQLError(f"{tally.aliases} aliases exceed {limits.max_aliases}"))
    if tally.cost > limits.max_cost:
        errors.append(GraphQLError(f"query cost {tally.cost} exceeds {limits.max_cost}"))
    return errors
