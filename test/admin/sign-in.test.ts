import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { deleteKeys, eventually, startTestHub, TEST_KEYS, TEST_REDIS_URL, type TestHub } from "../helpers/test-hub.ts";
import { getPage, signIn } from "./admin-client.ts";

// Browser sign-in (issue 15 item 1) over real HTTP and Redis: the cookie's attributes, the keys that
// may not sign in, CSRF on sign-out, a second instance honouring the session, expiry.
let hub: TestHub;
/** A second instance on the same Redis prefix, with 1-second sessions. */
let shortLived: TestHub;
let redis: Redis;

before(async () => {
  hub = await startTestHub({}, {}, { keepKeys: true });
  shortLived = await startTestHub({ adminSessionTtlSeconds: 1 }, {}, { prefix: hub.prefix, keepKeys: true });
  redis = new Redis(TEST_REDIS_URL);
});

after(async () => {
  await shortLived?.close();
  await hub?.close();
  await deleteKeys(hub.prefix);
  redis?.disconnect();
});

const postJson = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(hub.url + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const postForm = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(hub.url + path, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html", ...headers }, body: new URLSearchParams(fields).toString() });
const problemOf = async (response: Response): Promise<{ code: string; errors?: { pointer: string }[] }> => {
  assert.match(response.headers.get("content-type") ?? "", /^application\/problem\+json/);
  return (await response.json()) as { code: string; errors?: { pointer: string }[] };
};
const sessionKeys = (): Promise<string[]> => redis.keys(`${hub.prefix}:admin:session:*`);

test("GET /admin offers the sign-in form, with a strict CSP", async () => {
  const page = await getPage(hub, "/admin?next=/godmode");
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /<form method="post" action="\/admin\/session"/);
  assert.match(html, /name="next" value="\/godmode"/);
  assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'.*frame-ancestors 'none'/);
  assert.equal(page.headers.get("cache-control"), "no-store");
  // An open redirect through ?next= is not carried into the form.
  assert.match(await (await getPage(hub, "/admin?next=//evil.example/")).text(), /name="next" value="\/admin"/);
});

test("an admin key signs in: an HttpOnly, SameSite=Strict cookie with an expiry, the session in Redis", async () => {
  const before = (await sessionKeys()).length;
  const client = await signIn(hub);
  assert.match(client.setCookie, /^kefu_admin=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28\d{3}; Expires=/);
  assert.doesNotMatch(client.setCookie, /Secure/, "plain http: not Secure");
  assert.equal((await sessionKeys()).length, before + 1);
  // Redis holds a hash of the token, never the token itself.
  const token = client.cookie.split("=")[1] ?? "";
  assert.ok(!(await sessionKeys()).some((key) => key.includes(token)));
  const page = await getPage(hub, "/admin", client.cookie);
  assert.match(await page.text(), /Signed in with key <code>[0-9a-f]{12}<\/code>/);
});

test("behind a proxy saying https the cookie is Secure and __Host- prefixed", async () => {
  const client = await signIn(hub, TEST_KEYS.admin, { "x-forwarded-proto": "https" });
  assert.match(client.setCookie, /^__Host-kefu_admin=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; .*; Secure$/);
});

test("read, ingest, unknown and missing keys are refused, naming the field", async () => {
  for (const [key, status, code] of [[TEST_KEYS.read, 403, "forbidden"], [TEST_KEYS.ingest, 403, "forbidden"], ["nope-not-a-key", 401, "unauthorized"]] as const) {
    const response = await postJson("/admin/session", { key });
    assert.equal(response.status, status, key);
    const problem = await problemOf(response);
    assert.equal(problem.code, code);
    assert.equal(problem.errors?.[0]?.pointer, "/key");
  }
  for (const body of [{}, { key: "" }, { key: 42 }, { key: "x".repeat(600) }, [TEST_KEYS.admin]]) {
    const response = await postJson("/admin/session", body);
    assert.equal(response.status, 400, JSON.stringify(body).slice(0, 40));
    assert.equal((await problemOf(response)).errors?.[0]?.pointer, "/key");
  }
  assert.equal((await postJson("/admin/session", "just a string")).status, 400, "not an object: malformed_json");
  const openRedirect = await postJson("/admin/session", { key: TEST_KEYS.admin, next: "//evil.example/" });
  assert.equal(openRedirect.status, 400);
  assert.equal((await problemOf(openRedirect)).errors?.[0]?.pointer, "/next");
  const text = await fetch(`${hub.url}/admin/session`, { method: "POST", headers: { "content-type": "text/plain" }, body: "key" });
  assert.equal(text.status, 415);
});

test("a sign-in from another site's page is refused (login CSRF)", async () => {
  const response = await postJson("/admin/session", { key: TEST_KEYS.admin }, { origin: "https://evil.example" });
  assert.equal(response.status, 403);
  assert.equal((await problemOf(response)).code, "csrf_rejected");
  const sameSite = await postJson("/admin/session", { key: TEST_KEYS.admin }, { origin: hub.url });
  assert.equal(sameSite.status, 201);
});

test("the HTML form: a redirect to next, or the form again naming the field", async () => {
  const ok = await postForm("/admin/session", { key: TEST_KEYS.admin, next: "/admin?from=form" });
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get("location"), "/admin?from=form");
  assert.match(ok.headers.getSetCookie()[0] ?? "", /^kefu_admin=/);

  const read = await postForm("/admin/session", { key: TEST_KEYS.read, next: "/godmode" });
  assert.equal(read.status, 403);
  assert.match(read.headers.get("content-type") ?? "", /^text\/html/);
  const html = await read.text();
  assert.match(html, /id="problem" data-field="key">key: is a read key; the browser pages need an admin key/);
  assert.match(html, /name="next" value="\/godmode"/, "the form keeps where to go");
  const empty = await postForm("/admin/session", { key: "" });
  assert.equal(empty.status, 400);
  assert.match(await empty.text(), /data-field="key">key: is required/);
});

