// The REST API's OpenAPI document as a readable page: routes, parameters, bodies, schemas.
// Offline: only this origin's /openapi.json; everything is built with DOM calls (no innerHTML).

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  for (const child of children) {
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function typeOf(schema) {
  if (!schema) return "";
  if (schema.$ref) {
    const name = schema.$ref.split("/").pop();
    return el("a", { href: `#schema-${name}` }, name);
  }
  if (schema.type === "array") {
    const inner = typeOf(schema.items);
    return el("span", {}, "array of ", inner);
  }
  if (schema.anyOf) {
    const span = el("span");
    schema.anyOf.forEach((option, i) => {
      if (i) span.append(" | ");
      span.append(typeOf(option));
    });
    return span;
  }
  return [schema.type || "any", schema.format ? ` (${schema.format})` : ""].join("");
}

function parameters(list) {
  const table = el("table", { class: "parameters" },
    el("tr", {}, el("th", {}, "parameter"), el("th", {}, "in"), el("th", {}, "type"),
      el("th", {}, "description")));
  for (const p of list) {
    table.append(el("tr", {}, el("td", {}, el("code", {}, p.name + (p.required ? " *" : ""))),
      el("td", {}, p.in), el("td", {}, typeOf(p.schema)), el("td", {}, p.description || "")));
  }
  return table;
}

function content(body) {
  const span = el("span");
  for (const [type, media] of Object.entries((body && body.content) || {})) {
    span.append(el("code", {}, type), " ", typeOf(media.schema), " ");
  }
  return span;
}

function route(path, method, op) {
  const box = el("article", { class: "route", "data-path": path, "data-method": method },
    el("h3", {}, el("span", { class: `method ${method}` }, method), " ",
      el("span", { class: "path" }, path),
      op.security ? el("span", { class: "lock" }, "API key") : ""),
    el("p", {}, op.summary || ""));
  if (op.parameters && op.parameters.length) box.append(parameters(op.parameters));
  if (op.requestBody) box.append(el("p", {}, el("strong", {}, "Body: "), content(op.requestBody)));
  const answers = el("ul", { class: "responses" });
  for (const [status, answer] of Object.entries(op.responses || {})) {
    answers.append(el("li", {}, el("strong", {}, status), ` ${answer.description} `, content(answer)));
  }
  box.append(answers);
  return box;
}

async function main() {
  const response = await fetch("/openapi.json");
  const spec = await response.json();
  document.getElementById("title").textContent = `${spec.info.title} — REST API ${spec.info.version}`;
  const routes = document.getElementById("routes");
  routes.replaceChildren();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) routes.append(route(path, method, op));
  }
  const schemas = document.getElementById("schemas");
  for (const [name, schema] of Object.entries((spec.components || {}).schemas || {})) {
    schemas.append(el("div", { class: "schema", id: `schema-${name}` },
      el("h3", {}, name), el("pre", {}, JSON.stringify(schema, null, 2))));
  }
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  document.getElementById("routes").replaceChildren(el("p", {}, `Cannot load /openapi.json: ${error}`));
});
