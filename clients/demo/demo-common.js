// What the two demo pages share: the admin key, API calls, the chat log and the status pill.
// The pages call POST /v1/live/tokens themselves with an admin key, which is fine for a demo; a
// real frontend gets its live token from its own backend, which holds the key.
import { KefuLive } from "./lib/kefu-live.js";

const KEY_STORAGE = "kefu-demo-admin-key";

/** Short helper: an element by id. */
export const $ = (id) => document.getElementById(id);

/** Builds an element with properties and children (text is always set as text, never as HTML). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "class") node.className = value;
    else node[key] = value;
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
}

/** The admin key, kept in sessionStorage for this tab as Swagger UI's Authorize does. */
export const adminKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE) ?? "",
  set: (key) => sessionStorage.setItem(KEY_STORAGE, key.trim()),
};

/** A call to the hub's API with the admin key; rejects with the problem's detail on an error. */
export async function api(path, init = {}) {
  const response = await fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${adminKey.get()}`, ...(init.body ? { "content-type": "application/json" } : {}), ...init.headers },
  });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${body?.detail ?? body?.title ?? ""}`.trim());
  return body;
}

/** A KefuLive client whose token comes from POST /v1/live/tokens before every connect. */
export function connectLive(tokenRequest, onStatus) {
  const live = new KefuLive({
    url: "/v1/live",
    token: async () => (await api("/v1/live/tokens", { method: "POST", body: JSON.stringify({ ttlSeconds: 3600, ...tokenRequest }) })).token,
    onStatus,
    onError: (error) => console.warn("kefu-live error", error),
  });
  live.connect();
  return live;
}

/** Shows the connection state in the header's pill. */
export function showStatus(node) {
  return (state, detail) => {
    node.dataset.state = state;
    const retry = detail?.retryInMs ? ` · retry in ${(detail.retryInMs / 1000).toFixed(1)} s` : "";
    node.textContent = state === "open" ? "online" : state === "connecting" ? "connecting…" : `offline${retry}`;
  };
}

export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/**
 * A session's chat log: messages keyed by offset (so a replay or a refetch never shows one twice),
 * and the sender's own messages shown as pending until their publication arrives.
 * @param {HTMLElement} node
 * @param {(sender: {type: string, id: string}) => boolean} isMine
 */
export function createChatLog(node, isMine) {
  const byOffset = new Map();
  const pending = new Map();
  const render = () => {
    const atBottom = node.scrollHeight - node.scrollTop - node.clientHeight < 40;
    const items = [...byOffset.entries()].sort(([a], [b]) => a - b).map(([offset, m]) =>
      el("div", { class: `msg${isMine(m.sender) ? " mine" : ""}`, dataset: { offset: String(offset), clientMessageId: m.clientMessageId ?? "" } },
        m.text, el("span", { class: "meta" }, `${m.sender.type === "customer" ? "visitor" : m.sender.type} ${m.sender.id} · ${formatTime(m.sentAt)} · #${offset}`)));
    for (const [clientMessageId, text] of pending) {
      items.push(el("div", { class: "msg mine pending", dataset: { pending: clientMessageId } }, text, el("span", { class: "meta" }, "sending…")));
    }
    node.replaceChildren(...(items.length ? items : [el("div", { class: "empty" }, "No messages yet.")]));
    if (atBottom || pending.size) node.scrollTop = node.scrollHeight;
  };
  return {
    /** A `message` publication (live or replayed) or a history item. */
    add(offset, data) {
      byOffset.set(offset, data);
      if (data.clientMessageId) pending.delete(data.clientMessageId);
      render();
    },
    pending(clientMessageId, text) {
      pending.set(clientMessageId, text);
      render();
    },
    settled(clientMessageId) {
      pending.delete(clientMessageId);
      render();
    },
    clear() {
      byOffset.clear();
      pending.clear();
      render();
    },
    /** Refetches the kept history (after recovered:false or an epoch change) and merges it by offset. */
    async refetch(sessionId) {
      let before;
      for (let page = 0; page < 20; page++) {
        const query = new URLSearchParams({ limit: "200", ...(before ? { before: String(before) } : {}) });
        const { items, nextBefore } = await api(`/v1/sessions/${encodeURIComponent(sessionId)}/messages?${query}`);
        for (const { offset, data } of items) if (data.kind === "message") byOffset.set(offset, data);
        if (!nextBefore) break;
        before = nextBefore;
      }
      render();
    },
    get size() {
      return byOffset.size;
    },
  };
}

/**
 * Wires a chat log to a session channel: replays the whole kept history (`since: 0`), refetches
 * it when the hub cannot replay (recovered: false, or a new epoch), shows the other side typing
 * and hands `context` publications to `onContext`. Returns the unsubscribe function.
 */
export function followSession(live, sessionId, log, { myRole, typingNode, onContext = () => {} }) {
  let typingTimer = 0;
  const onPublication = ({ offset, data }) => {
    if (data.kind === "message") log.add(offset, data);
    else if (data.kind === "context") onContext(data.context, data.version);
    else if (data.kind === "typing" && data.from?.role !== myRole && typingNode) {
      typingNode.textContent = `${data.from.role === "visitor" ? "the visitor" : "the agent"} is typing…`;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => (typingNode.textContent = ""), 3000);
    } else if (data.kind === "closed" && typingNode) typingNode.textContent = "the session was closed";
  };
  const onReset = ({ reason }) => {
    console.info(`kefu-live: ${sessionId} needs a refetch (${reason})`);
    log.refetch(sessionId).catch((error) => console.warn(error));
  };
  return live.subscribe(`session:${sessionId}`, onPublication, { since: 0, onReset });
}

/**
 * Sends the compose box's text as a message, shown pending until its publication arrives. A text
 * that is one of `commands` (e.g. `/godmode`) runs it instead and sends nothing.
 */
export function wireCompose(form, input, { live, log, sessionId, onProblem, commands = {} }) {
  input.addEventListener("input", () => sessionId() && !input.value.startsWith("/") && live().typing(sessionId()));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    const command = Object.hasOwn(commands, text) ? commands[text] : undefined;
    if (command) {
      input.value = "";
      command();
      return;
    }
    if (!text || !sessionId()) return;
    input.value = "";
    const clientMessageId = `demo-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    log.pending(clientMessageId, text);
    live().sendMessage(sessionId(), text, { clientMessageId }).catch((error) => {
      log.settled(clientMessageId);
      onProblem(`not sent: ${error.message}`);
    });
  });
}
