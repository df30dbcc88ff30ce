/**
 * The usage console's page (`GET /console`): one self-contained HTML document — its style and its
 * script inline (allowed by hash in the page's Content-Security-Policy, see console.ts), no
 * framework, no CDN, charts drawn as inline SVG. A tenant admin pastes an API key (kept in
 * sessionStorage only: gone when the tab closes, never in a cookie or a URL), picks a range, and
 * the page reads `GET /v1/usage?groupBy=day|key|model|route` with that key and draws requests,
 * tokens, cost, errors and p50/p99 latency per day, with tables per key, model and route.
 *
 * The script is plain ES2020 written without template literals, so it can sit in this TypeScript
 * template string unescaped.
 */

export const CONSOLE_STYLE = `
:root { color-scheme: light; --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --panel: #ffffff; --bg: #f3f4f6; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 16px 24px; background: #111827; color: #f9fafb; display: flex; align-items: baseline; gap: 12px; }
header h1 { margin: 0; font-size: 18px; }
header span { color: #9ca3af; }
main { padding: 16px 24px 40px; max-width: 1180px; margin: 0 auto; }
form { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; background: var(--panel); padding: 12px; border: 1px solid var(--line); border-radius: 8px; }
input, select, button { font: inherit; padding: 6px 10px; border: 1px solid #d1d5db; border-radius: 6px; background: #fff; }
input[type=password] { flex: 1 1 320px; min-width: 200px; }
button { background: #2563eb; color: #fff; border-color: #2563eb; cursor: pointer; }
button.secondary { background: #fff; color: var(--ink); border-color: #d1d5db; }
#status { margin: 10px 2px; color: var(--muted); min-height: 20px; }
#status.error { color: #b91c1c; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin: 12px 0; }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.tile b { display: block; font-size: 20px; }
.tile small { color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 12px; }
.chart { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.chart h2, .table h2 { margin: 0 0 6px; font-size: 14px; }
.legend { display: flex; gap: 12px; color: var(--muted); font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
svg { width: 100%; height: auto; display: block; }
svg text { font-size: 11px; fill: #6b7280; }
.tables { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 720px), 1fr)); gap: 12px; margin-top: 12px; }
.table { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: right; padding: 4px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td:first-child { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
`;

