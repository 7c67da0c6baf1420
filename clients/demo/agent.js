// The agent console of the demo: the chat with a reply box, the session context (live, from
// `context` publications) and the order context (GET /v1/orders/{orderId}/context, on demand).
import { $, adminKey, api, connectLive, createChatLog, el, followSession, formatTime, showStatus, wireCompose } from "./demo-common.js";
import { renderOrder } from "./order-view.js";

const state = { live: undefined, agentId: "", sessionId: "", unfollow: undefined, context: undefined, version: 0, orderId: "" };
const log = createChatLog($("log"), (sender) => sender.type === "agent");
$("key").value = adminKey.get();

const facts = (pairs) => el("dl", { class: "facts" }, pairs.filter(([, value]) => value !== undefined && value !== null && value !== "").flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
const summary = (data) => Object.entries(data ?? {}).map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : value}`).join(", ");

function renderContext(context, version) {
  if (version < state.version) return;
  state.context = context;
  state.version = version;
  $("context-version").textContent = `v${version} · ${formatTime(context.updatedAt)}`;
  const profile = context.customer.profile;
  const counters = Object.entries(context.behavior.counters ?? {});
  const latest = Object.entries(context.behavior.latest ?? {});
  $("context").replaceChildren(
    el("div", { class: "risk-line" },
      el("span", { class: "badge", id: "risk-level", dataset: { level: context.risk.level } }, context.risk.level),
      el("span", { class: "reasons" }, context.risk.reasons.length ? context.risk.reasons.join(", ") : "no risk rule matches")),
    facts([
      ["customer", `${context.customer.id}${profile ? ` · ${profile.name} · ${profile.tier}` : ""}`],
      ["CRM risk", profile?.riskLevel],
      ["channel", context.channel],
      ["order", context.orderId],
      ["queue", context.routing ? `${context.routing.queue} (${context.routing.priority})` : undefined],
      ["state", `${context.state} · opened ${formatTime(context.openedAt)}`],
      ["messages", String(context.messageCount)],
    ]),
    el("h3", {}, "Counters"),
    counters.length ? el("table", { id: "counters" }, counters.map(([name, value]) => el("tr", {}, el("td", {}, name), el("td", { class: "num" }, String(value))))) : el("span", { class: "muted" }, "none"),
    el("h3", {}, "Latest values"),
    latest.length ? el("table", { id: "latest" }, latest.map(([name, value]) => el("tr", {}, el("td", {}, name), el("td", {}, typeof value === "object" ? JSON.stringify(value) : String(value))))) : el("span", { class: "muted" }, "none"),
    el("h3", {}, "Recent events"),
    context.behavior.recent.length
      ? el("ul", { class: "events", id: "recent" }, context.behavior.recent.slice(0, 8).map((event) =>
        el("li", {}, el("time", {}, formatTime(event.occurredAt)), el("span", { class: "type" }, event.type), el("span", { class: "data" }, summary(event.data)))))
      : el("span", { class: "muted" }, "none yet"),
  );
  if (context.orderId && context.orderId !== state.orderId) {
    state.orderId = context.orderId;
    $("order-id").textContent = context.orderId;
    $("refresh-order").disabled = false;
    void loadOrder();
  }
}

async function loadOrder() {
  if (!state.orderId) return;
  $("refresh-order").disabled = true;
  try {
    const query = state.context ? `?customerId=${encodeURIComponent(state.context.customer.id)}` : "";
    renderOrder($("order"), await api(`/v1/orders/${encodeURIComponent(state.orderId)}/context${query}`));
  } catch (error) {
    $("order").replaceChildren(el("span", { class: "problem" }, error.message));
  } finally {
    $("refresh-order").disabled = false;
  }
}

async function listOpenSessions() {
  try {
    const { items } = await api("/v1/sessions?state=open&limit=50");
    $("open-sessions").replaceChildren(...items.map((s) => el("option", { value: s.sessionId }, `${s.customer.id} · risk ${s.risk.level}`)));
  } catch {
    // Only a convenience for the session field.
  }
}

function openSession(sessionId) {
  state.unfollow?.();
  log.clear();
  Object.assign(state, { sessionId, context: undefined, version: 0, orderId: "" });
  $("session-label").textContent = sessionId;
  $("context").replaceChildren(el("span", { class: "muted" }, "Waiting for the session's context…"));
  $("order").replaceChildren(el("span", { class: "muted" }, "The session's order appears here."));
  $("order-id").textContent = "";
  $("refresh-order").disabled = true;
  state.unfollow = followSession(state.live, sessionId, log, { myRole: "agent", typingNode: $("typing"), onContext: renderContext });
}

$("settings").addEventListener("submit", (event) => {
  event.preventDefault();
  $("problem").textContent = "";
  adminKey.set($("key").value);
  const agentId = $("agent").value.trim();
  const sessionId = $("session").value.trim();
  if (!adminKey.get() || !agentId || !sessionId) return void ($("problem").textContent = "an admin key, an agent id and a session are needed");
  if (!state.live || agentId !== state.agentId) {
    state.live?.close();
    state.agentId = agentId;
    $("who").textContent = `agent ${agentId}`;
    state.live = connectLive({ role: "agent", id: agentId }, showStatus($("status")));
  }
  openSession(sessionId);
  void listOpenSessions();
});

/**
 * `/godmode` typed as a message: signs this tab's key in to the admin pages (POST /admin/session
 * sets the session cookie; a read or ingest key is refused there) and opens the live memory map.
 * The tab is opened before the request: one opened after an await is a popup browsers block.
 */
async function openGodmode() {
  $("problem").textContent = "";
  const tab = window.open("about:blank", "kefu-godmode");
  state.godmodeTab = tab;
  try {
    const response = await fetch("/admin/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ key: adminKey.get() }) });
    if (!response.ok) {
      const problem = await response.json().catch(() => null);
      tab?.close();
      $("problem").textContent = `/godmode needs an admin key: ${problem?.detail ?? response.status}`;
      return;
    }
    if (tab) tab.location.href = "/godmode";
    else location.href = "/godmode";
  } catch (error) {
    tab?.close();
    $("problem").textContent = `/godmode: ${error.message}`;
  }
}

$("refresh-order").addEventListener("click", () => void loadOrder());
wireCompose($("compose"), $("text"), {
  live: () => state.live, log, sessionId: () => state.sessionId, onProblem: (text) => ($("problem").textContent = text),
  commands: { "/godmode": () => void openGodmode() },
});

// For tests and the curious: the page's state and client (window.kefuDemo.live).
window.kefuDemo = state;
if (adminKey.get()) $("settings").requestSubmit();
