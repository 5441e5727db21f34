/* NAoMe results portal: search with suggestions, sortable and filterable tables, period views,
   collapsible sections and run-chart tooltips. Plain JavaScript, no network: everything it needs is
   in the page. The state a reader sets (query, sort, period, area) is kept in the URL to share. */
(function () {
  "use strict";

  function norm(s) {
    return (s || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, " ").trim();
  }
  function params() { return new URLSearchParams(window.location.search); }
  /* Pages opened from file:// cannot rewrite their URL in every browser: the view still works. */
  function setParam(name, value) {
    var p = params();
    if (value) p.set(name, value); else p.delete(name);
    var query = p.toString();
    try {
      window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
    } catch (e) { /* opaque origin */ }
  }
  function all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  /* ---------- search: organisations, areas and places, with suggestions ---------- */
  var LEVEL_RANK = { nation: 0, region: 1, alliance: 2, organisation: 3 };

  function editDistance(a, b) {
    if (Math.abs(a.length - b.length) > 3) return 99;
    var prev = [], cur, i, j;
    for (j = 0; j <= b.length; j++) prev.push(j);
    for (i = 1; i <= a.length; i++) {
      cur = [i];
      for (j = 1; j <= b.length; j++) {
        cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
      }
      prev = cur;
    }
    return prev[b.length];
  }

  function initSearch() {
    var input = document.getElementById("site-search");
    var data = document.getElementById("search-index");
    if (!input || !data) return;
    var entries = JSON.parse(data.textContent);
    var vocabulary = {};
    entries.forEach(function (o) {
      o._n = norm(o.n); o._c = norm(o.c); o._w = norm(o.w); o._p = norm(o.p);
      (o._n + " " + o._w).split(" ").forEach(function (w) { if (w.length > 2) vocabulary[w] = o.n; });
    });
    var list = document.getElementById("search-results");
    var status = document.getElementById("search-status");
    var form = document.getElementById("site-search-form");
    var timer = null;

    function hasWord(text, q) { return (" " + text).indexOf(" " + q) >= 0; }
    function score(o, q) {
      if (o._c === q) return 0;
      if (o._n === q) return 1;
      if (o._n.indexOf(q) === 0) return 2;
      if (hasWord(o._n, q)) return 3;
      if (o._c.indexOf(q) === 0) return 4;
      if (hasWord(o._w, q)) return 5;
      if (hasWord(o._p, q)) return 6;
      var words = q.split(" ");
      var text = o._n + " " + o._w + " " + o._p;
      if (words.length > 1 && words.every(function (w) { return hasWord(text, w); })) return 7;
      if (q.length > 3 && o._n.indexOf(q) >= 0) return 8;
      return -1;
    }
    function matches(q) {
      return entries.map(function (o) { return [score(o, q), o]; })
        .filter(function (p) { return p[0] >= 0; })
        .sort(function (a, b) {
          return a[0] - b[0] || LEVEL_RANK[a[1].l] - LEVEL_RANK[b[1].l] || a[1].n.localeCompare(b[1].n);
        })
        .map(function (p) { return p[1]; });
    }
    function suggestions(q) {
      var best = [];
      Object.keys(vocabulary).forEach(function (w) {
        q.split(" ").forEach(function (part) {
          if (part.length < 3) return;
          var d = editDistance(part, w);
          if (d <= Math.max(1, Math.floor(part.length / 4))) best.push([d, w]);
        });
      });
      best.sort(function (a, b) { return a[0] - b[0] || a[1].localeCompare(b[1]); });
      var seen = {};
      return best.map(function (p) { return p[1]; }).filter(function (w) {
        if (seen[w]) return false; seen[w] = true; return true;
      }).slice(0, 4);
    }
    function highlight(text, q) {
      var i = norm(text).indexOf(q);
      var frag = document.createDocumentFragment();
      if (i < 0 || q.length === 0 || norm(text).length !== text.length) {
        frag.appendChild(document.createTextNode(text)); return frag;
      }
      frag.appendChild(document.createTextNode(text.slice(0, i)));
      var m = document.createElement("mark");
      m.textContent = text.slice(i, i + q.length);
      frag.appendChild(m);
      frag.appendChild(document.createTextNode(text.slice(i + q.length)));
      return frag;
    }
    function item(o, q) {
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
      meta.textContent = o.k + " · " + o.c + (o.p ? " · " + o.p : "");
      if (o.w && score(o, q) === 5) meta.textContent += " · serves " + o.w;
      a.appendChild(meta);
      li.appendChild(a);
      return li;
    }
    function suggest(q) {
      var words = suggestions(q);
      var p = document.createElement("p");
      p.className = "suggest";
      if (!words.length) {
        p.textContent = "Try part of a name, an organisation code, a town, a Cancer Alliance, a region or a nation.";
        return p;
      }
      p.appendChild(document.createTextNode("Did you mean "));
      words.forEach(function (w, i) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "link-button";
        b.textContent = w;
        b.addEventListener("click", function () { input.value = w; render(); input.focus(); });
        p.appendChild(b);
        p.appendChild(document.createTextNode(i < words.length - 1 ? ", " : "?"));
      });
      return p;
    }
    function render() {
      var raw = input.value.trim();
      var q = norm(raw);
      list.textContent = "";
      var old = document.getElementById("search-suggest");
      if (old) old.parentNode.removeChild(old);
      setParam("q", raw);
      if (!q) { status.textContent = ""; return; }
      var found = matches(q);
      var shown = found.slice(0, 15);
      shown.forEach(function (o) { list.appendChild(item(o, q)); });
      if (found.length === 0) {
        status.textContent = "Nothing matches “" + raw + "”.";
        var s = suggest(q);
        s.id = "search-suggest";
        list.parentNode.insertBefore(s, list);
      } else {
        status.textContent = (found.length === 1 ? "1 match" : found.length + " matches") +
          (found.length > shown.length ? "; showing the first " + shown.length + "." : ".");
      }
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(render, 60); });
    form.addEventListener("submit", function (e) {
      render();
      var first = list.querySelector("a");
      e.preventDefault();
      if (first && list.querySelectorAll("a").length === 1) window.location.href = first.href;
      else if (first) first.focus();
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { var a = list.querySelector("a"); if (a) { e.preventDefault(); a.focus(); } }
      if (e.key === "Escape") { input.value = ""; render(); }
    });
    list.addEventListener("keydown", function (e) {
      var links = all("a", list);
      var i = links.indexOf(document.activeElement);
      if (i < 0) return;
      if (e.key === "ArrowDown" && i < links.length - 1) { e.preventDefault(); links[i + 1].focus(); }
      if (e.key === "ArrowUp") { e.preventDefault(); (i === 0 ? input : links[i - 1]).focus(); }
    });
    var given = params().get("q");
    if (given) { input.value = given; render(); }
    else if (input.value) render();
  }

  /* ---------- sortable tables (sort kept in the URL as ?sort=table.column.asc) ---------- */
  function cellKey(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  function sortTable(table, index, ascending) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var th = headers[index];
    var button = th && th.querySelector("button");
    if (!button) return;
    headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var numeric = button.getAttribute("data-type") === "number";
    Array.prototype.forEach.call(table.tBodies, function (body) {
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
  }
  function initSortable(table) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var key = table.getAttribute("data-key") || "";
    headers.forEach(function (th, index) {
      var button = th.querySelector("button");
      if (!button) return;
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        sortTable(table, index, ascending);
        setParam("sort", key + "." + index + "." + (ascending ? "asc" : "desc"));
      });
    });
  }
  function applySortFromUrl() {
    var given = params().get("sort");
    if (!given) return;
    var parts = given.split(".");
    if (parts.length !== 3) return;
    all("table[data-sortable]").forEach(function (table) {
      if ((table.getAttribute("data-key") || "") === parts[0]) sortTable(table, parseInt(parts[1], 10), parts[2] === "asc");
    });
  }

  /* ---------- period views: one period shown at a time (?period=2024-25) ---------- */
  function initPeriods() {
    var selects = all("select[data-period-select]");
    if (!selects.length) return;
    function show(key, remember) {
      var known = all("[data-period-view]").some(function (v) { return v.getAttribute("data-period-view") === key; });
      if (!known) return;
      all("[data-period-view]").forEach(function (v) { v.hidden = v.getAttribute("data-period-view") !== key; });
      selects.forEach(function (s) { s.value = key; });
      if (remember) setParam("period", key === selects[0].getAttribute("data-default") ? "" : key);
      document.dispatchEvent(new CustomEvent("naome:period"));
    }
    selects.forEach(function (s) {
      s.closest("[data-period-picker]").hidden = false;
      s.addEventListener("change", function () { show(s.value, true); });
    });
    show(params().get("period") || selects[0].getAttribute("data-default"), false);
  }

  /* ---------- area filter on indicator pages (?area=<an area code>) ---------- */
  function initAreaFilter() {
    var select = document.getElementById("area-filter");
    if (!select) return;
    var status = document.getElementById("area-status");
    function apply(code, remember) {
      var label = code ? select.options[select.selectedIndex].text : "";
      all("[data-in]").forEach(function (el) {
        var inside = !code || (" " + el.getAttribute("data-in") + " ").indexOf(" " + code + " ") >= 0;
        if (el.tagName === "TR") el.hidden = !inside;
        else el.classList.toggle("dim", !inside);
      });
      var view = all("[data-period-view]").filter(function (v) { return !v.hidden; })[0] || document;
      var rows = all("table.orgs-table tbody tr", view);
      var shown = rows.filter(function (r) { return !r.hidden; }).length;
      status.textContent = code ? "Showing the " + shown + " organisations in " + label + "." :
        "Showing all " + rows.length + " organisations.";
      if (remember) setParam("area", code);
    }
    select.closest("[data-area-picker]").hidden = false;
    select.addEventListener("change", function () { apply(select.value, true); });
    document.addEventListener("naome:period", function () { apply(select.value, false); });
    var given = params().get("area");
    if (given && all("option", select).some(function (o) { return o.value === given; })) select.value = given;
    apply(select.value, false);
  }

  /* ---------- collapsible blocks: open without script, closed (with a button) with it ---------- */
  function initCollapsibles() {
    all("[data-collapsible]").forEach(function (block, i) {
      var body = block.querySelector("[data-collapsible-body]");
      var heading = block.querySelector("[data-collapsible-heading]");
      if (!body || !heading) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "toggle";
      button.setAttribute("aria-expanded", "false");
      body.id = body.id || "collapsible-" + i;
      button.setAttribute("aria-controls", body.id);
      while (heading.firstChild) button.appendChild(heading.firstChild);
      heading.appendChild(button);
      body.hidden = true;
      block.classList.add("collapsed");
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        button.setAttribute("aria-expanded", open ? "true" : "false");
        body.hidden = !open;
        block.classList.toggle("collapsed", !open);
      });
    });
  }

  /* ---------- run charts: tooltips on hover and focus, arrow keys between points ---------- */
  function initChart(box) {
    var tip = box.querySelector(".tooltip");
    var points = all(".pt", box);
    if (!tip || points.length === 0) return;
    // One tab stop per chart (the latest point); arrow keys move between points.
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
    initCollapsibles();
    initSearch();
    all("table[data-sortable]").forEach(initSortable);
    initPeriods();
    initAreaFilter();
    applySortFromUrl();
    all('[data-chart="run"]').forEach(initChart);
    // Printing shows every collapsed block; the screen view comes back afterwards.
    window.addEventListener("beforeprint", function () { document.documentElement.classList.add("printing"); });
    window.addEventListener("afterprint", function () { document.documentElement.classList.remove("printing"); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
