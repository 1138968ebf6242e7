// Watchkeeper console enhancements. Everything works without this file; it adds the theme
// switch, keyboard shortcuts, Ctrl+Enter submit and an incident's live timeline (server-sent
// events from this server's own API). No other network requests, no dependencies.
(function () {
  "use strict";
  var root = document.documentElement;
  var saved = null;
  try { saved = localStorage.getItem("wk-theme"); } catch (e) { /* storage disabled */ }
  if (saved === "dark" || saved === "light") root.setAttribute("data-theme", saved);

  function toggleTheme() {
    var dark = root.getAttribute("data-theme") === "dark" ||
      (!root.getAttribute("data-theme") && window.matchMedia("(prefers-color-scheme: dark)").matches);
    var next = dark ? "light" : "dark";
    root.setAttribute("data-theme", next);
    try { localStorage.setItem("wk-theme", next); } catch (e) { /* ignore */ }
  }

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  var pendingG = false;
  var rowIndex = -1;

  function moveRow(delta) {
    var rows = document.querySelectorAll("table[data-rows] tbody tr");
    if (!rows.length) return;
    if (rowIndex >= 0 && rows[rowIndex]) rows[rowIndex].classList.remove("cursor");
    rowIndex = Math.max(0, Math.min(rows.length - 1, rowIndex + delta));
    rows[rowIndex].classList.add("cursor");
    rows[rowIndex].scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && typing(ev.target)) {
      var form = ev.target.form;
      if (form) { ev.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.submit(); }
      return;
    }
    if (typing(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (pendingG) {
      pendingG = false;
      var link = document.querySelector('a[data-shortcut="' + ev.key + '"]');
      if (link) { ev.preventDefault(); window.location.href = link.getAttribute("href"); }
      return;
    }
    switch (ev.key) {
      case "g": pendingG = true; setTimeout(function () { pendingG = false; }, 1200); break;
      case "/": var s = document.querySelector("[data-search]"); if (s) { ev.preventDefault(); s.focus(); } break;
      case "j": moveRow(1); break;
      case "k": moveRow(-1); break;
      case "t": toggleTheme(); break;
      case "?": var d = document.getElementById("shortcuts"); if (d && d.showModal) d.showModal(); break;
      default:
        // A page's own shortcuts: the element marked with the key is focused (a field) or pressed.
        var el = document.querySelector('[data-key="' + ev.key + '"]');
        if (el) {
          ev.preventDefault();
          if (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) el.focus(); else el.click();
        }
    }
  });

  // A queue's "choose all": ticks or clears every row's box on the page.
  document.addEventListener("change", function (ev) {
    var name = ev.target.getAttribute && ev.target.getAttribute("data-pick-all");
    if (!name) return;
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (b) { b.checked = ev.target.checked; });
  });

  document.addEventListener("click", function (ev) {
    var t = ev.target.closest ? ev.target.closest("[data-action]") : null;
    if (!t) return;
    if (t.getAttribute("data-action") === "theme") toggleTheme();
    if (t.getAttribute("data-action") === "help") {
      var d = document.getElementById("shortcuts");
      if (d && d.showModal) d.showModal();
    }
  });

  // An incident's live timeline: entries written by anyone (console, API, CLI, the desk's
  // sweep) appear at the top as they happen. A change of state, assignment, priority or an SLA
  // mark also asks for a reload, since the clocks and the allowed moves are drawn by the server.
  // The script runs in the head (the theme must apply before the first paint), so the page's
  // elements are looked for once it is parsed.
  function followTimeline() {
    var follow = document.querySelector("[data-follow]");
    if (!follow || !window.EventSource) return;
    var changed = document.querySelector("[data-timeline-changed]");
    var REDRAWN = ["state", "assigned", "priority", "major", "link", "verification", "acknowledged", "sla"];
    var source = new EventSource(follow.getAttribute("data-follow"));
    source.addEventListener("entry", function (ev) {
      var e;
      try { e = JSON.parse(ev.data); } catch (err) { return; }
      var what = e.state ? (e.hold_reason ? e.state + " (" + e.hold_reason + ")" : e.state) : e.kind;
      var tr = document.createElement("tr");
      tr.className = "fresh";
      [["just now", e.at], [e.actor], [what], [e.text]].forEach(function (c) {
        var td = document.createElement("td");
        td.textContent = c[0];
        if (c[1]) td.title = c[1];
        tr.appendChild(td);
      });
      follow.insertBefore(tr, follow.firstChild);
      if (changed && REDRAWN.indexOf(e.kind) >= 0) changed.hidden = false;
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", followTimeline);
  else followTimeline();

  // The live event console: events that pass the page's filter appear at the top as they are
  // stored. Paused, they are held (and counted) until the watch resumes, so a row being
  // chosen does not move. At most 500 rows are kept on the page.
  function followEvents() {
    var body = document.querySelector("tbody[data-live]");
    if (!body || !window.EventSource) return;
    var pick = body.getAttribute("data-live-pick") === "1";
    var state = document.querySelector("[data-live-state]");
    var pause = document.querySelector("[data-live-pause]");
    var held = document.querySelector("[data-live-held]");
    var waiting = [];
    var paused = false;
    var SEVERITY = ["emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"];
    function cell(tr, text, cls) {
      var td = document.createElement("td");
      if (cls) { var c = document.createElement("span"); c.className = cls; c.textContent = text; td.appendChild(c); }
      else td.textContent = text == null ? "" : text;
      tr.appendChild(td);
      return td;
    }
    function show(e) {
      var tr = document.createElement("tr");
      tr.className = "fresh";
      if (pick) {
        var td = document.createElement("td");
        var box = document.createElement("input");
        box.type = "checkbox"; box.name = "event"; box.value = e.id; box.setAttribute("form", "act");
        box.setAttribute("aria-label", "Choose event " + e.id);
        td.appendChild(box); tr.appendChild(td);
      }
      cell(tr, "just now").title = e.received_at;
      var n = SEVERITY.indexOf(e.severity);
      cell(tr, e.severity, "chip " + (n >= 0 && n <= 2 ? "bad" : n >= 3 && n <= 4 ? "warn" : "ok"));
      cell(tr, e.source);
      var from = cell(tr, "");
      if (e.item_id) { var a = document.createElement("a"); a.href = "/cmdb/items/" + e.item_id; a.textContent = e.host || e.sender; from.appendChild(a); }
      else from.textContent = e.host || e.sender;
      cell(tr, e.kind); cell(tr, e.object); cell(tr, e.text);
      cell(tr, e.alarm_id ? "#" + e.alarm_id : "");
      var empty = body.querySelector("[data-empty]");
      if (empty) empty.remove();
      body.insertBefore(tr, body.firstChild);
      while (body.rows.length > 500) body.deleteRow(body.rows.length - 1);
    }
    function count() {
      if (!held) return;
      held.hidden = waiting.length === 0;
      held.textContent = waiting.length + " new held";
    }
    var source = new EventSource(body.getAttribute("data-live"));
    source.addEventListener("event", function (ev) {
      var e;
      try { e = JSON.parse(ev.data); } catch (err) { return; }
      if (paused) { waiting.push(e); count(); } else show(e);
    });
    source.onopen = function () { if (state) state.textContent = paused ? "paused" : "live"; };
    source.onerror = function () { if (state) state.textContent = "reconnecting…"; };
    if (pause) pause.addEventListener("click", function () {
      paused = !paused;
      pause.textContent = paused ? "Resume" : "Pause";
      pause.setAttribute("aria-pressed", paused ? "true" : "false");
      if (state) state.textContent = paused ? "paused" : "live";
      if (!paused) { waiting.forEach(show); waiting = []; count(); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", followEvents);
  else followEvents();
})();
