/** Connection strings in messages: always with the password replaced, so they can be logged. */

/** `postgres://user:***@host:5432/db`; also for a string that does not parse as a URL. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):[^@/?#]*@/i, "$1:***@").replace(/([?&]password=)[^&#]*/i, "$1***");
}

/** Connection errors that mean "could not reach or log in to the server", by postgres.js code or SQLSTATE. */
const CONNECTION_CODES: Record<string, string> = {
  CONNECT_TIMEOUT: "no answer within the connect timeout",
  ECONNREFUSED: "connection refused (is PostgreSQL running and listening on that host and port?)",
  ENOTFOUND: "unknown host",
  EAI_AGAIN: "the host name could not be resolved right now",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "the connection timed out",
  ECONNRESET: "the server closed the connection",
  "28P01": "password authentication failed",
  "28000": "the server refused the login (pg_hba.conf)",
  "3D000": "the database does not exist",
};

/** What went wrong connecting, or null when the error is not about the connection. */
export function connectionProblem(error: unknown): string | null {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== "string" || !(code in CONNECTION_CODES)) return null;
  const message = error instanceof Error ? error.message : String(error);
  return `${CONNECTION_CODES[code]} (${message})`;
}
