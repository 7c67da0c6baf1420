// /godmode: one memory snapshot a second over SSE (/godmode/stream), drawn as a treemap
// (d3-hierarchy lays it out; the boxes are plain divs) plus tables and a two-minute history.
/* global d3 */
const $ = (id) => document.getElementById(id);
const HISTORY = 120;
const history = [];
let samples = 0;

const PALETTE = { "hub process": ["#f0883e", "#ffa657", "#d29922", "#e3b341", "#f2cc60", "#db6d28", "#bd561d"], "plugin runner": ["#58a6ff", "#79c0ff", "#a5d6ff", "#388bfd", "#1f6feb"] };

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "–";
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** The treemap's tree: RSS of each process, split into what is known inside it. */
function treeOf(snapshot) {
  const p = snapshot.process;
  const spaces = snapshot.heapSpaces.filter((s) => s.sizeBytes > 0).map((s) => ({ name: s.space.replace(/_space$/, ""), value: s.sizeBytes }));
  const heapSize = spaces.reduce((sum, s) => sum + s.value, 0);
  const hub = {
    name: "hub process",
    children: [
      { name: "V8 heap", children: spaces },
      { name: "array buffers", value: p.arrayBuffersBytes },
      { name: "external (native)", value: Math.max(0, p.externalBytes - p.arrayBuffersBytes) },
      { name: "code, stacks, native, free", value: Math.max(0, p.rssBytes - heapSize - p.externalBytes) },
    ],
  };
  const children = [hub];
  if (!snapshot.plugins.error) {
    const isolates = snapshot.plugins.isolates.filter((i) => !i.busy).map((i) => ({ name: i.plugin, value: i.totalHeapBytes + i.externalBytes }));
    const inIsolates = isolates.reduce((sum, i) => sum + i.value, 0);
    children.push({ name: "plugin runner", children: [...isolates, { name: "runner (Node, undici, cache)", value: Math.max(0, snapshot.plugins.rssBytes - inIsolates) }] });
  }
  return { name: "memory", children };
}

function drawTreemap(snapshot) {
  const box = $("treemap");
  const width = box.clientWidth;
  const height = box.clientHeight;
  const root = d3.hierarchy(treeOf(snapshot)).sum((d) => d.value ?? 0).sort((a, b) => b.value - a.value);
  d3.treemap().size([width, height]).paddingOuter(2).paddingTop((node) => (node.depth > 0 && node.children ? 16 : 2)).paddingInner(2).round(true)(root);
  const nodes = root.descendants().filter((node) => node.depth > 0);
  box.replaceChildren(...nodes.map((node) => {
    const top = node.ancestors().at(-2)?.data.name ?? "";
    const colors = PALETTE[top] ?? ["#8b949e"];
    const div = document.createElement("div");
    div.className = node.children ? "node group" : "node";
    div.dataset.name = node.data.name;
    div.dataset.bytes = String(node.value);
    Object.assign(div.style, { left: `${node.x0}px`, top: `${node.y0}px`, width: `${Math.max(0, node.x1 - node.x0)}px`, height: `${Math.max(0, node.y1 - node.y0)}px` });
    if (!node.children) div.style.background = colors[(node.parent?.children?.indexOf(node) ?? 0) % colors.length];
    div.title = `${node.ancestors().reverse().slice(1).map((n) => n.data.name).join(" › ")}: ${formatBytes(node.value)}`;
    div.append(node.data.name);
    const bytes = document.createElement("span");
    bytes.className = "bytes";
    bytes.textContent = formatBytes(node.value);
    div.append(bytes);
    return div;
  }));
}

