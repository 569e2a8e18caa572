/** The dashboard's style sheet. */
export const PAGE_STYLE = `
:root { --bg: #f7f7f5; --fg: #1d1d1b; --muted: #6b6b66; --line: #deded8; --ok: #2f8f46; --bad: #c83a2c; --off: #9a8f6a; --accent: #2c5fc8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #1d1d1b; color: #f7f7f5; }
header h1 { font-size: 17px; margin: 0; letter-spacing: .02em; }
nav { display: flex; gap: 16px; flex: 1; }
nav a { color: #cfcfc8; text-decoration: none; padding: 2px 0; border-bottom: 2px solid transparent; }
nav a.active, nav a:hover { color: #fff; border-bottom-color: #fff; }
.live { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #55554f; }
.live.on { background: var(--ok); }
.mode { font-size: 12px; color: #cfcfc8; }
main { padding: 8px 24px 40px; max-width: 1400px; }
h2 { font-size: 16px; margin: 22px 0 8px; }
h3 { font-size: 14px; margin: 18px 0 6px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-weight: 600; color: var(--muted); font-size: 12px; background: #fbfbf9; }
td { font-variant-numeric: tabular-nums; }
a { color: var(--accent); }
code, pre, td a { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: 12.5px; }
pre { background: #fff; border: 1px solid var(--line); padding: 8px 10px; overflow: auto; max-height: 320px; margin: 0; }
pre.error, p.error { color: var(--bad); }
.status { display: inline-block; padding: 0 8px; border-radius: 9px; font-size: 12px; background: #e8e8e2; }
.status-completed { background: #dcefdf; color: #1f6a33; }
.status-failed { background: #f6dcd8; color: #9c2a1f; }
.status-running, .status-started { background: #dbe6f8; color: #214c9e; }
.status-cancelled, .status-released { background: #eee8d6; color: #6d6440; }
.status-retrying, .status-paused { background: #f7ead0; color: #855a0a; }
.empty { color: var(--muted); }
.filters { display: flex; gap: 8px; margin: 8px 0; flex-wrap: wrap; }
input, select, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
button { cursor: pointer; background: #1d1d1b; color: #fff; border-color: #1d1d1b; }
button:hover { background: #3a3a36; }
.bulk { display: flex; gap: 8px; margin: 8px 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: #fff; border: 1px solid var(--line); padding: 10px 14px; margin: 8px 0; }
dt { color: var(--muted); }
dd { margin: 0; }
svg.chart { width: 360px; height: 32px; display: block; }
svg.chart .ok { fill: var(--ok); }
svg.chart .bad { fill: var(--bad); }
svg.chart .off { fill: var(--off); }
.note { position: fixed; right: 24px; top: 56px; background: #1d1d1b; color: #fff; padding: 8px 14px; border-radius: 6px; opacity: 0; transition: opacity .2s; pointer-events: none; }
.note.shown { opacity: .95; }
`;
