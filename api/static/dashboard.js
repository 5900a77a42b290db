// OpenFrame Stream dashboard: plain DOM and hand-drawn SVG, no libraries. Everything from the API is
// written with textContent or SVG attributes, never as HTML, so event text cannot inject markup.
"use strict";

const KEY = "ofs.credential";
const API = "/api/v1";
const REFRESH_MS = 15000;
const SEVERITIES = ["CRITICAL", "ERROR", "WARNING", "INFO"];
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
let timer = null;

// A link like /dashboard#token=... (printed by `openframe-stream api token --dashboard`) signs in once;
// the fragment never reaches a server and is removed from the address bar at once.
function takeFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const credential = params.get("token") || params.get("apikey");
  if (credential) {
    sessionStorage.setItem(KEY, credential);
    history.replaceState(null, "", location.pathname);
  }
}

function headers() {
  const credential = sessionStorage.getItem(KEY) || "";
  return credential.startsWith("ofsk_") ? { "X-API-Key": credential } : { Authorization: "Bearer " + credential };
}

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function get(path) {
  const response = await fetch(API + path, { headers: headers(), cache: "no-store" });
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error.message; } catch (e) { /* not our error shape */ }
    throw new HttpError(response.status, message);
  }
  return response.json();
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function drawTimeChart(stats) {
  const svg = $("chart-time");
  clear(svg);
  const width = 900, height = 220, left = 44, bottom = 22, top = 8;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const buckets = stats.buckets;
  const max = Math.max(1, ...buckets.map((b) => b.total));
  const slot = (width - left) / Math.max(1, buckets.length);
  const scale = (height - bottom - top) / max;
  svg.appendChild(svgEl("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: "axis" }));
  svg.appendChild(svgEl("text", { x: 2, y: top + 10 }, max));
  svg.appendChild(svgEl("text", { x: 2, y: height - bottom }, 0));
  const order = [...SEVERITIES.filter((s) => stats.groups.includes(s)),
                 ...stats.groups.filter((g) => !SEVERITIES.includes(g))];
  buckets.forEach((bucket, i) => {
    let y = height - bottom;
    for (const group of order) {
      const n = bucket.counts[group] || 0;
      if (!n) continue;
      const h = n * scale;
      y -= h;
      const rect = svgEl("rect", { x: left + i * slot + 1, y, width: Math.max(1, slot - 2), height: h,
        class: "bar fill-" + (SEVERITIES.includes(group) ? group : "other"), "data-group": group });
      rect.appendChild(svgEl("title", {}, `${bucket.timestamp} ${group}: ${n}`));
      svg.appendChild(rect);
    }
  });
  const labels = Math.min(6, buckets.length);
  for (let k = 0; k < labels; k++) {
    const i = Math.floor((k * (buckets.length - 1)) / Math.max(1, labels - 1));
    const t = buckets[i].timestamp;
    const label = stats.interval === "day" ? t.slice(5, 10) : t.slice(11, 16);
    svg.appendChild(svgEl("text", { x: left + i * slot, y: height - 6 }, label));
  }
  const legend = $("legend");
  clear(legend);
  for (const group of order) {
    const item = el("span", null);
    item.appendChild(el("i", null, "sw-" + (SEVERITIES.includes(group) ? group : "other")));
    item.appendChild(document.createTextNode(group));
    legend.appendChild(item);
  }
}

function drawBars(svg, rows) {
  clear(svg);
  const width = 420, row = 22, labelWidth = 170;
  svg.setAttribute("viewBox", `0 0 ${width} ${Math.max(row, rows.length * row)}`);
  const max = Math.max(1, ...rows.map((r) => r.count));
  rows.forEach((r, i) => {
    svg.appendChild(svgEl("text", { x: 0, y: i * row + 15 }, r.label.length > 26 ? r.label.slice(0, 25) + "…" : r.label));
    const w = ((width - labelWidth - 50) * r.count) / max;
    const rect = svgEl("rect", { x: labelWidth, y: i * row + 4, width: Math.max(1, w), height: row - 8, class: "bar fill-bar" });
    rect.appendChild(svgEl("title", {}, `${r.label}: ${r.count}`));
    svg.appendChild(rect);
    svg.appendChild(svgEl("text", { x: labelWidth + w + 4, y: i * row + 15 }, r.count));
  });
}

function renderLatest(page) {
  const body = $("latest").tBodies[0];
  clear(body);
  for (const e of page.items) {
    const tr = el("tr", null);
    tr.appendChild(el("td", e.timestamp.replace("T", " ").slice(0, 19)));
    tr.appendChild(el("td", e.severity, "sev sev-" + e.severity));
    tr.appendChild(el("td", e.eventType));
    tr.appendChild(el("td", e.hostname || e.deviceId || "–"));
    const cell = el("td", null, "summary");
    const link = el("a", e.summary || e.eventType, "event");
    link.href = "#event=" + encodeURIComponent(e.toolEventId);
    link.dataset.eventId = e.toolEventId;
    link.addEventListener("click", (ev) => { ev.preventDefault(); showDetails(e.toolEventId); });
    cell.appendChild(link);
    tr.appendChild(cell);
    body.appendChild(tr);
  }
  if (!page.items.length) {
    const tr = el("tr", null);
    const td = el("td", "no critical or error events in the stored history");
    td.colSpan = 5;
    tr.appendChild(td);
    body.appendChild(tr);
  }
}

async function showDetails(id) {
  const panel = $("details");
  try {
    const e = await get("/logs/" + encodeURIComponent(id));
    const fields = $("details-fields");
    clear(fields);
    for (const k of ["toolEventId", "timestamp", "severity", "eventType", "toolType", "sourceEventType",
                     "deviceId", "hostname", "organizationName", "userId", "summary"]) {
      fields.appendChild(el("dt", k));
      fields.appendChild(el("dd", e[k] === null || e[k] === undefined ? "–" : e[k]));
    }
    $("details-message").textContent = e.message || "–";
    $("details-json").textContent = JSON.stringify(e.details, null, 2);
    panel.hidden = false;
    panel.dataset.eventId = id;
    panel.scrollIntoView({ block: "nearest" });
  } catch (err) {
    status("details: " + err.message, true);
  }
}

function status(text, bad) {
  const node = $("status");
  node.textContent = text;
  node.dataset.state = bad ? "error" : "ok";
}

function signedIn(yes) {
  $("login").hidden = yes;
  $("app").hidden = !yes;
  $("logout").hidden = !yes;
}

async function refresh() {
  const interval = $("range").value;
  try {
    const [stats, latest, lag] = await Promise.all([
      get(`/stats?interval=${interval}&groupBy=severity&top=10`),
      get("/logs?severities=CRITICAL,ERROR&limit=10"),
      get("/pipeline/lag").catch((err) => (err.status === 403 ? { lagMessages: null, forbidden: true } : Promise.reject(err))),
    ]);
    signedIn(true);
    drawTimeChart(stats);
    drawBars($("chart-types"), stats.topEventTypes.map((t) => ({ label: t.eventType, count: t.count })));
    drawBars($("chart-devices"), stats.topDevices.map((d) => ({ label: d.hostname || d.deviceId, count: d.count })));
    $("total").textContent = stats.total.toLocaleString();
    renderLatest(latest);
    $("lag").textContent = lag.lagMessages === null ? "n/a" : lag.lagMessages.toLocaleString();
    $("lag-note").textContent = lag.forbidden ? "needs the pipeline:read scope"
      : lag.lagMessages === null ? "the worker reports no lag (not running?)" : "messages behind, group " + lag.group;
    status("updated " + new Date().toISOString().slice(11, 19) + " UTC");
    document.body.dataset.ready = "1";
  } catch (err) {
    if (err.status === 401) {
      sessionStorage.removeItem(KEY);
      signedIn(false);
      status("signed out: credential rejected", true);
    } else {
      status("refresh failed: " + err.message, true);
    }
  }
}

function start() {
  takeFragment();
  $("login").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, $("credential").value.trim());
    $("credential").value = "";
    refresh();
  });
  $("logout").addEventListener("click", () => { sessionStorage.removeItem(KEY); signedIn(false); status("signed out"); });
  $("close-details").addEventListener("click", () => { $("details").hidden = true; });
  $("range").addEventListener("change", refresh);
  if (sessionStorage.getItem(KEY)) refresh(); else signedIn(false);
  timer = setInterval(() => { if (sessionStorage.getItem(KEY) && !document.hidden) refresh(); }, REFRESH_MS);
}

document.addEventListener("DOMContentLoaded", start);
