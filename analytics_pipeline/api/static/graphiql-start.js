// GraphiQL on /graphql: queries over POST, subscriptions over graphql-transport-ws.
"use strict";
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher: GraphiQL.createFetcher({ url: "/graphql", subscriptionUrl: wsUrl }),
  }),
);
