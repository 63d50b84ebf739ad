// oak dashboard: plain JavaScript over oak-root's REST API (/api/..., see
// /api/openapi.json). Tokens live in sessionStorage; every view is redrawn
// from a poll every POLL_MS; CPU and memory series are kept here, in the
// browser, from those polls.
"use strict";

const POLL_MS = 2000;
const SERIES_MAX = 60; // points per instance: 2 minutes at POLL_MS

const state = {
  token: sessionStorage.getItem("oak.token"),
  refresh: sessionStorage.getItem("oak.refresh"),
  user: sessionStorage.getItem("oak.user"),
  apps: [],
  services: [],
  clusters: [],
  nodes: new Map(), // cluster_id -> its nodes (GET /api/cluster/<id>/nodes)
  series: new Map(), // "sid/n" -> [{t, cpu, mem}]
  logsOf: null, // "sid/n" whose logs are shown
  armed: new Set(), // services whose Delete was clicked once
  timer: null,
};

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, props = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const kid of kids) e.append(kid instanceof Node ? kid : document.createTextNode(kid ?? ""));
  return e;
};
const SVG = "http://www.w3.org/2000/svg";
const svg = (tag, attrs = {}, text) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};
const oid = (d) => (d && d._id && d._id.$oid) || d.microserviceID || d.applicationID || "";

// ------------------------------------------------------------ the API

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || "HTTP " + status);
    this.status = status;
    this.field = body && body.field;
  }
}

async function call(method, path, body, token) {
  const headers = {};
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let js = null;
  try {
    js = text ? JSON.parse(text) : null;
  } catch (e) {
    js = { message: text.slice(0, 200) };
  }
  if (!r.ok) throw new ApiError(r.status, js);
  return js;
}

// an access token expires after access_token_ttl: refresh once, then retry
async function api(method, path, body) {
  try {
    return await call(method, path, body, state.token);
  } catch (e) {
    if (e.status !== 401 || !state.refresh) throw e;
    const r = await call("POST", "/api/auth/refresh", undefined, state.refresh).catch(() => null);
    if (!r || !r.token) {
      logout("session expired: log in again");
      throw e;
    }
    state.token = r.token;
    sessionStorage.setItem("oak.token", r.token);
    return call(method, path, body, state.token);
  }
}

// ------------------------------------------------------------ views

function show(view) {
  if (!state.token) view = "login";
  else if (view === "login" || !$("#view-" + view)) view = "services";
  for (const s of document.querySelectorAll(".view")) s.hidden = s.id !== "view-" + view;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === view);
  $("#nav").hidden = $("#logout").hidden = !state.token;
  $("#who").textContent = state.token ? state.user : "";
}

function route() {
  show(location.hash.slice(1) || "services");
}

async function login(ev) {
  ev.preventDefault();
  const username = $("#login-user").value.trim();
  $("#login-error").textContent = "";
  try {
    const r = await call("POST", "/api/auth/login", { username, password: $("#login-password").value });
    state.token = r.token;
    state.refresh = r.refresh_token;
    state.user = username;
    sessionStorage.setItem("oak.token", r.token);
    sessionStorage.setItem("oak.refresh", r.refresh_token);
    sessionStorage.setItem("oak.user", username);
    $("#login-password").value = "";
    start();
  } catch (e) {
    $("#login-error").textContent = e.message;
  }
}

function logout(why) {
  state.token = state.refresh = state.user = null;
  sessionStorage.clear();
  clearInterval(state.timer);
  state.timer = null;
  show("login");
  $("#login-error").textContent = typeof why === "string" ? why : "";
}

// ------------------------------------------------------------ polling

async function poll() {
  if (!state.token) return;
  try {
    const [apps, services, clusters] = await Promise.all([
      api("GET", "/api/applications"),
      api("GET", "/api/services"),
      api("GET", "/api/clusters"),
    ]);
    state.apps = apps || [];
    state.services = services || [];
    state.clusters = clusters || [];
    const lists = await Promise.all(
      state.clusters.map((c) => api("GET", "/api/cluster/" + encodeURIComponent(c.cluster_id) + "/nodes").catch(() => []))
    );
    state.nodes = new Map(state.clusters.map((c, i) => [c.cluster_id, lists[i] || []]));
    record();
    renderServices();
    renderInstances();
    renderClusters();
    $("#services-error").textContent = "";
    $("#status-line").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    $("#status-line").textContent = "poll failed: " + e.message;
  }
}

