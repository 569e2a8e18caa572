/**
 * Part of the dashboard page's script (see page-script.ts): building elements (text only, never
 * HTML), calling the JSON API, formatting times, the throughput chart, the action buttons' calls.
 */
export const PAGE_ELEMENTS = String.raw`
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
`;
