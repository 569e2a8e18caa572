/** The dashboard's HTML shell; the views are drawn by PAGE_SCRIPT from the JSON API. */
export { PAGE_SCRIPT } from "./page-script";
export { PAGE_STYLE } from "./page-style";

const escapeAttribute = (value: string) => value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

export function pageHtml(options: { csrfToken: string; actions: boolean }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${escapeAttribute(options.csrfToken)}">
<meta name="actions" content="${options.actions ? "true" : "false"}">
<title>pgconductor</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="app.css">
</head>
<body>
<header>
  <h1>pgconductor</h1>
  <nav>
    <a href="#/">Queues</a>
    <a href="#/executions">Executions</a>
    <a href="#/executions?status=failed">Failed</a>
    <a href="#/system">Schedules &amp; orchestrators</a>
  </nav>
  <span id="live" class="live">connecting</span>
  <span class="mode">${options.actions ? "actions enabled" : "read-only"}</span>
</header>
<div id="note" class="note"></div>
<main id="main"><p class="empty">loading…</p></main>
<script src="app.js"></script>
</body>
</html>
`;
}
