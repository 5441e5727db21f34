/* NAoMe results portal: search as you type, sortable tables, run-chart point tooltips.
   Plain JavaScript, no network: everything it needs is in the page. */
(function () {
  "use strict";

  function norm(s) {
    return (s || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/\s+/g, " ").trim();
  }

  /* ---------- search as you type (landing page) ---------- */
  function initSearch() {
    var input = document.getElementById("org-search");
    var data = document.getElementById("org-index");
    if (!input || !data) return;
    var orgs = JSON.parse(data.textContent);
    orgs.forEach(function (o) { o._n = norm(o.n); o._c = norm(o.c); });
    var list = document.getElementById("search-results");
    var status = document.getElementById("search-status");
    var form = document.getElementById("org-search-form");
    var timer = null;

    function score(o, q) {
      if (o._c === q) return 0;
      if (o._c.indexOf(q) === 0) return 1;
      if (o._n.indexOf(q) === 0) return 2;
      if ((" " + o._n).indexOf(" " + q) >= 0) return 3;
      if (o._n.indexOf(q) >= 0) return 4;
      var words = q.split(" ");
      if (words.length > 1 && words.every(function (w) { return o._n.indexOf(w) >= 0; })) return 5;
      return -1;
    }
    function highlight(text, q) {
      var i = norm(text).indexOf(q);
      var frag = document.createDocumentFragment();
      if (i < 0 || q.length === 0) { frag.appendChild(document.createTextNode(text)); return frag; }
      frag.appendChild(document.createTextNode(text.slice(0, i)));
      var m = document.createElement("mark");
      m.textContent = text.slice(i, i + q.length);
      frag.appendChild(m);
      frag.appendChild(document.createTextNode(text.slice(i + q.length)));
      return frag;
    }
    function matches(q) {
      return orgs.map(function (o) { return [score(o, q), o]; })
        .filter(function (p) { return p[0] >= 0; })
        .sort(function (a, b) { return a[0] - b[0] || a[1].n.localeCompare(b[1].n); })
        .map(function (p) { return p[1]; });
    }
    function render() {
      var q = norm(input.value);
      list.textContent = "";
      if (!q) { status.textContent = ""; return; }
      var found = matches(q);
      var shown = found.slice(0, 12);
      shown.forEach(function (o) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = o.h;
        var name = document.createElement("span");
        name.className = "name";
        name.appendChild(highlight(o.n, q));
        a.appendChild(name);
        a.appendChild(document.createTextNode(" "));
        var meta = document.createElement("span");
        meta.className = "meta";
        meta.appendChild(highlight(o.c, q));
        meta.appendChild(document.createTextNode(" · " + o.p + " · " + o.t));
        a.appendChild(meta);
        li.appendChild(a);
        list.appendChild(li);
      });
      status.textContent = found.length === 0 ? "No organisation matches “" + input.value.trim() + "”."
        : (found.length === 1 ? "1 organisation matches." : found.length + " organisations match" +
           (found.length > shown.length ? "; showing the first " + shown.length + "." : "."));
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(render, 60); });
    form.addEventListener("submit", function (e) {
      render();
      var first = list.querySelector("a");
      if (first) { e.preventDefault(); window.location.href = first.href; }
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { var a = list.querySelector("a"); if (a) { e.preventDefault(); a.focus(); } }
      if (e.key === "Escape") { input.value = ""; render(); }
    });
    list.addEventListener("keydown", function (e) {
      var links = Array.prototype.slice.call(list.querySelectorAll("a"));
      var i = links.indexOf(document.activeElement);
      if (i < 0) return;
      if (e.key === "ArrowDown" && i < links.length - 1) { e.preventDefault(); links[i + 1].focus(); }
      if (e.key === "ArrowUp") { e.preventDefault(); (i === 0 ? input : links[i - 1]).focus(); }
    });
    if (input.value) render();
  }

  /* ---------- sortable tables ---------- */
  function cellKey(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  function initSortable(table) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    headers.forEach(function (th, index) {
      var button = th.querySelector("button");
      if (!button) return;
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = button.getAttribute("data-type") === "number";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellKey(a, index), y = cellKey(b, index), r;
          if (numeric) {
            var nx = parseFloat(x), ny = parseFloat(y);
            nx = isNaN(nx) ? -Infinity : nx; ny = isNaN(ny) ? -Infinity : ny;
            r = nx - ny;
          } else {
            r = x.localeCompare(y, "en-GB", { sensitivity: "base" });
          }
          return ascending ? r : -r;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  /* ---------- run charts: tooltips on hover and focus, arrow keys between points ---------- */
  function initChart(box) {
    var tip = box.querySelector(".tooltip");
    var points = Array.prototype.slice.call(box.querySelectorAll(".pt"));
    if (!tip || points.length === 0) return;
    // One tab stop per chart (the latest quarter); arrow keys move between quarters.
    points.forEach(function (p, i) { p.setAttribute("tabindex", i === points.length - 1 ? "0" : "-1"); });
    function show(p) {
      tip.textContent = p.getAttribute("aria-label");
      tip.hidden = false;
      var b = box.getBoundingClientRect(), r = p.getBoundingClientRect();
      var left = r.left - b.left + r.width / 2 - tip.offsetWidth / 2;
      left = Math.max(0, Math.min(left, b.width - tip.offsetWidth));
      var top = r.top - b.top - tip.offsetHeight - 10;
      if (top < 0) top = r.bottom - b.top + 10;
      tip.style.left = left + "px";
      tip.style.top = top + "px";
    }
    function hide() { tip.hidden = true; }
    function move(from, to) {
      from.setAttribute("tabindex", "-1");
      to.setAttribute("tabindex", "0");
      to.focus();
    }
    points.forEach(function (p, i) {
      p.addEventListener("mouseenter", function () { show(p); });
      p.addEventListener("focus", function () { show(p); });
      p.addEventListener("blur", hide);
      p.addEventListener("keydown", function (e) {
        var next = null;
        if (e.key === "ArrowRight" || e.key === "ArrowUp") next = points[Math.min(i + 1, points.length - 1)];
        if (e.key === "ArrowLeft" || e.key === "ArrowDown") next = points[Math.max(i - 1, 0)];
        if (e.key === "Home") next = points[0];
        if (e.key === "End") next = points[points.length - 1];
        if (e.key === "Escape") { hide(); return; }
        if (next) { e.preventDefault(); if (next !== p) move(p, next); }
      });
    });
    // Stays while the pointer is over the chart or the tooltip (WCAG 1.4.13), goes when it leaves.
    box.addEventListener("mouseleave", function () { if (!box.contains(document.activeElement)) hide(); });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") hide(); });
  }

  function init() {
    initSearch();
    Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), initSortable);
    Array.prototype.forEach.call(document.querySelectorAll('[data-chart="run"]'), initChart);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
