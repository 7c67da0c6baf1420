// The visitor widget of the demo: one session's chat, over kefu-live.js.
import { $, adminKey, connectLive, createChatLog, followSession, showStatus, wireCompose } from "./demo-common.js";

const state = { live: undefined, sessionId: "" };
const log = createChatLog($("log"), (sender) => sender.type === "customer");
$("key").value = adminKey.get();

$("settings").addEventListener("submit", (event) => {
  event.preventDefault();
  $("problem").textContent = "";
  adminKey.set($("key").value);
  const customerId = $("customer").value.trim();
  const sessions = $("sessions").value.split(",").map((s) => s.trim()).filter(Boolean);
  if (!adminKey.get() || !customerId || sessions.length === 0) return void ($("problem").textContent = "an admin key, a customer id and a session are needed");
  state.live?.close();
  log.clear();
  state.sessionId = sessions[0];
  $("who").textContent = `customer ${customerId}`;
  $("session-label").textContent = state.sessionId;
  state.live = connectLive({ role: "visitor", id: customerId, sessions }, showStatus($("status")));
  followSession(state.live, state.sessionId, log, { myRole: "visitor", typingNode: $("typing") });
  $("text").focus();
});

wireCompose($("compose"), $("text"), { live: () => state.live, log, sessionId: () => state.sessionId, onProblem: (text) => ($("problem").textContent = text) });

// For tests and the curious: the page's client (window.kefuDemo.live).
window.kefuDemo = state;
if (adminKey.get()) $("settings").requestSubmit();
