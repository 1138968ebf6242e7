// Watchkeeper console enhancements. Everything works without this file; it adds the theme
// switch, keyboard shortcuts and Ctrl+Enter submit. No network requests, no dependencies.
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

  document.addEventListener("click", function (ev) {
    var t = ev.target.closest ? ev.target.closest("[data-action]") : null;
    if (!t) return;
    if (t.getAttribute("data-action") === "theme") toggleTheme();
    if (t.getAttribute("data-action") === "help") {
      var d = document.getElementById("shortcuts");
      if (d && d.showModal) d.showModal();
    }
  });
})();
