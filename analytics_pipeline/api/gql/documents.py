"""Parsing and validating GraphQL documents (the valid ones are kept by ``gql.cache``).

Parsing stops at ``MAX_TOKENS`` tokens (graphql-core's ``max_tokens``), so a huge document
costs the lexer a few thousand tokens, not its whole length. Validation runs graphql-core's
specified rules (``MaxIntrospectionDepthRule`` among them) plus the API's own
(:mod:`analytics_pipeline.api.gql.rules`), and in production mode the rule that refuses
introspection. Production mode also strips graphql-core's "Did you mean ...?" suggestions.
"""

from __future__ import annotations

import re

from graphql.validation import NoSchemaIntrospectionCustomRule

from analytics_pipeline.api.gql.rules import NoNulInStringsRule
from analytics_pipeline.api.schema import schema
from graphql import DocumentNode, GraphQLError, parse, specified_rules, validate

MAX_TOKENS = 2_000  # the page's largest operation has under 100, the introspection query 160
MAX_VALIDATION_ERRORS = 20
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")

RULES = (*specified_rules, NoNulInStringsRule)  # MaxIntrospectionDepthRule among them
PRODUCTION_RULES = (*RULES, NoSchemaIntrospectionCustomRule)


def parse_document(text: str) -> DocumentNode:
    """The document of ``text``; a GraphQLError (syntax, too many tokens, too deep)."""
    try:
        return parse(text, max_tokens=MAX_TOKENS)
    except RecursionError:
        raise GraphQLError("the document is nested too deeply") from None


def validate_document(document: DocumentNode, production: bool) -> list[GraphQLError]:
    """Every validation error of ``document`` (at most ``MAX_VALIDATION_ERRORS``)."""
    try:
        return validate(
            schema.graphql_schema,
            document,
            PRODUCTION_RULES if production else RULES,
            max_errors=MAX_VALIDATION_ERRORS,
        )
    except RecursionError:
        return [GraphQLError("the document is nested too deeply")]


def hide_suggestions(message: str) -> str:
    """``message`` without graphql-core's "Did you mean ...?" (production mode)."""
    return _SUGGESTION.sub("", message)
