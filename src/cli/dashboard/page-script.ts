import { PAGE_ELEMENTS } from "./page-elements";
import { PAGE_VIEWS } from "./page-views";

/**
 * The dashboard page's script, plain browser JavaScript shipped as a string (no build step). It is
 * one closure in the browser, written in three parts: this one (page state, routing, the live
 * stream) around PAGE_ELEMENTS (page-elements.ts) and PAGE_VIEWS (page-views.ts).
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
` + PAGE_ELEMENTS + PAGE_VIEWS + String.raw`
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
