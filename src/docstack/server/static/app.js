// The docstack page: index overview, paged documents, search, filter builder.
// Every value from the server is written with textContent or as an attribute: never as HTML.
"use strict";

const OPS = ["$eq", "$neq", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$regex", "$exists"];
const state = { indexes: [], info: null, offset: 0, pageSize: 20, lastSearch: null };

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

async function api(path, options = {}) {
  const response = await fetch("api/" + path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function valueAt(doc, name) {
  let value = doc;
  for (const part of name.split("__")) {
    if (value == null || typeof value !== "object") return null;
    value = value[part];
  }
  return value === undefined ? null : value;
}

function option(value, label, selected) {
  const node = el("option", { value, text: label ?? value });
  if (selected) node.selected = true;
  return node;
}

// ------------------------------------------------------------------ overview

async function loadIndexes() {
  const body = await api("indexes");
  state.indexes = body.indexes;
  const select = $("index-select");
  select.replaceChildren(...state.indexes.map((i) => option(i.name)));
  select.addEventListener("change", () => selectIndex(select.value));
  if (state.indexes.length) await selectIndex(state.indexes[0].name);
}

async function selectIndex(name) {
  state.info = await api("indexes/" + enc(name));
  state.offset = 0;
  state.lastSearch = null;
  renderOverview();
  $("filter-rows").replaceChildren();
  updateFilterPreview();
  await showPage();
}

function renderOverview() {
  const info = state.info;
  $("overview-title").textContent = `${info.name} (${info.document_type})`;
  $("overview-summary").textContent =
    `${info.num_docs} documents · ${info.backend} · text fields: ` +
    `${info.text_fields.join(", ") || "none"}`;
  $("fields-table").tBodies[0].replaceChildren(
    ...info.fields.map((f) =>
      el("tr", {}, el("td", { text: f.name }), el("td", { text: f.type }),
        el("td", { text: f.kind }), el("td", { text: f.filterable ? "yes" : "" }),
        el("td", { text: f.media ? `${f.media} (${f.media_source})` : "" })))
  );
  $("vectors-table").tBodies[0].replaceChildren(
    ...info.vector_fields.map((v) =>
      el("tr", {}, el("td", { text: v.name }), el("td", { text: v.dim ?? "?" }),
        el("td", { text: v.metric }),
        el("td", { text: v.higher_is_better ? "higher is better" : "lower is better" }),
        el("td", { text: v.encoder ? `${v.encoder.name} (${v.encoder.modalities.join(", ")})` : "" })))
  );
  $("text-field").replaceChildren(
    option("", "(default)"), ...info.text_fields.map((n) => option(n, n, n === info.default_text_field)));
  $("vector-field").replaceChildren(
    option("", "(default)"),
    ...info.vector_fields.map((v) => option(v.name, v.name, v.name === info.default_vector_field)));
}

// ------------------------------------------------------------------ documents table

function mediaCell(info, doc, media, index) {
  const value = valueAt(doc, media.name);
  const base = `indexes/${enc(info.name)}/docs/${enc(doc.id)}`;
  const present = media.source === "tensor" ? index.tensorInfo[media.name] : value;
  if (!present) return el("td");
  const isRemote = typeof value === "string" && /^https?:\/\//i.test(value);
  if (media.kind === "image") {
    const src = isRemote ? value : `api/${base}/thumbnail/${enc(media.name)}?size=96`;
    return el("td", {}, el("img", { class: "thumb", src, alt: `${media.name} of ${doc.id}`, loading: "lazy" }));
  }
  const src = isRemote ? value : `api/${base}/media/${enc(media.name)}`;
  if (media.kind === "audio") return el("td", {}, el("audio", { controls: "", preload: "none", src }));
  if (media.source === "tensor") {
    const t = index.tensorInfo[media.name];
    return el("td", { class: "tensor", text: `video frames [${t.shape.join(", ")}] ${t.dtype}` });
  }
  const moment = info.moment;
  let fragment = "";
  if (moment && moment.video === media.name) {
    const start = Number(valueAt(doc, moment.start));
    const end = moment.end ? valueAt(doc, moment.end) : null;
    if (Number.isFinite(start)) fragment = end != null ? `#t=${start},${Number(end)}` : `#t=${start}`;
  }
  const video = el("video", { controls: "", preload: "metadata", src: src + fragment });
  if (fragment) video.dataset.start = String(valueAt(doc, moment.start));
  return el("td", {}, video);
}

function renderDocs(body) {
  const info = state.info;
  const media = info.media_fields;
  const mediaNames = new Set(media.map((m) => m.name));
  const scalars = info.fields.filter((f) =>
    ["str", "int", "float", "bool", "json"].includes(f.kind) && !mediaNames.has(f.name) &&
    f.name !== "id" && !f.name.endsWith("__id"));
  const tensors = info.fields.filter((f) => ["vector", "tensor"].includes(f.kind) && !mediaNames.has(f.name));
  const hasScores = Array.isArray(body.scores);
  const headers = ["id"];
  const head = el("tr", {}, el("th", { text: "id" }));
  if (hasScores) {
    head.append(el("th", { class: "score-header" }, `score (${body.score}) `,
      el("span", { class: "direction", text: body.score_label })));
  }
  for (const f of [...scalars, ...media, ...tensors]) {
    headers.push(f.name);
    head.append(el("th", { text: f.name }));
  }
  if (info.moment) head.append(el("th", { text: "moment" }));
  head.append(el("th"));
  $("docs-table").tHead.replaceChildren(head);
  const rows = body.documents.map((doc, i) => {
    const tensorInfo = body.tensor_info[i] || {};
    const row = el("tr", { "data-id": doc.id }, el("td", { text: doc.id }));
    if (hasScores) {
      const score = body.scores[i];
      row.append(el("td", { class: "score", text: score == null ? "" : score.toPrecision(4) }));
    }
    for (const f of scalars) {
      const v = valueAt(doc, f.name);
      row.append(el("td", { class: f.kind === "str" ? "text" : "", text: v == null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v) }));
    }
    for (const m of media) row.append(mediaCell(info, doc, m, { tensorInfo }));
    for (const f of tensors) {
      const t = tensorInfo[f.name];
      row.append(el("td", { class: "tensor", text: t ? `[${t.shape.join(", ")}] ${t.dtype}` : "" }));
    }
    if (info.moment) {
      const start = valueAt(doc, info.moment.start);
      const end = info.moment.end ? valueAt(doc, info.moment.end) : null;
      row.append(el("td", { class: "moment", text: start == null ? "" : `${start} s` + (end == null ? "" : ` – ${end} s`) }));
    }
    const actions = el("td");
    if (info.default_vector_field || $("vector-field").value) {
      actions.append(el("button", { type: "button", class: "more-like-this", text: "more like this",
        onclick: () => search({ like_id: doc.id }) }));
    }
    row.append(actions);
    return row;
  });
  $("docs-table").tBodies[0].replaceChildren(...rows);
}

async function showPage() {
  const info = state.info;
  try {
    const body = await api(`indexes/${enc(info.name)}/docs?offset=${state.offset}&limit=${state.pageSize}&tensors=summary`);
    $("results-title").textContent = "Documents";
    const last = Math.min(body.offset + body.documents.length, body.total);
    $("page-info").textContent = `${body.total ? body.offset + 1 : 0}–${last} of ${body.total}`;
    $("prev-page").disabled = state.offset === 0;
    $("next-page").disabled = last >= body.total;
    $("pager").hidden = false;
    setStatus("");
    renderDocs(body);
  } catch (err) {
    setStatus(err.message, true);
  }
}

// ------------------------------------------------------------------ filter builder

function fieldInfo(name) {
  return state.info.fields.find((f) => f.name === name);
}

function addFilterRow() {
  const fields = state.info.filter_fields;
  const field = el("select", { class: "filter-field", "aria-label": "filter field" }, ...fields.map((n) => option(n)));
  const op = el("select", { class: "filter-op", "aria-label": "filter operator" }, ...OPS.map((o) => option(o)));
  const value = el("input", { class: "filter-value", "aria-label": "filter value", placeholder: "value" });
  const row = el("div", { class: "filter-row" }, field, op, value,
    el("button", { type: "button", text: "×", "aria-label": "remove", onclick: () => { row.remove(); updateFilterPreview(); } }));
  for (const node of [field, op, value]) node.addEventListener("input", updateFilterPreview);
  $("filter-rows").append(row);
  updateFilterPreview();
  return row;
}

function parseValue(raw, kind, op) {
  if (op === "$exists") return !["false", "0", "no", ""].includes(raw.trim().toLowerCase());
  if (op === "$in" || op === "$nin") return raw.split(",").map((s) => parseValue(s.trim(), kind, "$eq")).filter((v) => v !== "");
  if (op === "$regex") return raw;
  if (kind === "int" || kind === "float") {
    const n = Number(raw);
    return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
  }
  if (kind === "bool") return ["true", "1", "yes"].includes(raw.trim().toLowerCase());
  return raw;
}

function currentFilter() {
  const filter = {};
  for (const row of document.querySelectorAll(".filter-row")) {
    const name = row.querySelector(".filter-field").value;
    const op = row.querySelector(".filter-op").value;
    const raw = row.querySelector(".filter-value").value;
    if (!name || (raw === "" && op !== "$exists")) continue;
    const kind = (fieldInfo(name) || {}).kind;
    filter[name] = Object.assign(filter[name] || {}, { [op]: parseValue(raw, kind, op) });
  }
  return Object.keys(filter).length ? filter : null;
}

function pyRepr(value) {
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return JSON.stringify(value).replace(/^"|"$/g, "'").replace(/\\"/g, '"');
  if (Array.isArray(value)) return "[" + value.map(pyRepr).join(", ") + "]";
  if (typeof value === "object") return "{" + Object.entries(value).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(", ") + "}";
  return String(value);
}

function pythonCall(req) {
  const filter = req.filter;
  const mode = resolveMode(req);
  const limit = req.limit ?? 10;
  const parts = [];
  const vf = req.vector_field || state.info.default_vector_field || "embedding";
  const tf = req.text_field || state.info.default_text_field || "text";
  if (mode === "vector" || mode === "hybrid") {
    const query = req.like_id != null ? `index[${pyRepr(req.like_id)}]` : req.text != null ? pyRepr(req.text) : "query_vector";
    parts.push(`.find(${query}, search_field=${pyRepr(vf)})`);
  }
  if (mode === "text" || mode === "hybrid") parts.push(`.text_search(${pyRepr(req.text ?? "")}, search_field=${pyRepr(tf)})`);
  if (mode === "filter") return `index.filter(${pyRepr(filter || {})}, limit=${limit})`;
  if (!filter && parts.length === 1) {
    return "index" + parts[0].replace(/\)$/, `, limit=${limit})`);
  }
  if (filter) parts.push(`.filter(${pyRepr(filter)})`);
  return "query = (index.build_query()\n    " + parts.join("\n    ") + `\n    .build(limit=${limit}))\nindex.execute_query(query)`;
}

function resolveMode(req) {
  if (req.mode) return req.mode;
  const hasVector = req.like_id != null || req.vector != null;
  if (req.text != null && hasVector) return "hybrid";
  if (hasVector) return "vector";
  return req.text != null ? "text" : "filter";
}

function searchRequest(extra = {}) {
  const req = { limit: Number($("search-limit").value) || 10, tensors: "summary" };
  const text = $("search-text").value.trim();
  const mode = $("search-mode").value;
  if (text && !extra.like_id) req.text = text;
  if (mode !== "auto" && !extra.like_id) req.mode = mode;
  if ($("text-field").value) req.text_field = $("text-field").value;
  if ($("vector-field").value) req.vector_field = $("vector-field").value;
  const filter = currentFilter();
  if (filter) req.filter = filter;
  return Object.assign(req, extra);
}

function updateFilterPreview() {
  const filter = currentFilter();
  $("filter-json").textContent = JSON.stringify(filter || {}, null, 2);
  $("filter-python").textContent = state.info ? pythonCall(searchRequest()) : "";
}

// ------------------------------------------------------------------ search

async function search(extra = {}) {
  const info = state.info;
  const req = searchRequest(extra);
  const file = $("search-image").files[0];
  try {
    setStatus("searching…");
    let body;
    if (file && !extra.like_id) {
      const form = new FormData();
      form.append("file", file);
      form.append("limit", String(req.limit));
      form.append("tensors", "summary");
      if (req.vector_field) form.append("vector_field", req.vector_field);
      if (req.filter) form.append("filter", JSON.stringify(req.filter));
      body = await api(`indexes/${enc(info.name)}/search/image`, { method: "POST", body: form });
    } else {
      body = await api(`indexes/${enc(info.name)}/search`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(req),
      });
    }
    state.lastSearch = req;
    $("results-title").textContent = extra.like_id ? `More like ${extra.like_id}` : "Results";
    $("pager").hidden = true;
    $("filter-python").textContent = pythonCall(req);
    setStatus(`${body.documents.length} results · ${body.mode}` + (body.score_label ? ` · scores: ${body.score}, ${body.score_label}` : ""));
    renderDocs(body);
  } catch (err) {
    setStatus(err.message, true);
  }
}

$("search-form").addEventListener("submit", (event) => { event.preventDefault(); search(); });
$("search-text").addEventListener("input", updateFilterPreview);
$("search-mode").addEventListener("change", updateFilterPreview);
$("add-filter").addEventListener("click", addFilterRow);
$("clear-button").addEventListener("click", () => { state.offset = 0; $("search-image").value = ""; showPage(); });
$("prev-page").addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.pageSize); showPage(); });
$("next-page").addEventListener("click", () => { state.offset += state.pageSize; showPage(); });
loadIndexes().catch((err) => setStatus(err.message, true));