function rows(tbody, items) {
  tbody.replaceChildren(...items.map((cells) => {
    const tr = document.createElement("tr");
    for (const [text, numeric] of cells) {
      const td = document.createElement("td");
      if (numeric) td.className = "num";
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }));
}

function drawHistory() {
  const svg = $("history");
  const max = Math.max(1, ...history.map((h) => h.rss));
  const line = (key, cls) => {
    // Right-aligned: the newest sample at the right edge, one step per second.
    const points = history.map((h, i) => `${600 - (history.length - 1 - i) * (600 / (HISTORY - 1))},${160 - (h[key] / max) * 150}`).join(" ");
    return `<polyline class="${cls}" points="${points}"></polyline>`;
  };
  svg.innerHTML = line("rss", "rss") + line("heap", "heap") + line("ext", "ext");
}

function render(snapshot) {
  samples++;
  const p = snapshot.process;
  $("rss").textContent = formatBytes(p.rssBytes);
  $("rss").dataset.bytes = String(p.rssBytes);
  $("heap-used").textContent = formatBytes(p.heapUsedBytes);
  $("heap-used").dataset.bytes = String(p.heapUsedBytes);
  const runner = snapshot.plugins;
  $("runner-rss").textContent = runner.error ? "not answering" : formatBytes(runner.rssBytes);
  $("runner-rss").dataset.bytes = String(runner.error ? 0 : runner.rssBytes);
  $("runner-pid").textContent = runner.error ? runner.error : `runner pid ${runner.pid}`;
  $("loop-p99").textContent = `${snapshot.eventLoop.p99Ms} ms`;
  $("gc").textContent = `${snapshot.gc.count} · ${snapshot.gc.totalMs} ms`;
  $("samples").textContent = `${samples} samples · ${new Date(snapshot.at).toLocaleTimeString()}`;
  $("samples").dataset.count = String(samples);
  $("samples").dataset.at = snapshot.at;

  drawTreemap(snapshot);
  history.push({ rss: p.rssBytes, heap: p.heapUsedBytes, ext: p.externalBytes });
  if (history.length > HISTORY) history.shift();
  drawHistory();

  rows($("stores").tBodies[0], snapshot.stores.map((s) => [[s.module], [s.store], [String(s.entries), true], [`${s.estimated ? "≈ " : ""}${formatBytes(s.bytes)}`, true]]));
  rows($("spaces").tBodies[0], snapshot.heapSpaces.map((s) => [[s.space], [formatBytes(s.usedBytes), true], [formatBytes(s.sizeBytes), true]]));
  rows($("isolates").tBodies[0], runner.error ? [] : runner.isolates.map((i) => i.busy
    ? [[i.plugin], ["busy", true], ["", true], ["", true]]
    : [[i.plugin], [formatBytes(i.usedHeapBytes), true], [formatBytes(i.totalHeapBytes), true], [formatBytes(i.limitBytes), true]]));
  const gcKinds = Object.entries(snapshot.gc.byKind).map(([kind, count]) => `${kind} ${count}`).join(", ") || "none";
  rows($("runtime").tBodies[0], [
    [["GC pauses"], [`${snapshot.gc.count} (${gcKinds})`, true]],
    [["GC pause total / max"], [`${snapshot.gc.totalMs} / ${snapshot.gc.maxMs} ms`, true]],
    [["event-loop delay p50 / p99 / max"], [`${snapshot.eventLoop.p50Ms} / ${snapshot.eventLoop.p99Ms} / ${snapshot.eventLoop.maxMs} ms`, true]],
    [["external / array buffers"], [`${formatBytes(p.externalBytes)} / ${formatBytes(p.arrayBuffersBytes)}`, true]],
  ]);
}

const status = (state, text) => {
  $("status").dataset.state = state;
  $("status").textContent = text;
};

const source = new EventSource("/godmode/stream");
source.addEventListener("open", () => status("live", "live"));
source.addEventListener("memory", (event) => render(JSON.parse(event.data)));
source.addEventListener("expired", () => {
  source.close();
  status("expired", "session expired: sign in again");
  location.href = `/admin?next=${encodeURIComponent("/godmode")}`;
});
// EventSource reconnects by itself; a 401 (signed out elsewhere) ends it for good.
source.addEventListener("error", () => status(source.readyState === EventSource.CLOSED ? "expired" : "stale", source.readyState === EventSource.CLOSED ? "disconnected: sign in again at /admin" : "reconnecting…"));
window.kefuGodmode = { samples: () => samples };