export const CONSOLE_SCRIPT = `
"use strict";
(function () {
  var KEY_ITEM = "crispy.console.key";
  var COLORS = { blue: "#2563eb", green: "#16a34a", amber: "#d97706", red: "#dc2626", violet: "#7c3aed", teal: "#0d9488" };
  var SVG = "http://www.w3.org/2000/svg";
  var W = 420, H = 180, PAD_L = 52, PAD_R = 8, PAD_T = 10, PAD_B = 22;

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) node.setAttribute(name, attrs[name]);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svgEl(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    for (var name in attrs || {}) node.setAttribute(name, String(attrs[name]));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fmt(n) {
    if (n === null || n === undefined) return "–";
    if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + "k";
    return String(Math.round(n * 100) / 100);
  }
  function usd(n) {
    if (!(n > 0) || n >= 0.01) return "$" + (n || 0).toFixed(2);
    return "$" + n.toFixed(Math.min(8, 1 - Math.floor(Math.log10(n))));
  }
  function ms(n) { return n === null || n === undefined ? "–" : Math.round(n) + " ms"; }
  function day(offset) { return new Date(Date.now() - offset * 86400000).toISOString().slice(0, 10); }
  function status(text, isError) { var s = $("status"); s.textContent = text; s.className = isError ? "error" : ""; }

  function frame(title, series) {
    var box = el("section", { "class": "chart" });
    box.appendChild(el("h2", {}, title));
    var legend = el("div", { "class": "legend" });
    series.forEach(function (s) {
      var item = el("span", {});
      var swatch = el("i", {});
      swatch.style.background = s.color;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(s.name));
      legend.appendChild(item);
    });
    box.appendChild(legend);
    var svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": title });
    svg.appendChild(svgEl("rect", { x: 0, y: 0, width: W, height: H, fill: "#ffffff" }));
    box.appendChild(svg);
    return { box: box, svg: svg };
  }

  function axes(svg, days, max, format) {
    var plotH = H - PAD_T - PAD_B;
    [0, 0.5, 1].forEach(function (f) {
      var y = PAD_T + plotH * (1 - f);
      svg.appendChild(svgEl("line", { x1: PAD_L, x2: W - PAD_R, y1: y, y2: y, stroke: "#e5e7eb" }));
      svg.appendChild(svgEl("text", { x: PAD_L - 6, y: y + 3, "text-anchor": "end" }, format(max * f)));
    });
    if (days.length > 0) {
      svg.appendChild(svgEl("text", { x: PAD_L, y: H - 6 }, days[0]));
      svg.appendChild(svgEl("text", { x: W - PAD_R, y: H - 6, "text-anchor": "end" }, days[days.length - 1]));
    }
  }

  /** Bars per day; several series stack. */
  function barChart(title, days, series, format) {
    var f = frame(title, series);
    var totals = days.map(function (_, i) { return series.reduce(function (sum, s) { return sum + (s.values[i] || 0); }, 0); });
    var max = Math.max.apply(null, totals.concat([0])) || 1;
    axes(f.svg, days, max, format);
    var plotW = W - PAD_L - PAD_R, plotH = H - PAD_T - PAD_B;
    var step = plotW / Math.max(days.length, 1), width = Math.max(1, step * 0.7);
    var points = 0;
    days.forEach(function (d, i) {
      var base = 0;
      series.forEach(function (s) {
        var v = s.values[i] || 0;
        if (v <= 0) return;
        var h = (v / max) * plotH;
        var rect = svgEl("rect", {
          x: PAD_L + i * step + (step - width) / 2, y: PAD_T + plotH - base - h, width: width, height: Math.max(h, 1),
          fill: s.color, "class": "point"
        });
        rect.appendChild(svgEl("title", {}, d + " " + s.name + ": " + format(v)));
        f.svg.appendChild(rect);
        base += h;
        points += 1;
      });
    });
    f.box.setAttribute("data-points", String(points));
    return f.box;
  }

  /** One line per series; days without a value break nothing (they are skipped). */
  function lineChart(title, days, series, format) {
    var f = frame(title, series);
    var values = [];
    series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null) values.push(v); }); });
    var max = Math.max.apply(null, values.concat([0])) || 1;
    axes(f.svg, days, max, format);
    var plotW = W - PAD_L - PAD_R, plotH = H - PAD_T - PAD_B;
    var step = plotW / Math.max(days.length, 1);
    var points = 0;
    series.forEach(function (s) {
      var path = "";
      s.values.forEach(function (v, i) {
        if (v === null) return;
        var x = PAD_L + i * step + step / 2, y = PAD_T + plotH - (v / max) * plotH;
        path += (path ? " L" : "M") + x.toFixed(1) + " " + y.toFixed(1);
        var dot = svgEl("circle", { cx: x, cy: y, r: 3, fill: s.color, "class": "point" });
        dot.appendChild(svgEl("title", {}, days[i] + " " + s.name + ": " + format(v)));
        f.svg.appendChild(dot);
        points += 1;
      });
      if (path) f.svg.insertBefore(svgEl("path", { d: path, fill: "none", stroke: s.color, "stroke-width": 2 }), f.svg.firstChild.nextSibling);
    });
    f.box.setAttribute("data-points", String(points));
    return f.box;
  }

  function table(title, label, report) {
    var box = el("section", { "class": "table" });
    box.appendChild(el("h2", {}, title));
    var t = el("table", {});
    var head = el("tr", {});
    [label, "requests", "4xx", "5xx", "tokens", "cost", "p50", "p99"].forEach(function (h) { head.appendChild(el("th", {}, h)); });
    t.appendChild(head);
    report.rows.forEach(function (r) {
      var tr = el("tr", {});
      [r.group, fmt(r.requests), fmt(r.errors4xx), fmt(r.errors5xx), fmt(r.totalTokens), usd(r.costUsd), ms(r.p50Ms), ms(r.p99Ms)]
        .forEach(function (c) { tr.appendChild(el("td", {}, c)); });
      t.appendChild(tr);
    });
    if (report.rows.length === 0) {
      var empty = el("tr", {});
      empty.appendChild(el("td", { colspan: "8" }, "no usage in this range"));
      t.appendChild(empty);
    }
    box.appendChild(t);
    return box;
  }

  function tile(label, value) {
    var box = el("div", { "class": "tile" });
    box.appendChild(el("b", {}, value));
    box.appendChild(el("small", {}, label));
    return box;
  }

  // A 429 is waited out (its Retry-After, at most 30 s) and retried up to three times.
  function fetchUsage(key, groupBy, from, to, attempt) {
    attempt = attempt || 1;
    var url = "/v1/usage?groupBy=" + groupBy + "&from=" + from + "&to=" + to;
    return fetch(url, { headers: { authorization: "Bearer " + key } }).then(function (response) {
      if (response.status === 429 && attempt < 4) {
        var wait = Math.min(30, Number(response.headers.get("retry-after")) || 1);
        status("Rate limited; retrying in " + wait + " s …");
        return new Promise(function (resolve) { setTimeout(resolve, wait * 1000); }).then(function () {
          return fetchUsage(key, groupBy, from, to, attempt + 1);
        });
      }
      return response.json().then(function (body) {
        if (!response.ok) throw new Error((body && body.error && body.error.message) || ("HTTP " + response.status));
        return body;
      });
    });
  }

  function render(byDay, byKey, byModel, byRoute) {
    var days = byDay.rows.map(function (r) { return r.group; });
    var pick = function (field) { return byDay.rows.map(function (r) { return r[field]; }); };
    var t = byDay.totals;
    var tiles = $("tiles");
    tiles.replaceChildren(
      tile("requests", fmt(t.requests)),
      tile("tokens (prompt + completion)", fmt(t.totalTokens)),
      tile("cost", usd(t.costUsd)),
      tile("errors (4xx / 5xx)", fmt(t.errors4xx) + " / " + fmt(t.errors5xx)),
      tile("latency p50 / p99", ms(t.p50Ms) + " / " + ms(t.p99Ms))
    );
    $("charts").replaceChildren(
      barChart("Requests per day", days, [{ name: "requests", color: COLORS.blue, values: pick("requests") }], fmt),
      barChart("Tokens per day", days, [
        { name: "prompt", color: COLORS.violet, values: pick("promptTokens") },
        { name: "completion", color: COLORS.teal, values: pick("completionTokens") }
      ], fmt),
      barChart("Cost per day (USD)", days, [{ name: "cost", color: COLORS.green, values: pick("costUsd") }], usd),
      barChart("Errors per day", days, [
        { name: "4xx", color: COLORS.amber, values: pick("errors4xx") },
        { name: "5xx", color: COLORS.red, values: pick("errors5xx") }
      ], fmt),
      lineChart("Latency per day", days, [
        { name: "p50", color: COLORS.blue, values: pick("p50Ms") },
        { name: "p99", color: COLORS.red, values: pick("p99Ms") }
      ], function (v) { return Math.round(v) + " ms"; })
    );
    $("tables").replaceChildren(table("By key", "key", byKey), table("By model", "model", byModel), table("By route", "route", byRoute));
  }

  function load() {
    var key = sessionStorage.getItem(KEY_ITEM);
    if (!key) { status("Paste an API key of your tenant to see its usage."); return; }
    var span = Number($("range").value);
    var from = day(span - 1), to = day(0);
    status("Loading " + from + " … " + to + " …");
    Promise.all(["day", "key", "model", "route"].map(function (g) { return fetchUsage(key, g, from, to); }))
      .then(function (reports) {
        render(reports[0], reports[1], reports[2], reports[3]);
        var scope = reports[0].keyId ? "only this key's usage (it has no admin scope)" : "every key of the tenant";
        $("root").setAttribute("data-state", "loaded");
        status("Usage " + from + " … " + to + ", " + scope + ".");
      })
      .catch(function (error) {
        $("root").setAttribute("data-state", "error");
        status(error.message, true);
      });
  }

  $("form").addEventListener("submit", function (event) {
    event.preventDefault();
    var key = $("key").value.trim();
    if (key) sessionStorage.setItem(KEY_ITEM, key);
    $("key").value = "";
    load();
  });
  $("forget").addEventListener("click", function () {
    sessionStorage.removeItem(KEY_ITEM);
    $("tiles").replaceChildren();
    $("charts").replaceChildren();
    $("tables").replaceChildren();
    $("root").setAttribute("data-state", "empty");
    status("Key forgotten.");
  });
  $("range").addEventListener("change", load);
  load();
})();
`;

/** The page, with its style and script inline. */
export function consoleHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Usage · Crispy Enigma</title>
<style>${CONSOLE_STYLE}</style>
</head>
<body>
<header><h1>Crispy Enigma</h1><span>usage console</span></header>
<main id="root" data-state="empty">
<form id="form" autocomplete="off">
  <input id="key" type="password" placeholder="API key (ce_…), kept in this tab only" aria-label="API key">
  <select id="range" aria-label="range">
    <option value="7">last 7 days</option>
    <option value="30" selected>last 30 days</option>
    <option value="90">last 90 days</option>
  </select>
  <button type="submit">Show usage</button>
  <button type="button" class="secondary" id="forget">Forget key</button>
</form>
<div id="status" role="status"></div>
<div class="tiles" id="tiles"></div>
<div class="charts" id="charts"></div>
<div class="tables" id="tables"></div>
</main>
<script>${CONSOLE_SCRIPT}</script>
</body>
</html>
`;
}
