"""Depth, alias, cost and page-size limits of a GraphQL operation, checked before execution.

Cost: every field costs 1 times the size of the lists around it; a connection's page size is
its ``first``/``last`` argument (default 50), other lists use the sizes in ``LIST_SIZES``.
``__typename`` counts like any field. An introspection root (``__schema``, ``__type``) costs a
quarter of the budget, and every field below it 1 more; its own nesting is bounded by the
introspection-depth validation rule, not by the query depth.

The walk is linear in the document: each fragment is measured once (per mode) and a spread
adds the fragment's measure times the lists around it. It stops at the first limit passed, so
a fragment "bomb" (each fragment spreading the previous one twice) is refused after reading
each fragment once, however large the document it stands for.
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
    "buckets": 200,
    "nodes": 100,
    "dailyStats": 31,
    "counts": 50,
    "topPlates": 10,
}
INTROSPECTION_ROOTS = {"__schema", "__type"}
INTROSPECTION_MAX_NESTING = 24  # below an introspection root; the rule is stricter still
DEPTH_SLACK = 16  # how far past max_depth the walk goes to report the depth it found
MAX_FRAGMENT_NESTING = 64


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_cost: int
    max_page_size: int


class LimitExceeded(GraphQLError):
    """The operation passes one of the limits (the message says which)."""


@dataclass(frozen=True)
class _Measure:
    """A selection set's depth, aliases and cost, as if it stood at depth 0 outside lists."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0


def select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    """The operation to run; a clear error when it is ambiguous or missing."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) != 1:
            raise GraphQLError(
                "the document has several operations: give operationName"
                if operations
                else "the document has no operation"
            )
        return operations[0]
    for operation in operations:
        if operation.name and operation.name.value == name:
            return operation
    raise GraphQLError(f"no operation named {name[:100]!r}")


class _Walk:
    def __init__(self, document: DocumentNode, variables: dict[str, Any], limits: Limits) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = variables
        self.limits = limits
        self.introspection_cost = max(1, limits.max_cost // 4)
        self.memo: dict[tuple[str, bool], _Measure] = {}
        self.active: list[str] = []

    def _page_size(self, field: FieldNode) -> int | None:
        size = None
        for argument in field.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value, size = argument.value, None
            if isinstance(value, IntValueNode):
                size = int(value.value) if len(value.value) < 12 else -1
            elif isinstance(value, VariableNode):
                raw = self.variables.get(value.name.value)
                size = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
            if size is not None and not 0 <= size <= self.limits.max_page_size:
                raise LimitExceeded(
                    f"{argument.name.value} on {field.name.value} must be between 0 and "
                    f"{self.limits.max_page_size}",
                    [argument],
                )
        return size

    def _check(self, aliases: int, cost: int) -> None:
        # Every multiplier is at least 1: a part over the limit puts the whole over it.
        if aliases > self.limits.max_aliases:
            raise LimitExceeded(f"{aliases} aliases exceed {self.limits.max_aliases}")
        if cost > self.limits.max_cost:
            raise LimitExceeded(f"query cost {cost} exceeds {self.limits.max_cost}")

    def measure(self, selection_set: SelectionSetNode, introspection: bool, level: int) -> _Measure:
        """``level``: how deep this selection set is in the walk (bounds the recursion)."""
        ceiling = (
            INTROSPECTION_MAX_NESTING if introspection else self.limits.max_depth + DEPTH_SLACK
        )
        if level > ceiling:
            raise LimitExceeded(f"query depth exceeds {self.limits.max_depth}")
        depth = aliases = cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                aliases += selection.alias is not None
                field_depth, field_cost = (0 if introspection else 1), 1
                if selection.selection_set is not None:
                    inner = introspection or name in INTROSPECTION_ROOTS
                    child = self.measure(selection.selection_set, inner, level + 1)
                    aliases += child.aliases
                    if inner:
                        field_cost += child.cost
                        if not introspection:  # the root itself
                            field_cost += self.introspection_cost
                    else:
                        field_depth += child.depth
                        field_cost += self._list_size(selection) * child.cost
                depth, cost = max(depth, field_depth), cost + field_cost
            elif isinstance(selection, InlineFragmentNode):
                child = self.measure(selection.selection_set, introspection, level)
                depth, aliases, cost = (
                    max(depth, child.depth),
                    aliases + child.aliases,
                    cost + child.cost,
                )
            elif isinstance(selection, FragmentSpreadNode):
                child = self.fragment(selection.name.value, introspection, level)
                depth, aliases, cost = (
                    max(depth, child.depth),
                    aliases + child.aliases,
                    cost + child.cost,
                )
            self._check(aliases, cost)
        return _Measure(depth, aliases, cost)

    def _list_size(self, field: FieldNode) -> int:
        name = field.name.value
        if name in PAGED_FIELDS:
            size = self._page_size(field)
            return max(1, DEFAULT_PAGE_SIZE if size is None else size)
        return LIST_SIZES.get(name, 1)

    def fragment(self, name: str, introspection: bool, level: int) -> _Measure:
        key = (name, introspection)
        if key in self.memo:
            return self.memo[key]
        if name not in self.fragments or name in self.active:
            return _Measure()  # unknown or cyclic: validation says so
        if len(self.active) >= MAX_FRAGMENT_NESTING:
            raise LimitExceeded(f"fragments nested more than {MAX_FRAGMENT_NESTING} deep")
        self.active.append(name)
        try:
            self.memo[key] = self.measure(self.fragments[name].selection_set, introspection, level)
        finally:
            self.active.pop()
        return self.memo[key]


def check_limits(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    limits: Limits,
) -> list[GraphQLError]:
    """The first limit the operation passes, as a one-error list (empty when it may run)."""
    try:
        measure = _Walk(document, variables, limits).measure(operation.selection_set, False, 1)
    except LimitExceeded as exc:
        return [exc]
    if measure.depth > limits.max_depth:
        return [LimitExceeded(f"query depth {measure.depth} exceeds {limits.max_depth}")]
    return []
