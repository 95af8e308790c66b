// The events page: filters, a grid of thumbnails, a chart, live updates.
// It sends the operations in graphql/*.graphql (served at /operations/), the same ones the
// tests execute; live updates come from the EventAdded subscription over WebSocket
// (graphql-transport-ws, the small client below).
"use strict";

const PAGE_SIZE = 48;
const operations = {};
let filter = {};
let endCursor = null;

async function operation(name) {
  if (!operations[name]) {
    const response = await fetch(`/operations/${name}.graphql`);
    operations[name] = await response.text();
  }
  return operations[name];
}

async function graphql(name, variables) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query: await operation(name), variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(body.errors.map((e) => e.message).join("; "));
  return body.data;
}

function isoOrNull(value) {
  return value ? new Date(value).toISOString() : null;
}

function readFilter() {
  const form = new FormData(document.getElementById("filters"));
  const result = {};
  if (form.get("camera")) result.cameraId = form.get("camera");
  if (form.get("type")) result.eventTypes = [form.get("type")];
  if (form.get("start")) result.start = isoOrNull(form.get("start"));
  if (form.get("end")) result.end = isoOrNull(form.get("end"));
  if (form.get("plate")) result.plate = form.get("plate");
  return result;
}

function card(event, isNew) {
  const element = document.createElement("div");
  element.className = "card" + (isNew ? " new" : "");
  element.dataset.id = event.position;
  const image = document.createElement("img");
  image.loading = "lazy";
  image.alt = `${event.eventType} on ${event.cameraId}`;
  if (event.thumbnailUrl) image.src = event.thumbnailUrl;
  const meta = document.createElement("div");
  meta.className = "meta";
  const type = document.createElement("span");
  type.className = `type ${event.eventType}`;
  type.textContent = event.plate ? `${event.eventType} ${event.plate.text}` : event.eventType;
  const where = document.createElement("span");
  where.textContent = `${event.cameraId} · ${new Date(event.timestamp).toLocaleString()}`;
  meta.append(type, where);
  element.append(image, meta);
  element.addEventListener("click", () => showDetail(event.id));
  return element;
}

async function showDetail(id) {
  const { event } = await graphql("Event", { id: String(id) });
  if (!event) return;
  const dialog = document.getElementById("detail");
  const image = document.getElementById("detail-image");
  image.hidden = !event.snapshotUrl;
  if (event.snapshotUrl) image.src = event.snapshotUrl;
  // The clip (H.264 MP4, faststart): plays while it downloads, seeks with range requests.
  const video = document.getElementById("detail-video");
  video.hidden = !event.clipUrl;
  if (event.clipUrl) {
    video.src = event.clipUrl;
  } else if (video.hasAttribute("src")) {
    video.removeAttribute("src");
    video.load();  // stop fetching the previous event's clip
  }
  const { data, ...fields } = event;
  document.getElementById("detail-data").textContent = JSON.stringify({ ...fields, data }, null, 2);
  dialog.showModal();
}

const UNIT_MS = { MINUTE: 60e3, HOUR: 3600e3, DAY: 86400e3 };

// Every bucket from the first to the last, zero where the log has none.
function fillBuckets(unit, buckets) {
  if (!buckets.length) return [];
  const step = UNIT_MS[unit];
  const counts = new Map(buckets.map((b) => [new Date(b.start).getTime(), b.count]));
  const first = new Date(buckets[0].start).getTime();
  const last = new Date(buckets[buckets.length - 1].start).getTime();
  const filled = [];
  for (let t = first; t <= last && filled.length < 1000; t += step) {
    filled.push({ start: new Date(t), count: counts.get(t) || 0 });
  }
  return filled;
}

// An axis label for a bucket: times for minutes, day and hour for hours, dates for days.
function bucketLabel(unit, moment) {
  if (unit === "MINUTE") return moment.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (unit === "HOUR") {
    return moment.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }
  return moment.toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" });
}

const UNIT_NAMES = { MINUTE: "minute", HOUR: "hour", DAY: "day" };

function drawChart(byTime) {
  const svg = document.getElementById("chart");
  svg.replaceChildren();
  const buckets = fillBuckets(byTime.unit, byTime.buckets);
  svg.dataset.unit = byTime.unit;
  svg.setAttribute("aria-label", `events per ${UNIT_NAMES[byTime.unit]}`);
  if (!buckets.length) return;
  const width = svg.clientWidth || 800, height = 140, bottom = 18, left = 28;
  const max = Math.max(...buckets.map((b) => b.count));
  const step = (width - left) / buckets.length;
  const ns = "http://www.w3.org/2000/svg";
  const text = (content, x, y, anchor, className) => {
    const element = document.createElementNS(ns, "text");
    element.setAttribute("x", x);
    element.setAttribute("y", y);
    element.setAttribute("text-anchor", anchor);
    if (className) element.setAttribute("class", className);
    element.textContent = content;
    svg.append(element);
  };
  buckets.forEach((bucket, i) => {
    if (!bucket.count) return;
    const barHeight = ((height - bottom - 12) * bucket.count) / max;
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", left + i * step + (step > 3 ? 1 : 0));
    rect.setAttribute("y", height - bottom - barHeight);
    rect.setAttribute("width", Math.max(1, step > 3 ? step - 2 : step));
    rect.setAttribute("height", barHeight);
    const title = document.createElementNS(ns, "title");
    title.textContent = `${bucketLabel(byTime.unit, bucket.start)}: ${bucket.count}`;
    rect.append(title);
    svg.append(rect);
  });
  text(String(max), left - 4, 12, "end", "axis");
  text("0", left - 4, height - bottom, "end", "axis");
  // Up to six tick labels, evenly spaced, none overlapping.
  const ticks = Math.min(6, buckets.length);
  const every = Math.max(1, Math.ceil(buckets.length / ticks));
  for (let i = 0; i < buckets.length; i += every) {
    const anchor = i === 0 ? "start" : "middle";
    text(bucketLabel(byTime.unit, buckets[i].start), left + i * step + step / 2, height - 4, anchor, "tick");
  }
}

