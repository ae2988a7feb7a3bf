// The store dashboard: every chart is drawn from its JSON API endpoint for the chosen period and
// camera, and redrawn when the live stream says the event store changed (no page reload).
"use strict";

const GENDER_COLOURS = { female: "#d6336c", male: "#1f6feb", unknown: "#9aa3b2" };
const PLOT_CONFIG = { displayModeBar: false, responsive: true };
const MARGIN = { l: 50, r: 10, t: 10, b: 50 };
let role = "staff";
let refreshes = 0;

const $ = (id) => document.getElementById(id);

function utcMinute(date) {
  return date.toISOString().slice(0, 16);
}

function readPeriod() {
  const query = new URLSearchParams(location.search);
  const today = new Date();
  today.setUTCHours(0, 0, 0, 0);
  const tomorrow = new Date(today.getTime() + 86400e3);
  $("start").value = query.get("start") || utcMinute(today);
  $("end").value = query.get("end") || utcMinute(tomorrow);
  return query.get("camera") || "";
}

function periodQuery() {
  const query = new URLSearchParams();
  for (const id of ["start", "end", "camera"]) if ($(id).value) query.set(id, $(id).value);
  return query.toString();
}

async function getJson(path) {
  const response = await fetch(`${path}${path.includes("?") ? "&" : "?"}${periodQuery()}`);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

function cell(text, numeric) {
  const td = document.createElement("td");
  td.textContent = text;
  if (numeric) td.className = "num";
  return td;
}

function fillTable(table, headers, rows) {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  headers.forEach(([label, numeric]) => {
    const th = document.createElement("th");
    th.textContent = label;
    if (numeric) th.className = "num";
    head.appendChild(th);
  });
  const body = table.createTBody();
  if (!rows.length) {
    const td = cell("no visits in this period");
    td.colSpan = headers.length;
    body.insertRow().appendChild(td);
  }
  rows.forEach((row) => {
    const tr = body.insertRow();
    row.forEach((value, i) => tr.appendChild(cell(value, headers[i][1])));
  });
}

function countAxis(title, values) {
  // whole numbers only: nobody counts half a customer
  const top = Math.max(1, ...values);
  return { title: { text: title }, rangemode: "tozero", tick0: 0, dtick: Math.max(1, Math.ceil(top / 8)) };
}

function plot(id, traces, layout) {
  return Plotly.react($(id), traces, { margin: MARGIN, ...layout }, PLOT_CONFIG);
}

async function drawSummary() {
  const s = await getJson("/api/summary");
  $("tile-now").textContent = s.customers_now;
  $("hint-now").textContent = `seen in the last ${Math.round(s.now_window_s / 60)} min`;
  $("tile-today").textContent = s.customers_today;
  $("tile-customers").textContent = s.customers;
  $("tile-new").textContent = s.new_customers;
  $("tile-repeat").textContent = s.repeat_customers;
  $("tile-female").textContent = s.female_share === null ? "–" : `${Math.round(100 * s.female_share)} %`;
  $("tile-events").textContent = s.events;
  $("hint-events").textContent = `${s.unidentified_events} without face ID yet`;
  const buckets = Object.keys(s.gender_by_age);
  const traces = Object.keys(GENDER_COLOURS).map((gender) => ({
    type: "bar",
    name: gender,
    x: buckets,
    y: buckets.map((b) => s.gender_by_age[b][gender]),
    marker: { color: GENDER_COLOURS[gender] },
  }));
  await plot("chart-age-gender", traces, {
    barmode: "stack",
    xaxis: { title: { text: "age (years)" } },
    yaxis: countAxis("customers", buckets.map((b) => Object.values(s.gender_by_age[b]).reduce((a, n) => a + n, 0))),
  });
}

async function drawHours() {
  const rows = await getJson("/api/visits_per_hour");
  await plot("chart-hours", [{ type: "bar", x: rows.map((r) => r.hour), y: rows.map((r) => r.visits), marker: { color: "#1f6feb" } }], {
    xaxis: { type: "date", title: { text: "hour (UTC)" } },
    yaxis: countAxis("store visits", rows.map((r) => r.visits)),
  });
}

async function drawRepeat() {
  const rows = await getJson("/api/repeat?by=day");
  const days = rows.map((r) => r.period);
  await plot("chart-repeat", [
    { type: "bar", name: "new", x: days, y: rows.map((r) => r.new), marker: { color: "#f59f00" } },
    { type: "bar", name: "returning", x: days, y: rows.map((r) => r.returning), marker: { color: "#2b8a3e" } },
  ], { barmode: "stack", xaxis: { type: "category", title: { text: "day (UTC)" } }, yaxis: countAxis("customers", rows.map((r) => r.customers)) });
}

function bucketLabel(group) {
  // face_report's "25-34 female" / "unknown unknown" in words a manager reads at a glance
  const [age, gender] = group.split(" ");
  return `${age === "unknown" ? "age unknown" : `aged ${age}`}, ${gender === "unknown" ? "gender unknown" : gender}`;
}

async function drawDwell() {
  const d = await getJson("/api/dwell");
  await plot("chart-dwell", d.by_camera.map((g) => ({ type: "box", name: g.group, y: g.dwell_s, boxpoints: "all", jitter: 0.4 })), {
    showlegend: false,
    yaxis: { title: { text: "seconds per visit" }, rangemode: "tozero" },
  });
  const rows = [...d.by_camera.map((g) => ({ ...g, label: g.group })), ...d.by_bucket.map((g) => ({ ...g, label: bucketLabel(g.group) }))]
    .map((g) => [g.label, g.count, g.median_s.toFixed(1), g.p90_s.toFixed(1)]);
  fillTable($("table-dwell"), [["camera / age and gender"], ["visits", true], ["median s", true], ["90 % under s", true]], rows);
}

async function drawAgeByFace() {
  const profiles = (await getJson("/api/age_by_face")).filter((p) => p.ages.length);
  const ids = profiles.map((p) => String(p.face_id));
  await plot("chart-age-face", [
    {
      type: "box", name: "estimates", x: profiles.flatMap((p) => p.ages.map(() => String(p.face_id))), y: profiles.flatMap((p) => p.ages),
      boxpoints: "all", jitter: 0.5, pointpos: 0, fillcolor: "rgba(0,0,0,0)", line: { width: 0 }, marker: { size: 4, color: "#1f6feb", opacity: 0.5 },
    },
    { type: "scatter", mode: "markers", name: "median", x: ids, y: profiles.map((p) => p.median_age), marker: { symbol: "line-ew-open", size: 24, color: "#000", line: { width: 3 } } },
  ], { showlegend: false, xaxis: { type: "category", title: { text: "face ID" } }, yaxis: { title: { text: "estimated age (years)" } } });
  const links = $("face-links");
  links.replaceChildren();
  if (role === "admin" && profiles.length) {
    links.append("Per-ID pages (admin): ");
    profiles.forEach((p) => {
      const a = document.createElement("a");
      a.href = `/faces/${p.face_id}`;
      a.textContent = p.face_id;
      links.append(a, " ");
    });
  }
}

async function drawHeatmaps() {
  const chosen = $("camera").value;
  const cameras = chosen ? [chosen] : [...$("camera").options].map((o) => o.value).filter(Boolean);
  const box = $("heatmaps");
  const figures = await Promise.all(cameras.map(async (camera) => {
    const h = await getJson(`/api/heatmap/${encodeURIComponent(camera)}`);
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.alt = `heat map of ${camera}`;
    img.src = `/api/heatmap/${encodeURIComponent(camera)}.png?${periodQuery()}&v=${refreshes}`;
    const caption = document.createElement("figcaption");
    caption.dataset.camera = camera;
    caption.dataset.events = h.events;
    const minutes = h.face_seconds / 60;
    caption.textContent = `${camera}: ${h.events} sightings, faces in view ${minutes < 1 ? `${Math.round(h.face_seconds)} s` : `${minutes.toFixed(1)} min`} in all`;
    figure.append(img, caption);
    return figure;
  }));
  box.replaceChildren(...figures);
  // drawn means shown: wait for the pictures (a failed one is left to the browser's broken-image mark)
  await Promise.all(figures.map((f) => f.querySelector("img").decode().catch(() => undefined)));
}

async function drawJourneys() {
  const j = await getJson("/api/journeys");
  fillTable($("table-journeys"), [["journey"], ["visits", true]], j.journeys.map((r) => [r.cameras.join(" → "), r.visits]));
  await plot("chart-transitions", [{
    type: "heatmap", x: j.cameras, y: j.cameras, z: j.matrix, colorscale: [[0, "#f4f6fa"], [1, "#1f6feb"]], showscale: false,
    text: j.matrix.map((row) => row.map(String)), texttemplate: "%{text}", hovertemplate: "%{y} → %{x}: %{z}<extra></extra>",
  }], { xaxis: { title: { text: "to camera" }, type: "category" }, yaxis: { title: { text: "from camera" }, type: "category", autorange: "reversed" } });
}

async function drawCameras(selected) {
  const cameras = await (await fetch("/api/cameras")).json();
  const select = $("camera");
  select.replaceChildren(new Option("All cameras", ""), ...cameras.map((c) => new Option(c, c)));
  select.value = cameras.includes(selected) ? selected : "";
}

async function drawStreams() {
  const cameras = await (await fetch("/api/streams")).json();
  $("streams").replaceChildren(...cameras.map((camera) => {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = `/api/stream/${encodeURIComponent(camera)}.mjpg`;
    img.alt = `live picture of ${camera}`;
    const caption = document.createElement("figcaption");
    caption.textContent = camera;
    figure.append(img, caption);
    return figure;
  }));
  $("streams-card").hidden = !cameras.length;
}

async function refresh() {
  await Promise.all([drawSummary(), drawHours(), drawRepeat(), drawDwell(), drawAgeByFace(), drawHeatmaps(), drawJourneys()]);
  refreshes += 1;
  document.body.dataset.refreshes = refreshes;
  $("live").dataset.updated = new Date().toISOString();
}

function listen() {
  const badge = $("live");
  const source = new EventSource("/api/live");
  let drawing = null;
  let again = false;
  source.onmessage = async () => {
    if (drawing) { again = true; return; }  // one redraw at a time; one more if events came meanwhile
    do {
      again = false;
      drawing = refresh();
      try { await drawing; } finally { drawing = null; }
    } while (again);
    badge.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
  };
  source.onopen = () => { badge.className = "badge on"; badge.textContent = "live"; };
  source.onerror = () => { badge.className = "badge off"; badge.textContent = "disconnected: retrying"; };
}

async function main() {
  const camera = readPeriod();
  role = (await (await fetch("/api/me")).json()).role;
  $("role").textContent = `signed in as ${role}`;
  await drawCameras(camera);
  await drawStreams();
  $("period").addEventListener("submit", (event) => {
    event.preventDefault();
    history.replaceState(null, "", `?${periodQuery()}`);
    refresh();
  });
  $("today").addEventListener("click", () => {
    history.replaceState(null, "", location.pathname);
    readPeriod();
    refresh();
  });
  listen();  // its first message draws the page
}

main();