test("sign-out needs the session's CSRF token and the hub's own Origin", async () => {
  const client = await signIn(hub);
  const del = (headers: Record<string, string>): Promise<Response> => fetch(`${hub.url}/admin/session`, { method: "DELETE", headers: { cookie: client.cookie, ...headers } });
  for (const [headers, why] of [[{}, "no token"], [{ "x-csrf-token": "forged" }, "a forged token"], [{ "x-csrf-token": client.csrfToken, origin: "https://evil.example" }, "another origin"]] as const) {
    const response = await del(headers);
    assert.equal(response.status, 403, why);
    assert.equal((await problemOf(response)).code, "csrf_rejected", why);
  }
  // Another session's token does not sign this one out.
  const other = await signIn(hub);
  assert.equal((await del({ "x-csrf-token": other.csrfToken })).status, 403);
  assert.match(await (await getPage(hub, "/admin", client.cookie)).text(), /Signed in/, "still signed in");

  const out = await del({ "x-csrf-token": client.csrfToken, origin: hub.url });
  assert.equal(out.status, 204);
  assert.match(out.headers.getSetCookie()[0] ?? "", /^kefu_admin=; .*Max-Age=0/);
  assert.match(await (await getPage(hub, "/admin", client.cookie)).text(), /<form method="post" action="\/admin\/session"/, "the old cookie no longer signs in");
  // Without a session there is nothing to end.
  assert.equal((await del({})).status, 204);
});

test("the sign-out form posts the CSRF token as a field", async () => {
  const client = await signIn(hub);
  const page = await (await getPage(hub, "/admin", client.cookie)).text();
  const csrf = page.match(/name="csrf" value="([^"]+)"/)?.[1];
  assert.equal(csrf, client.csrfToken);
  const forged = await postForm("/admin/session/delete", { csrf: "forged" }, { cookie: client.cookie });
  assert.equal(forged.status, 403);
  const out = await postForm("/admin/session/delete", { csrf: client.csrfToken }, { cookie: client.cookie, origin: hub.url });
  assert.equal(out.status, 303);
  assert.equal(out.headers.get("location"), "/admin");
});

test("every instance honours a session, and a session ends when it expires", async () => {
  const fromFirst = await signIn(hub);
  assert.match(await (await getPage(shortLived, "/admin", fromFirst.cookie)).text(), /Signed in/);

  const brief = await signIn(shortLived);
  assert.match(brief.setCookie, /Max-Age=[01];/);
  assert.match(await (await getPage(hub, "/admin", brief.cookie)).text(), /Signed in/);
  await eventually(async () => /action="\/admin\/session"/.test(await (await getPage(hub, "/admin", brief.cookie)).text()), 10_000, "the 1-second session to expire");
  const out = await fetch(`${hub.url}/admin/session`, { method: "DELETE", headers: { cookie: brief.cookie, "x-csrf-token": brief.csrfToken } });
  assert.equal(out.status, 204, "an expired session is no session");
});
