/**
 * Part of the dashboard page's script (see page-script.ts): the views (queues, executions, one
 * execution, schedules and orchestrators), each with a refresh() that re-reads the JSON API.
 */
export const PAGE_VIEWS = String.raw`
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
`;
