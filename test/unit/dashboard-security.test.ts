import { authenticate, authorizeAction, isLoopbackHost, TOKEN_COOKIE, type RequestFacts } from "../../src/cli/dashboard/security";

const local: RequestFacts = {
  method: "GET", remoteAddress: "127.0.0.1", host: "127.0.0.1:4000", origin: undefined, authorization: undefined,
  cookie: undefined, queryToken: null, csrfHeader: undefined,
};

test("without auth only loopback clients addressing a loopback host are answered", () => {
  expect(authenticate(null, local)).toEqual({ ok: true });
  expect(authenticate(null, { ...local, remoteAddress: "::ffff:127.0.0.1", host: "localhost:4000" })).toEqual({ ok: true });
  expect(authenticate(null, { ...local, remoteAddress: "::1", host: "[::1]:4000" })).toEqual({ ok: true });
  expect(authenticate(null, { ...local, remoteAddress: "10.0.0.7" })).toMatchObject({ ok: false, status: 403 });
  // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own host name.
  expect(authenticate(null, { ...local, host: "evil.example:4000" })).toMatchObject({ ok: false, status: 403 });
  expect(isLoopbackHost("::1")).toBe(true);
  expect(isLoopbackHost("0.0.0.0")).toBe(false);
});

test("a token is accepted as Bearer, as the cookie, or once in the query (which sets the cookie)", () => {
  const auth = { token: "s3cret-token-0123456789" };
  const remote = { ...local, remoteAddress: "10.0.0.7", host: "ops.example.com" };
  expect(authenticate(auth, remote)).toMatchObject({ ok: false, status: 401 });
  expect(authenticate(auth, { ...remote, authorization: "Bearer wrong" })).toMatchObject({ ok: false, status: 401 });
  expect(authenticate(auth, { ...remote, authorization: `Bearer ${auth.token}` })).toEqual({ ok: true });
  expect(authenticate(auth, { ...remote, cookie: `a=b; ${TOKEN_COOKIE}=${auth.token}` })).toEqual({ ok: true });
  const viaQuery = authenticate(auth, { ...remote, queryToken: auth.token });
  expect(viaQuery).toMatchObject({ ok: true });
  expect((viaQuery as { setCookie: string }).setCookie).toMatch(new RegExp(`^${TOKEN_COOKIE}=.*HttpOnly; SameSite=Strict`));
});

test("basic auth checks both user and password and asks the browser for them", () => {
  const auth = { username: "ops", password: "pa:ss" };
  const basic = (text: string) => `Basic ${Buffer.from(text).toString("base64")}`;
  expect(authenticate(auth, { ...local, authorization: basic("ops:pa:ss") })).toEqual({ ok: true });
  expect(authenticate(auth, { ...local, authorization: basic("ops:nope") })).toMatchObject({ ok: false, status: 401, challenge: expect.stringContaining("Basic") });
  expect(authenticate(auth, local)).toMatchObject({ ok: false, status: 401 });
});

test("actions: refused when read-only, without the CSRF token, or from another origin", () => {
  const post = { ...local, method: "POST", csrfHeader: "csrf-1" };
  expect(authorizeAction(false, "csrf-1", post)).toMatchObject({ ok: false, message: expect.stringContaining("read-only") });
  expect(authorizeAction(true, "csrf-1", { ...post, csrfHeader: undefined })).toMatchObject({ ok: false, status: 403 });
  expect(authorizeAction(true, "csrf-1", { ...post, csrfHeader: "csrf-2" })).toMatchObject({ ok: false, status: 403 });
  expect(authorizeAction(true, "csrf-1", { ...post, origin: "http://evil.example" })).toMatchObject({ ok: false, message: expect.stringContaining("cross-origin") });
  expect(authorizeAction(true, "csrf-1", { ...post, origin: "http://127.0.0.1:4000" })).toEqual({ ok: true });
  expect(authorizeAction(true, "csrf-1", post)).toEqual({ ok: true });
});
