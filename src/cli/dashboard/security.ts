/**
 * Who may see the dashboard and who may act through it. Pure functions over request facts, so
 * each rule has a unit test:
 * - without a token or basic auth, only loopback clients addressing a loopback host name are
 *   answered (the host check stops DNS rebinding from turning a web page into a local client);
 * - with a token (Bearer header, `?token=` once, then an HttpOnly cookie) or basic auth, anyone
 *   holding it is answered;
 * - a POST must carry the page's CSRF token in `X-CSRF-Token`, and an Origin, when sent, must be
 *   the dashboard's own; actions are refused altogether unless enabled.
 */
import { timingSafeEqual } from "node:crypto";

export type DashboardAuth = { token: string } | { username: string; password: string };

export interface RequestFacts {
  method: string;
  remoteAddress: string | undefined;
  host: string | undefined;
  origin: string | undefined;
  authorization: string | undefined;
  cookie: string | undefined;
  /** `token` from the query string. */
  queryToken: string | null;
  csrfHeader: string | undefined;
}

export type Verdict =
  | { ok: true; setCookie?: string }
  | { ok: false; status: 401 | 403; message: string; challenge?: string };

export const TOKEN_COOKIE = "pgconductor_dashboard_token";

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith("::ffff:") ? address.slice(7) : address;
  return plain === "::1" || /^127\.\d+\.\d+\.\d+$/.test(plain);
}

export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const bareIpv6 = !host.startsWith("[") && host.split(":").length > 2;
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : bareIpv6 ? host : host.replace(/:\d+$/, "");
  return name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(cookie: string | undefined, name: string): string | null {
  for (const part of (cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** May this request see the dashboard at all? */
export function authenticate(auth: DashboardAuth | null, facts: RequestFacts): Verdict {
  if (!auth) {
    if (isLoopbackAddress(facts.remoteAddress) && isLoopbackHost(facts.host)) return { ok: true };
    return { ok: false, status: 403, message: "this dashboard answers only local requests (127.0.0.1/localhost) unless a token or basic auth is configured" };
  }
  if ("token" in auth) {
    const bearer = /^Bearer (.+)$/i.exec(facts.authorization ?? "")?.[1];
    if (bearer !== undefined && same(bearer, auth.token)) return { ok: true };
    const cookie = cookieValue(facts.cookie, TOKEN_COOKIE);
    if (cookie !== null && same(cookie, auth.token)) return { ok: true };
    if (facts.queryToken !== null && same(facts.queryToken, auth.token)) {
      return { ok: true, setCookie: `${TOKEN_COOKIE}=${encodeURIComponent(auth.token)}; HttpOnly; SameSite=Strict; Path=/` };
    }
    return { ok: false, status: 401, message: "a dashboard token is required: open the page once with ?token=TOKEN, or send Authorization: Bearer TOKEN" };
  }
  const basic = /^Basic (.+)$/i.exec(facts.authorization ?? "")?.[1];
  if (basic !== undefined) {
    const decoded = Buffer.from(basic, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon >= 0 && same(decoded.slice(0, colon), auth.username) && same(decoded.slice(colon + 1), auth.password)) return { ok: true };
  }
  return { ok: false, status: 401, message: "basic authentication is required", challenge: 'Basic realm="pgconductor", charset="UTF-8"' };
}

/** May this (authenticated) POST change anything? */
export function authorizeAction(actionsEnabled: boolean, csrfToken: string, facts: RequestFacts): Verdict {
  if (!actionsEnabled) return { ok: false, status: 403, message: "this dashboard is read-only (start it with actions enabled to retry or cancel)" };
  if (facts.csrfHeader === undefined || !same(facts.csrfHeader, csrfToken)) {
    return { ok: false, status: 403, message: "missing or wrong X-CSRF-Token header (reload the page)" };
  }
  if (facts.origin !== undefined && facts.origin !== "null") {
    let originHost: string | null = null;
    try {
      originHost = new URL(facts.origin).host;
    } catch {
      originHost = null;
    }
    if (originHost === null || originHost !== facts.host) return { ok: false, status: 403, message: `cross-origin request from ${facts.origin} refused` };
  }
  return { ok: true };
}
