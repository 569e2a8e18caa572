/**
 * The dashboard page's script, plain browser JavaScript shipped as a string (no build step).
 * Data is put in the page with textContent only, never as HTML. Views re-read their data from the
 * JSON API when live events arrive (at most every 400 ms) or the listener becomes ready.
 * (Written without template literals: it lives inside one.)
 */
export const PAGE_SCRIPT = String.raw`(function () {
  "use strict";
  var meta = function (name) { return document.querySelector('meta[name="' + name + '"]').getAttribute("content"); };
  var csrf = meta("csrf-token");
  var actionsEnabled = meta("actions") === "true";
  var main = document.getElementById("main");
  var live = document.getElementById("live");
  var feed = [];
  var view = null;
  var pending = null;

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "onclick" || key === "onsubmit" || key === "onchange") node[key] = attrs[key];
      else if (attrs[key] !== null && attrs[key] !== undefined && attrs[key] !== false) node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    });
    return node;
  }
  function api(path, body) {
    var options = body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": csrf }, body: JSON.stringify(body) };
    return fetch(path, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || response.statusText);
        return data;
      });
    });
  }
  function when(value) { return value ? new Date(value).toISOString().replace("T", " ").replace("Z", "") : "-"; }
  function age(seconds) {
    if (seconds < 60) return Math.round(seconds) + "s";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m" + String(Math.round(seconds % 60)).padStart(2, "0") + "s";
    return Math.floor(seconds / 3600) + "h" + String(Math.floor((seconds % 3600) / 60)).padStart(2, "0") + "m";
  }
  function status(value) { return h("span", { class: "status status-" + value }, [value]); }
  function link(href, text) { return h("a", { href: href }, [text]); }
  function table(head, rows, empty) {
    if (rows.length === 0) return h("p", { class: "empty" }, [empty || "none"]);
    return h("table", {}, [h("thead", {}, [h("tr", {}, head.map(function (c) { return h("th", {}, [c]); }))]), h("tbody", {}, rows)]);
  }
  function row(cells, attrs) { return h("tr", attrs || {}, cells.map(function (c) { return h("td", {}, [c]); })); }
  function pre(value) { return h("pre", {}, [JSON.stringify(value === undefined ? null : value, null, 2)]); }
  function fail(error) { main.replaceChildren(h("p", { class: "error" }, [String(error.message || error)])); }
  function note(text) {
    var box = document.getElementById("note");
    box.textContent = text;
    box.className = "note shown";
    setTimeout(function () { box.className = "note"; }, 4000);
  }
  function act(path, body, verb, done) {
    api(path, body).then(function (outcome) {
      note(outcome.done.length + " " + verb + (outcome.skipped.length ? ", " + outcome.skipped.length + " skipped: " + outcome.skipped[0].reason : ""));
      done();
    }, function (error) { note(error.message); });
  }

  function chart(points) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    var max = Math.max(1, Math.max.apply(null, points.map(function (p) { return p.completed + p.failed + p.cancelled; })));
    var width = 3 * points.length;
    svg.setAttribute("viewBox", "0 0 " + width + " 30");
    svg.setAttribute("class", "chart");
    points.forEach(function (p, i) {
      var y = 30;
      [["completed", "ok"], ["failed", "bad"], ["cancelled", "off"]].forEach(function (part) {
        var n = p[part[0]];
        if (!n) return;
        var height = Math.max(1, (n / max) * 30);
        y -= height;
        var bar = document.createElementNS(ns, "rect");
        bar.setAttribute("x", String(i * 3));
        bar.setAttribute("y", String(y));
        bar.setAttribute("width", "2");
        bar.setAttribute("height", String(height));
        bar.setAttribute("class", part[1]);
        var title = document.createElementNS(ns, "title");
        title.textContent = when(p.minute) + ": " + n + " " + part[0];
        bar.appendChild(title);
        svg.appendChild(bar);
      });
    });
    return svg;
  }

  function feedList() {
    return table(["time", "event", "task", "execution"], feed.slice(0, 15).map(function (e) {
      return row([when(e.at), status(e.kind), e.task, link("#/execution/" + e.id, e.id)]);
    }), "waiting for events");
  }

  var views = {
    overview: function () {
      return {
        refresh: function () {
          return api("api/overview").then(function (o) {
            main.replaceChildren(
              h("h2", {}, ["Queues"]),
              table(["queue", "runnable", "delayed", "running", "failed", "cancelled", "oldest due", "finished per minute (60 min)"], o.queues.map(function (q) {
                var paused = o.pauses.some(function (p) { return p.kind === "queue" && p.name === q.queue; });
                var name = link("#/executions?queue=" + encodeURIComponent(q.queue), q.queue);
                return row([paused ? h("span", {}, [name, " ", status("paused")]) : name, q.runnable, q.delayed, q.running,
                  link("#/executions?status=failed&queue=" + encodeURIComponent(q.queue), String(q.failed)), q.cancelled, age(q.oldestDueSeconds), chart(q.throughput)]);
              }), "no executions yet"),
              h("h2", {}, ["Paused"]), table(["kind", "name", "since"], o.pauses.map(function (p) {
                return row([p.kind, p.name, when(p.pausedAt)]);
              }), "nothing paused"),
              h("h2", {}, ["Live"]), feedList(),
              h("h2", {}, ["Orchestrators"]), orchestrators(o.orchestrators),
              h("h2", {}, ["Cron schedules"]), schedules(o.schedules),
              h("h2", {}, ["Table triggers"]), triggers(o.tableTriggers, o.slots));
          });
        },
      };
    },
    executions: function (params) {
      var form = h("form", { class: "filters", id: "filters" }, [
        h("select", { name: "status" }, ["", "pending", "running", "completed", "failed", "cancelled"].map(function (s) {
          return h("option", { value: s, selected: params.get("status") === s ? "selected" : null }, [s || "any status"]);
        })),
        h("input", { name: "task", placeholder: "task", value: params.get("task") || "" }),
        h("input", { name: "queue", placeholder: "queue", value: params.get("queue") || "" }),
        h("input", { name: "search", placeholder: "id or dedupe key", value: params.get("search") || "", size: "38" }),
        h("select", { name: "since" }, [["", "any time"], ["900", "last 15 min"], ["3600", "last hour"], ["86400", "last day"]].map(function (o) {
          return h("option", { value: o[0], selected: params.get("since") === o[0] ? "selected" : null }, [o[1]]);
        })),
        h("button", { type: "submit" }, ["Filter"]),
      ]);
      form.onsubmit = function (event) {
        event.preventDefault();
        var next = new URLSearchParams();
        new FormData(form).forEach(function (value, key) { if (value) next.set(key, value); });
        location.hash = "#/executions?" + next.toString();
      };
      var filter = {};
      ["status", "task", "queue", "search"].forEach(function (k) { if (params.get(k)) filter[k] = params.get(k); });
      var query = new URLSearchParams(filter);
      var body = h("div", {}, []);
      var bulk = h("div", { class: "bulk" }, actionsEnabled ? [
        h("button", { id: "retry-all", onclick: function () {
          act("api/retry", { filter: Object.assign({}, filter, { status: "failed" }) }, "retried", view.refresh);
        } }, ["Retry matching failed"]),
        h("button", { id: "cancel-all", onclick: function () {
          if (confirm("Cancel every pending and running execution matching this filter?")) act("api/cancel", { filter: Object.assign({}, filter, { status: ["pending", "running"] }) }, "cancelled", view.refresh);
        } }, ["Cancel matching"]),
      ] : []);
      main.replaceChildren(h("h2", {}, ["Executions"]), form, bulk, body);
      return {
        refresh: function () {
          var since = params.get("since");
          var q = new URLSearchParams(query);
          if (since) q.set("since", String(Date.now() - Number(since) * 1000));
          q.set("limit", "100");
          return api("api/executions?" + q.toString()).then(function (data) {
            body.replaceChildren(table(["id", "task", "queue", "status", "attempts", "created", "error"], data.executions.map(function (e) {
              return row([link("#/execution/" + e.id, e.id), e.task, e.queue, status(e.status), e.attempts + "/" + (e.maxAttempts || "?"), when(e.createdAt), (e.lastError || "").slice(0, 80)],
                { "data-id": e.id, "data-status": e.status });
            }), "no executions match"));
          });
        },
      };
    },
    execution: function (params, id) {
      return {
        refresh: function () {
          return api("api/executions/" + encodeURIComponent(id)).then(function (d) {
            var buttons = [];
            if (actionsEnabled && d.status === "failed") buttons.push(h("button", { id: "retry", onclick: function () { act("api/executions/" + d.id + "/retry", {}, "retried", view.refresh); } }, ["Retry"]));
            if (actionsEnabled && (d.status === "pending" || d.status === "running")) buttons.push(h("button", { id: "cancel", onclick: function () { act("api/executions/" + d.id + "/cancel", {}, "cancelled", view.refresh); } }, ["Cancel"]));
            var facts = [["task", d.task], ["queue", d.queue], ["status", status(d.status)], ["attempts", d.attempts + " of " + (d.maxAttempts || "?")],
              ["event", d.eventName], ["created", when(d.createdAt)], ["run at", when(d.runAt)], ["finished", when(d.finishedAt)],
              ["dedupe key", d.dedupeKey || "-"], ["held by", d.lockedBy || "-"],
              ["parent", d.parent ? link("#/execution/" + d.parent.id, d.parent.task + " (" + d.parent.status + ")") : "-"]];
            main.replaceChildren(
              h("h2", {}, ["Execution ", h("code", {}, [d.id])]),
              h("div", { class: "bulk" }, buttons),
              h("dl", { id: "facts" }, facts.flatMap(function (f) { return [h("dt", {}, [f[0]]), h("dd", { id: "fact-" + f[0].replace(/ /g, "-") }, [f[1]])]; })),
              d.lastError !== null ? h("div", {}, [h("h3", {}, [d.status === "failed" ? "Error" : "Last error (of an earlier attempt)"]), h("pre", { class: "error", id: "error" }, [d.lastError])]) : null,
              d.status === "completed" ? h("div", {}, [h("h3", {}, ["Result"]), pre(d.result)]) : null,
              h("h3", {}, ["Payload"]), pre(d.payload),
              h("h3", {}, ["Steps"]), table(["kind", "name", "stored", "result"], d.steps.map(function (s) { return row([s.kind, s.name, when(s.at), JSON.stringify(s.result)]); })),
              h("h3", {}, ["Children"]), table(["id", "task", "status", "step"], d.children.map(function (c) { return row([link("#/execution/" + c.id, c.id), c.task, status(c.status), c.step || ""]); })),
              h("h3", {}, ["Timeline"]), table(["time", "what", ""], d.timeline.map(function (t) { return row([when(t.at), t.kind, t.text]); })));
          }, function (error) { fail(error); });
        },
      };
    },
    system: function () {
      return {
        refresh: function () {
          return api("api/overview").then(function (o) {
            main.replaceChildren(h("h2", {}, ["Orchestrators"]), orchestrators(o.orchestrators), h("h2", {}, ["Cron schedules"]), schedules(o.schedules),
              h("h2", {}, ["Table triggers"]), triggers(o.tableTriggers, o.slots));
          });
        },
      };
    },
  };

  function orchestrators(list) {
    return table(["id", "host", "pid", "started", "heartbeat", "running"], list.map(function (o) {
      var running = Object.keys(o.running).map(function (q) { return q + ": " + o.running[q]; }).join(", ") || "idle";
      return row([o.id, o.hostname, o.pid, when(o.startedAt), age(o.heartbeatAgeSeconds) + " ago" + (o.stopRequested ? " (asked to stop)" : ""), running]);
    }), "no orchestrator running");
  }
  function schedules(list) {
    return table(["task", "schedule", "cron", "time zone", "next fire"], list.map(function (s) {
      return row([s.task, s.name + (s.dynamic ? " (dynamic)" : ""), s.cron, s.timeZone, when(s.nextFireAt)]);
    }), "no cron schedules");
  }
  function triggers(list, slots) {
    return h("div", {}, [
      table(["task", "table", "operation", "columns", "when"], list.map(function (t) { return row([t.task, t.table, t.operation, t.columns.join(", "), t.when || ""]); }), "no table triggers"),
      slots.length ? table(["replication slot", "active", "lag (bytes)"], slots.map(function (s) { return row([s.slot, s.active ? "yes" : "no", s.lagBytes === null ? "-" : s.lagBytes]); })) : null,
    ]);
  }

  function route() {
    var hash = location.hash.replace(/^#/, "") || "/";
    var parts = hash.split("?");
    var params = new URLSearchParams(parts[1] || "");
    var path = parts[0];
    document.querySelectorAll("nav a").forEach(function (a) { a.classList.toggle("active", a.getAttribute("href").split("?")[0] === "#" + path); });
    if (path.indexOf("/execution/") === 0) view = views.execution(params, path.slice("/execution/".length));
    else if (path === "/executions") view = views.executions(params);
    else if (path === "/system") view = views.system(params);
    else view = views.overview(params);
    view.refresh().catch(fail);
  }
  function refreshSoon() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      if (view) view.refresh().catch(fail);
    }, 400);
  }

  function connect() {
    var source = new EventSource("api/events");
    source.addEventListener("ready", function () {
      live.className = "live on";
      live.textContent = "live";
      refreshSoon();
    });
    source.addEventListener("pause", refreshSoon);
    source.onmessage = function (message) {
      var data = JSON.parse(message.data);
      feed = data.events.slice().reverse().concat(feed).slice(0, 50);
      refreshSoon();
    };
    source.onerror = function () {
      live.className = "live";
      live.textContent = "reconnecting";
    };
  }

  window.addEventListener("hashchange", route);
  route();
  connect();
  setInterval(refreshSoon, 10000);
})();
`;
