// Apollo Client (npm, run in Node) against a running API: queries, paging both ways, node
// refetch, a mutation with and without the key. Prints one JSON object for the Python test.
// Usage: node apollo.mjs http://127.0.0.1:PORT API_KEY
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";

const [base, key] = process.argv.slice(2);
const client = (headers = {}) =>
  new ApolloClient({
    link: new HttpLink({ uri: `${base}/graphql`, headers }),
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: "no-cache" }, mutate: { fetchPolicy: "no-cache" } },
  });

const PAGE = gql`
  query Page($first: Int, $after: String, $last: Int, $before: String) {
    events(first: $first, after: $after, last: $last, before: $before) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id position eventType cameraId } }
    }
  }
`;
const NODE = gql`
  query Node($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Event { position eventType }
      ... on Camera { cameraId name }
    }
  }
`;
const NODES = gql`
  query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }
`;
const CAMERAS = gql`{ cameras { id cameraId name } }`;
const DELETE = gql`
  mutation Delete($id: ID!) { deleteEvent(id: $id) { deleted event { id position } } }
`;

const reader = client();
const page = (variables) => reader.query({ query: PAGE, variables }).then((r) => r.data.events);
const first = await page({ first: 2 });
const second = await page({ first: 2, after: first.pageInfo.endCursor });
const back = await page({ last: 2, before: second.pageInfo.startCursor });
const { data: cameras } = await reader.query({ query: CAMERAS });
const eventNode = await reader.query({ query: NODE, variables: { id: first.edges[0].node.id } });
const cameraNode = await reader.query({ query: NODE, variables: { id: cameras.cameras[0].id } });
const nodes = await reader.query({
  query: NODES,
  variables: { ids: [cameras.cameras[0].id, "bm9wZTox", first.edges[1].node.id] },
});

let refused;
try {
  await reader.mutate({ mutation: DELETE, variables: { id: first.edges[0].node.id } });
  refused = "accepted";
} catch (error) {
  refused = { status: error.networkError?.statusCode, messages: error.networkError?.result?.errors };
}
const writer = client({ Authorization: `Bearer ${key}` });
const deleted = await writer.mutate({ mutation: DELETE, variables: { id: first.edges[0].node.id } });
const after = await page({ first: 10 });

process.stdout.write(
  JSON.stringify({
    first, second, back,
    eventNode: eventNode.data.node,
    cameraNode: cameraNode.data.node,
    nodes: nodes.data.nodes,
    cameras: cameras.cameras,
    refused,
    deleted: deleted.data.deleteEvent,
    afterDelete: after,
  }) + "\n",
);
