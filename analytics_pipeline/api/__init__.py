"""The HTTP API: GraphQL, the original REST routes, images and the events web page."""
