// The events page: filters, a grid of thumbnails, a per-hour chart, live updates.
// It sends the operations in graphql/*.graphql (served at /operations/), the same ones the
// tests execute.
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
  element.dataset.id = event.id;
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
  const { data, ...fields } = event;
  document.getElementById("detail-data").textContent = JSON.stringify({ ...fields, data }, null, 2);
  dialog.showModal();
}

// Every hour from the first to the last, zero where the log has none.
function fillHours(byHour) {
  if (!byHour.length) return [];
  const counts = new Map(byHour.map((h) => [new Date(h.hour).getTime(), h.count]));
  const first = new Date(byHour[0].hour).getTime();
  const last = new Date(byHour[byHour.length - 1].hour).getTime();
  const hours = [];
  for (let t = first; t <= last && hours.length < 24 * 62; t += 3600 * 1000) {
    hours.push({ hour: new Date(t).toISOString(), count: counts.get(t) || 0 });
  }
  return hours;
}

function drawChart(counted) {
  const svg = document.getElementById("chart");
  svg.replaceChildren();
  const byHour = fillHours(counted);
  if (!byHour.length) return;
  const width = svg.clientWidth || 800, height = 120, bottom = 16;
  const max = Math.max(...byHour.map((h) => h.count));
  const step = width / byHour.length;
  const ns = "http://www.w3.org/2000/svg";
  byHour.forEach((bucket, i) => {
    const barHeight = ((height - bottom - 4) * bucket.count) / max;
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", i * step + 1);
    rect.setAttribute("y", height - bottom - barHeight);
    rect.setAttribute("width", Math.max(1, step - 2));
    rect.setAttribute("height", barHeight);
    const title = document.createElementNS(ns, "title");
    title.textContent = `${new Date(bucket.hour).toLocaleString()}: ${bucket.count}`;
    rect.append(title);
    svg.append(rect);
  });
  const label = (text, x, anchor) => {
    const element = document.createElementNS(ns, "text");
    element.setAttribute("x", x);
    element.setAttribute("y", height - 3);
    element.setAttribute("text-anchor", anchor);
    element.textContent = text;
    svg.append(element);
  };
  label(new Date(byHour[0].hour).toLocaleString(), 2, "start");
  label(new Date(byHour[byHour.length - 1].hour).toLocaleString(), width - 2, "end");
}

async function loadStats() {
  const { eventStats } = await graphql("EventStats", { filter });
  const types = eventStats.byType.map((t) => `${t.eventType} ${t.count}`).join(" · ");
  document.getElementById("summary").textContent =
    `${eventStats.totalEvents} events` + (types ? ` — ${types}` : "");
  drawChart(eventStats.byHour);
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
    option.value = camera.id;
    option.textContent = camera.name || camera.id;
    select.append(option);
  });
}

function matches(message) {
  if (filter.cameraId && message.camera_id !== filter.cameraId) return false;
  if (filter.eventTypes && !filter.eventTypes.includes(message.event_type)) return false;
  return message.event_type !== "event_deleted" && !filter.end && !filter.plate;
}

function followLive() {
  const badge = document.getElementById("live");
  const source = new EventSource("/api/events/live");
  source.onopen = () => badge.classList.replace("off", "on");
  source.onerror = () => badge.classList.replace("on", "off");
  source.addEventListener("event", async (message) => {
    const data = JSON.parse(message.data);
    if (data.event_type === "event_deleted") {
      const removed = JSON.parse(data.data).deleted_id;
      document.querySelector(`.card[data-id="${removed}"]`)?.remove();
      return;
    }
    if (!matches(data)) return;
    const { event } = await graphql("Event", { id: data.position });
    if (event && !document.querySelector(`.card[data-id="${event.id}"]`)) {
      document.getElementById("grid").prepend(card(event, true));
    }
    loadStats();
  });
}

document.getElementById("filters").addEventListener("submit", (submit) => {
  submit.preventDefault();
  filter = readFilter();
  loadPage(false);
  loadStats();
});
document.getElementById("more").addEventListener("click", () => loadPage(true));

loadCameras();
loadPage(false);
loadStats();
followLive();