function instances() {
  const out = [];
  for (const s of state.services)
    for (const i of s.instance_list || []) out.push({ svc: s, inst: i, key: oid(s) + "/" + i.instance_number });
  return out;
}

function record() {
  const now = Date.now();
  const live = new Set();
  for (const { inst, key } of instances()) {
    live.add(key);
    const s = state.series.get(key) || [];
    s.push({ t: now, cpu: Number(inst.cpu_percent) || 0, mem: Number(inst.memory_percent) || 0 });
    if (s.length > SERIES_MAX) s.shift();
    state.series.set(key, s);
  }
  for (const k of state.series.keys()) if (!live.has(k)) state.series.delete(k);
}

function start() {
  route();
  if (location.hash === "" || location.hash === "#login") location.hash = "#services";
  clearInterval(state.timer);
  state.timer = setInterval(poll, POLL_MS);
  poll();
  renderUsers();
}

// ------------------------------------------------------------ services

function appOf(svc) {
  return state.apps.find((a) => oid(a) === svc.applicationID);
}

function running(svc) {
  return (svc.instance_list || []).filter((i) => i.status === "RUNNING").length;
}

async function scale(svc, input) {
  const n = Number(input.value);
  const err = input.parentElement.querySelector(".field-error");
  err.textContent = "";
  try {
    await api("POST", "/api/service/" + oid(svc) + "/instance", { replicas: Number.isInteger(n) ? n : input.value });
    poll();
  } catch (e) {
    err.textContent = e.message;
  }
}

// deleting the last service of an application deletes the application
// (its name can be used again)
async function remove(svc, button) {
  if (!state.armed.has(oid(svc))) {
    state.armed.add(oid(svc));
    button.textContent = "Confirm delete";
    return;
  }
  state.armed.delete(oid(svc));
  const app = appOf(svc);
  try {
    if (app && (app.microservices || []).length <= 1) await api("DELETE", "/api/application/" + oid(app));
    else await api("DELETE", "/api/service/" + oid(svc));
    poll();
  } catch (e) {
    $("#services-error").textContent = e.message;
  }
}

function renderServices() {
  const body = $("#services-table tbody");
  const a = document.activeElement;
  if (a && a.tagName === "INPUT" && a.closest("#services-table")) return; // the user is typing
  body.replaceChildren();
  for (const s of state.services) {
    const input = el("input", { class: "replicas", type: "number", min: "0", value: String(s.replicas ?? 0) });
    const row = el(
      "tr",
      { dataset: { sid: oid(s), name: s.microservice_name } },
      el("td", {}, s.app_name || ""),
      el("td", {}, s.microservice_name + "." + (s.microservice_namespace || "")),
      el("td", { class: "ip" }, s.rr_ip || "-"),
      el("td", { class: "ip" }, s.closest_ip || "-"),
      el("td", { class: "status " + (s.status || "").toLowerCase() }, s.status || ""),
      el("td", { class: "count" }, running(s) + " / " + (s.replicas ?? 0)),
      el(
        "td",
        { class: "scale" },
        input,
        el("button", { class: "scale-button", onclick: () => scale(s, input) }, "Scale"),
        el("span", { class: "field-error" })
      ),
      el("td", {}, el("button", { class: "delete-button danger", onclick: (ev) => remove(s, ev.target) },
        state.armed.has(oid(s)) ? "Confirm delete" : "Delete"))
    );
    body.append(row);
  }
  $("#services-empty").hidden = state.services.length > 0;
}

// ------------------------------------------------------------ instances

