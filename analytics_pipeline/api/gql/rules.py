"""Validation rules the API adds to graphql-core's specified ones.

Introspection depth needs no rule of ours: graphql-core (3.2.14) ships graphql-js's
``MaxIntrospectionDepthRule`` among its specified rules, linear in the document, and the limit
walk (:mod:`analytics_pipeline.api.gql.limits`) bounds any nesting below ``__schema``.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, StringValueNode, ValidationRule


class NoNulInStringsRule(ValidationRule):
    """Refuses string literals holding NUL: PostgreSQL's text cannot store it."""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError("strings must not contain NUL characters", node))
