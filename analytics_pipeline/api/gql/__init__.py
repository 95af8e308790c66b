"""The GraphQL API, one module per domain (events, statistics, cameras, images), merged into
one Query and one Mutation by ``analytics_pipeline.api.schema``; the HTTP route runs documents
through ``documents`` (parse, validate, cache) and ``limits`` before executing them.

Named ``gql``: a package named ``graphql`` would shadow graphql-core.
"""