// a small line chart of one series (values 0..100) as SVG
function chart(points, key, label) {
  const w = 120, h = 28;
  const s = svg("svg", { class: "chart", width: w, height: h, viewBox: `0 0 ${w} ${h}`, "aria-label": label });
  s.append(svg("rect", { x: 0, y: 0, width: w, height: h, class: "chart-bg" }));
  if (points.length) {
    const max = Math.max(100, ...points.map((p) => p[key]));
    // a short series spreads over the chart, a long one scrolls (SERIES_MAX)
    const step = w / Math.max(9, points.length - 1);
    const off = w - step * (points.length - 1);
    const d = points.map((p, i) => `${i ? "L" : "M"}${(off + i * step).toFixed(1)},${(h - 2 - (p[key] / max) * (h - 4)).toFixed(1)}`).join(" ");
    s.append(svg("path", { d, class: "chart-line " + key }));
  }
  const last = points.length ? points[points.length - 1][key] : 0;
  return el("span", { class: "metric" }, s, el("span", { class: "value" }, last.toFixed(1)));
}

function logsText(inst) {
  if (Array.isArray(inst.logs)) return inst.logs.join("\n");
  return inst.logs || "";
}

function renderInstances() {
  const body = $("#instances-table tbody");
  const all = instances();
  body.replaceChildren();
  for (const { svc, inst, key } of all) {
    const pts = state.series.get(key) || [];
    body.append(
      el(
        "tr",
        { dataset: { key, status: inst.status || "" } },
        el("td", {}, svc.microservice_name),
        el("td", {}, String(inst.instance_number)),
        el("td", { class: "status " + (inst.status || "").toLowerCase(), title: inst.status_detail || "" }, inst.status || ""),
        el("td", {}, inst.cluster_id || "-"),
        el("td", {}, inst.worker_id || "-"),
        el("td", { class: "ip" }, inst.instance_ip || "-"),
        el("td", {}, chart(pts, "cpu", "CPU %")),
        el("td", {}, chart(pts, "mem", "memory %")),
        el("td", {}, el("button", { class: "logs-button", onclick: () => { state.logsOf = key; renderLogs(); } }, "Logs"))
      )
    );
  }
  $("#instances-empty").hidden = all.length > 0;
  renderLogs();
}

function renderLogs() {
  const found = instances().find((x) => x.key === state.logsOf);
  $("#logs").hidden = !found;
  if (!found) return;
  $("#logs-title").textContent = `logs of ${found.svc.microservice_name}/${found.inst.instance_number}`;
  const text = logsText(found.inst);
  $("#logs-text").textContent = text || "(the root holds no log lines for this instance)";
}

// ------------------------------------------------------------ deploy

// "applications[0].microservices[0].memory" -> "memory"
function shortField(f) {
  return (f || "").replace(/^applications\[\d+\]\.?/, "").replace(/^microservices\[\d+\]\.?/, "");
}

function clearFieldErrors(form) {
  for (const e of form.querySelectorAll(".field-error")) e.textContent = "";
  for (const e of form.querySelectorAll(".invalid")) e.classList.remove("invalid");
}

function fieldError(form, field, message) {
  const input = form.querySelector(`[data-field="${CSS.escape(shortField(field))}"]`);
  if (!input) return false;
  input.classList.add("invalid");
  input.parentElement.querySelector(".field-error").textContent = message;
  return true;
}

const numberOr = (v) => (v.trim() !== "" && !isNaN(Number(v)) ? Number(v) : v);

function formSla() {
  const v = (id) => $(id).value;
  const ms = {
    microserviceID: "",
    microservice_name: v("#f-name").trim(),
    microservice_namespace: v("#f-ns").trim(),
    virtualization: v("#f-virt"),
    code: v("#f-code").trim(),
    cmd: v("#f-cmd").split("\n").map((x) => x.trim()).filter((x) => x),
    memory: numberOr(v("#f-memory")),
    vcpus: numberOr(v("#f-vcpus")),
    vgpus: 0,
    vtpus: 0,
    bandwidth_in: 0,
    bandwidth_out: 0,
    storage: 0,
    state: "",
    port: v("#f-port").trim(),
    added_files: [],
    replicas: numberOr(v("#f-replicas")),
  };
  if (v("#f-rr").trim()) ms.addresses = { rr_ip: v("#f-rr").trim() };
  return {
    sla_version: "v2.0",
    customerID: state.user || "",
    applications: [
      {
        applicationID: "",
        application_name: v("#f-app").trim(),
        application_namespace: v("#f-app-ns").trim(),
        application_desc: "deployed from the dashboard",
        microservices: [ms],
      },
    ],
  };
}

