// The graphql-ws client (npm, run in Node) against a running API, driven line by line by the
// Python test: it prints JSON lines and waits for a line on stdin where the test acts.
// Usage: node subscription.mjs ws://127.0.0.1:PORT/graphql [API_KEY]
//   {"ready"} subscribed -> test appends 2 events -> {"first", "after"}, the socket is dropped
//   {"dropped"} -> test appends 3 events, writes a line -> {"resumed"} with the 3 missed ones
import readline from "node:readline";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, key] = process.argv.slice(2);
const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once("line", resolve));
const say = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const QUERY = "subscription($after: String) { eventAdded(after: $after) { id position eventType } }";

function connect() {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: key ? { apiKey: key } : {},
    retryAttempts: 0,
  });
}

// The first `count` results of a subscription; `onOpen` once the server acknowledged it.
function take(client, after, count, onOpen) {
  return new Promise((resolve, reject) => {
    const got = [];
    const stop = client.on("connected", () => setTimeout(onOpen, 300));
    const dispose = client.subscribe(
      { query: QUERY, variables: { after } },
      {
        next: (result) => {
          got.push(result);
          if (got.length === count) {
            stop();
            dispose();
            resolve(got);
          }
        },
        error: (error) => reject(error),
        complete: () => {},
      },
    );
  });
}

try {
  const first = connect();
  const received = await take(first, null, 2, () => say({ ready: true }));
  const after = received[received.length - 1].extensions.after;
  say({ first: received.map((r) => r.data.eventAdded.position), after });
  first.terminate(); // the connection drops, as a network failure would
  say({ dropped: true });
  await nextLine();
  const second = connect();
  const resumed = await take(second, after, 3, () => {});
  say({ resumed: resumed.map((r) => r.data.eventAdded.position) });
  await second.dispose();
  process.exit(0);
} catch (error) {
  say({ error: { code: error.code ?? null, reason: error.reason ?? String(error) } });
  process.exit(0);
}