async function loadStats() {
  const { eventStats } = await graphql("EventStats", { filter });
  const types = eventStats.byType.map((t) => `${t.eventType} ${t.count}`).join(" · ");
  document.getElementById("summary").textContent =
    `${eventStats.totalEvents} events` + (types ? ` — ${types}` : "");
  drawChart(eventStats.byTime);
  showLineCounts(eventStats.lineCounts);
}

// Crossings per camera and counting line, one column per direction; hidden when there are none.
function showLineCounts(lineCounts) {
  const rows = new Map();
  lineCounts.forEach((c) => {
    const key = `${c.cameraId}\u0000${c.line}`;
    if (!rows.has(key)) rows.set(key, { cameraId: c.cameraId, line: c.line, a_to_b: 0, b_to_a: 0 });
    rows.get(key)[c.direction] = c.count;
  });
  const table = document.getElementById("line-counts");
  const body = table.querySelector("tbody");
  body.replaceChildren();
  rows.forEach((row) => {
    const tr = document.createElement("tr");
    [row.cameraId, row.line, row.a_to_b, row.b_to_a].forEach((value, i) => {
      const td = document.createElement("td");
      td.textContent = String(value);
      if (i >= 2) td.className = "n";
      tr.append(td);
    });
    body.append(tr);
  });
  table.hidden = rows.size === 0;
}

async function loadPage(append) {
  const { events } = await graphql("EventsPage", {
    filter, first: PAGE_SIZE, after: append ? endCursor : null,
  });
  const grid = document.getElementById("grid");
  if (!append) grid.replaceChildren();
  events.edges.forEach((edge) => grid.append(card(edge.node, false)));
  endCursor = events.pageInfo.endCursor;
  document.getElementById("more").hidden = !events.pageInfo.hasNextPage;
}

async function loadCameras() {
  const { cameras } = await graphql("Cameras", {});
  const select = document.querySelector("select[name=camera]");
  cameras.forEach((camera) => {
    const option = document.createElement("option");
    option.value = camera.cameraId;
    option.textContent = camera.name || camera.cameraId;
    select.append(option);
  });
}

// A tiny graphql-transport-ws client: one socket, two subscriptions (new events, resubscribed
// when the filter changes; deletions), reconnects with backoff and resumes from the last
// message's extensions.after, so nothing is missed across a dropped connection.
const live = { socket: null, id: 0, after: null, deletedAfter: null, retry: 0, statsTimer: null };

function send(message) {
  if (live.socket && live.socket.readyState === WebSocket.OPEN) live.socket.send(JSON.stringify(message));
}

async function subscribe() {
  if (live.id) send({ id: String(live.id), type: "complete" });
  live.id += 1;
  const query = await operation("EventAdded");
  send({ id: String(live.id), type: "subscribe", payload: { query, variables: { filter, after: live.after } } });
}

async function subscribeDeletions() {
  const query = await operation("EventDeleted");
  send({ id: "deleted", type: "subscribe", payload: { query, variables: { after: live.deletedAfter } } });
}

function showNew(event) {
  if (!document.querySelector(`.card[data-id="${event.position}"]`)) {
    document.getElementById("grid").prepend(card(event, true));
  }
  clearTimeout(live.statsTimer);
  live.statsTimer = setTimeout(loadStats, 500);  // one refresh for a burst of events
}

function followLive() {
  const badge = document.getElementById("live");
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const socket = new WebSocket(url, "graphql-transport-ws");
  live.socket = socket;
  socket.onopen = () => send({ type: "connection_init", payload: {} });
  socket.onmessage = (raw) => {
    const message = JSON.parse(raw.data);
    if (message.type === "connection_ack") {
      badge.classList.replace("off", "on");
      live.retry = 0;
      subscribe();
      subscribeDeletions();
    } else if (message.type === "ping") {
      send({ type: "pong" });
    } else if (message.type === "next" && message.id === String(live.id)) {
      const { data, extensions } = message.payload;
      if (extensions && extensions.after) live.after = extensions.after;
      if (data && data.eventAdded) showNew(data.eventAdded);
    } else if (message.type === "next" && message.id === "deleted") {
      const { data, extensions } = message.payload;
      if (extensions && extensions.after) live.deletedAfter = extensions.after;
      if (data && data.eventDeleted) {
        document.querySelector(`.card[data-id="${data.eventDeleted.position}"]`)?.remove();
        clearTimeout(live.statsTimer);
        live.statsTimer = setTimeout(loadStats, 500);
      }
    } else if (message.type === "error") {
      console.error("live events:", message.payload.map((e) => e.message).join("; "));
    }
  };
  socket.onclose = () => {
    badge.classList.replace("on", "off");
    live.retry += 1;
    setTimeout(followLive, Math.min(30000, 500 * 2 ** live.retry));
  };
}

document.getElementById("filters").addEventListener("submit", (submit) => {
  submit.preventDefault();
  filter = readFilter();
  live.after = null;  // a new filter starts from now
  loadPage(false);
  loadStats();
  subscribe();
});
document.getElementById("more").addEventListener("click", () => loadPage(true));
document.getElementById("detail").addEventListener("close", () => {
  document.getElementById("detail-video").pause();
});

loadCameras();
loadPage(false);
loadStats();
followLive();