// POST the SLA without "replicas" (oak-root registers; nothing runs yet),
// then set every new service's replicas (default 1), as oakctl apply does
function replicasOf(sla) {
  const want = new Map();
  for (const a of sla.applications || [])
    for (const m of a.microservices || []) {
      const r = m.replicas === undefined ? 1 : m.replicas;
      if (!Number.isInteger(r) || r < 0 || r > 1024) {
        const i = sla.applications.indexOf(a), j = a.microservices.indexOf(m);
        throw new ApiError(400, { message: `applications[${i}].microservices[${j}].replicas: a whole number 0..1024`, field: `applications[${i}].microservices[${j}].replicas` });
      }
      want.set(a.application_name + "/" + m.microservice_name, r);
      delete m.replicas;
    }
  return want;
}

async function deploySla(sla) {
  const want = replicasOf(sla);
  const r = await api("POST", "/api/application", sla);
  const apps = Array.isArray(r) ? r : r.applications || [];
  const names = [];
  for (const a of apps)
    for (const entry of a.microservices || []) {
      const sid = typeof entry === "string" ? entry : oid(entry);
      const s = await api("GET", "/api/service/" + sid);
      const n = want.get(a.application_name + "/" + s.microservice_name) ?? 1;
      await api("POST", "/api/service/" + sid + "/instance", { replicas: n });
      names.push(`${s.microservice_name} (${n})`);
    }
  return names;
}

async function submitForm(ev) {
  ev.preventDefault();
  const form = $("#deploy-form");
  clearFieldErrors(form);
  $("#deploy-error").textContent = $("#deploy-ok").textContent = "";
  try {
    const names = await deploySla(formSla());
    $("#deploy-ok").textContent = "deployed: " + names.join(", ");
    poll();
  } catch (e) {
    if (!fieldError(form, e.field, e.message)) $("#deploy-error").textContent = e.message;
  }
}

async function submitUpload(ev) {
  ev.preventDefault();
  const text = $("#sla-text");
  const err = $("#sla-error");
  err.textContent = $("#deploy-ok").textContent = "";
  text.classList.remove("invalid");
  let sla;
  try {
    sla = JSON.parse(text.value);
  } catch (e) {
    text.classList.add("invalid");
    err.textContent = "not JSON: " + e.message;
    return;
  }
  try {
    const names = await deploySla(sla);
    $("#deploy-ok").textContent = "deployed: " + names.join(", ");
    poll();
  } catch (e) {
    text.classList.add("invalid");
    err.textContent = e.message;
    err.dataset.field = e.field || "";
    selectField(text, e.field);
  }
}

// put the cursor on the failing key in the SLA text, when it is there
function selectField(area, field) {
  const key = (field || "").split(".").pop().replace(/\[\d+\]$/, "");
  if (!key) return;
  const at = area.value.indexOf('"' + key + '"');
  if (at < 0) return;
  area.focus(); // shows the selection, scrolled into view
  area.setSelectionRange(at, at + key.length + 2);
}

function readFile() {
  const f = $("#sla-file").files[0];
  if (!f) return;
  f.text().then((t) => ($("#sla-text").value = t));
}

// ------------------------------------------------------------ clusters

function location_(c) {
  const m = /^\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)/.exec(c.cluster_location || "");
  return m ? { lat: Number(m[1]), lon: Number(m[2]) } : null;
}

// equirectangular around the clusters' box (longitudes shrunk by
// cos(mid latitude)), with a graticule; no tiles
function renderClusters() {
  const map = $("#map");
  const W = 800, H = 500, PAD = 60;
  const placed = state.clusters.map((c) => ({ c, at: location_(c) })).filter((x) => x.at);
  map.replaceChildren();
  map.append(svg("rect", { x: 0, y: 0, width: W, height: H, class: "sea" }));
  let lat0 = 47, lat1 = 55, lon0 = 5, lon1 = 15; // central Europe when nothing is placed
  if (placed.length) {
    lat0 = Math.min(...placed.map((x) => x.at.lat));
    lat1 = Math.max(...placed.map((x) => x.at.lat));
    lon0 = Math.min(...placed.map((x) => x.at.lon));
    lon1 = Math.max(...placed.map((x) => x.at.lon));
  }
  const k = Math.cos((((lat0 + lat1) / 2) * Math.PI) / 180);
  let spanLat = Math.max(lat1 - lat0, 2), spanLon = Math.max((lon1 - lon0) * k, 2);
  const scale = Math.min((W - 2 * PAD) / spanLon, (H - 2 * PAD) / spanLat);
  const cx = (lon0 + lon1) / 2, cy = (lat0 + lat1) / 2;
  const x = (lon) => W / 2 + (lon - cx) * k * scale;
  const y = (lat) => H / 2 - (lat - cy) * scale;

  const stepDeg = [1, 2, 5, 10, 20, 30].find((s) => s * scale >= 60) || 30;
  for (let lat = Math.floor((cy - H / 2 / scale) / stepDeg) * stepDeg; lat <= cy + H / 2 / scale; lat += stepDeg) {
    map.append(svg("line", { x1: 0, x2: W, y1: y(lat), y2: y(lat), class: "grid" }));
    map.append(svg("text", { x: 4, y: y(lat) - 3, class: "grid-label" }, lat.toFixed(0) + "°N"));
  }
  for (let lon = Math.floor((cx - W / 2 / scale / k) / stepDeg) * stepDeg; lon <= cx + W / 2 / scale / k; lon += stepDeg) {
    map.append(svg("line", { y1: 0, y2: H, x1: x(lon), x2: x(lon), class: "grid" }));
    map.append(svg("text", { y: H - 4, x: x(lon) + 3, class: "grid-label" }, lon.toFixed(0) + "°E"));
  }
  // nodes at their locations; nodes that share a point (a site) fan out
  // on a small ring around it, each tied to the point by a line
  const sites = new Map();
  for (const list of state.nodes.values())
    for (const n of list) {
      if (!n.location) continue;
      const k = n.location.lat.toFixed(3) + "," + n.location.lon.toFixed(3);
      if (!sites.has(k)) sites.set(k, []);
      sites.get(k).push(n);
    }
  for (const group of sites.values()) {
    const px = x(group[0].location.lon), py = y(group[0].location.lat);
    group.forEach((n, i) => {
      const a = (2 * Math.PI * i) / group.length - Math.PI / 2;
      const R = group.length > 1 ? 58 : 0;
      const nx = px + R * Math.cos(a), ny = py + R * Math.sin(a);
      const g = svg("g", { class: "node " + (n.active ? "live" : "lost"), "data-node": n.node_id });
      if (R) g.append(svg("line", { x1: px, y1: py, x2: nx, y2: ny, class: "tie" }));
      g.append(svg("circle", { cx: nx, cy: ny, r: 6 + Math.min(4, n.instances || 0), class: "node-dot" }));
      g.append(svg("title", {}, `${n.node_id} (${n.cluster_id}): ${n.active ? "live" : "lost"}, CPU ${fmt(n.cpu_percent)} %, ` +
        `${fmt(n.vcpus_free)}/${n.vcpus} vCPU, ${n.memory_free_mb}/${n.memory_mb} MB free, ${n.instances} instances`));
      map.append(g);
    });
  }
  for (const { c, at } of placed) {
    const live = c.active && c.online !== false;
    const px = x(at.lon), py = y(at.lat);
    const g = svg("g", { class: "cluster " + (live ? "live" : "lost"), "data-cluster": c.cluster_name || c.cluster_id });
    if (c.radius_km > 0) g.append(svg("circle", { cx: px, cy: py, r: Math.max(4, (c.radius_km / 111) * scale), class: "radius" }));
    const used = c.vcpus_total > 0 ? 1 - c.vcpus_free / c.vcpus_total : 0;
    const r = 10 + Math.min(20, Math.sqrt(c.vcpus_total || 0) * 4);
    g.append(svg("circle", { cx: px, cy: py, r, class: "dot" }));
    // the used share of the vCPUs as an arc around the dot
    if (used > 0) {
      const a = Math.min(used, 0.999) * 2 * Math.PI, R = r + 4;
      g.append(svg("path", { class: "load", d: `M${px},${py - R} A${R},${R} 0 ${a > Math.PI ? 1 : 0} 1 ${px + R * Math.sin(a)},${py - R * Math.cos(a)}` }));
    }
    g.append(svg("text", { x: px + 72, y: py - 4, class: "name" }, c.cluster_name || c.cluster_id));
    g.append(svg("text", { x: px + 72, y: py + 12, class: "detail" },
      `${c.active_nodes ?? 0} nodes · ${fmt(c.vcpus_free)}/${fmt(c.vcpus_total)} vCPU · ${c.memory_free_mb ?? 0}/${c.memory_total_mb ?? 0} MB`));
    g.append(svg("title", {}, `${c.cluster_name || c.cluster_id}: ${live ? "live" : "not reporting"}, last report ${c.last_seen ? new Date(c.last_seen).toLocaleTimeString() : "never"}`));
    map.append(g);
  }
  const body = $("#clusters-table tbody");
  body.replaceChildren();
  for (const c of state.clusters) {
    const live = c.active && c.online !== false;
    body.append(
      el("tr", { dataset: { cluster: c.cluster_name || c.cluster_id } },
        el("td", {}, c.cluster_name || c.cluster_id),
        el("td", {}, c.cluster_location || "-"),
        el("td", { class: "status " + (live ? "running" : "failed") }, live ? "live" : "lost"),
        el("td", {}, String(c.active_nodes ?? 0)),
        el("td", {}, `${fmt(c.vcpus_free)} / ${fmt(c.vcpus_total)}`),
        el("td", {}, `${c.memory_free_mb ?? 0} / ${c.memory_total_mb ?? 0}`),
        el("td", {}, (c.virtualization || []).join(", ")))
    );
  }
  for (const g of [...map.querySelectorAll("g.node")]) map.append(g); // nodes on top
  const nbody = $("#nodes-table tbody");
  nbody.replaceChildren();
  for (const list of state.nodes.values())
    for (const n of list)
      nbody.append(
        el("tr", { dataset: { node: n.node_id } },
          el("td", {}, n.node_id),
          el("td", {}, n.cluster_id),
          el("td", {}, n.location ? `${n.location.lat},${n.location.lon}` : "-"),
          el("td", { class: "status " + (n.active ? "running" : "failed") }, n.active ? "live" : "lost"),
          el("td", {}, fmt(n.cpu_percent)),
          el("td", {}, `${fmt(n.vcpus_free)} / ${n.vcpus}`),
          el("td", {}, `${n.memory_free_mb} / ${n.memory_mb}`),
          el("td", {}, String(n.instances ?? 0)))
      );
  const unplaced = state.clusters.length - placed.length;
  $("#clusters-note").textContent = unplaced ? `${unplaced} cluster(s) without a location are not on the map.` : "";
}

const fmt = (v) => ((Number(v) || 0) % 1 ? (Number(v) || 0).toFixed(2) : String(Number(v) || 0));

// ------------------------------------------------------------ users

async function renderUsers() {
  const body = $("#users-table tbody");
  try {
    let users = await api("GET", "/api/users").catch(async (e) => {
      if (e.status !== 403) throw e;
      return [await api("GET", "/api/user/" + encodeURIComponent(state.user))];
    });
    body.replaceChildren();
    for (const u of users)
      body.append(el("tr", {}, el("td", {}, u.username), el("td", {}, u.email || ""),
        el("td", {}, (u.roles || []).map((r) => (typeof r === "string" ? r : r.name)).join(", "))));
  } catch (e) {
    $("#users-error").textContent = e.message;
  }
}

// ------------------------------------------------------------ wiring

$("#login-form").addEventListener("submit", login);
$("#logout").addEventListener("click", () => logout());
$("#deploy-form").addEventListener("submit", submitForm);
$("#upload-form").addEventListener("submit", submitUpload);
$("#sla-file").addEventListener("change", readFile);
window.addEventListener("hashchange", route);
if (state.token) start();
else show("login");
