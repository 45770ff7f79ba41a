/* Per-task figures (rows, bytes, seconds, a trend over the last runs, cache hits, the
 * cloud estimate beside the measurement, the error and its fix), the cost box and the
 * recent runs. */
(function (G) {
  "use strict";
  var fmt = G.fmt;  // util.js is inlined first

  var COLUMNS = ["task", "executor", "status", "attempts", "rows", "bytes", "seconds", "last runs",
    "cache hits", "cloud estimate", "service", "$ / run"];

  /* The table is written as one escaped markup string and parsed once: for 500 tasks that is
   * several times faster than creating its ~15,000 elements one by one. */
  function tasks(pipeline) {
    var esc = G.esc, html = ["<thead><tr>"];
    COLUMNS.forEach(function (h) { html.push("<th>", esc(h), "</th>"); });
    html.push("</tr></thead><tbody>");
    pipeline.tasks.forEach(function (t) {
      var last = t.last, est = t.estimate;
      html.push('<tr data-task="', esc(t.name), '" class="status-', esc(last ? last.status : "none"), '">',
        cell("name", t.name),
        cell("", t.executor + (t.detail ? " · " + t.detail : "")),
        cell("status", last ? last.status : "no runs yet"),
        cell("num", last ? last.attempts : "–"),
        cell("num", last ? fmt.count(last.rows) : "–"),
        cell("num", last ? fmt.bytes(last.bytes) : "–"),
        cell("num", last ? fmt.seconds(last.seconds) : "–"),
        '<td class="trend">', sparkline(t.trend), "</td>",
        cell("num", t.cache ? t.cache_hits + " / " + t.trend.length : "off"),
        cell("num", est ? fmt.seconds(est.seconds) + (est.measured ? "" : " (assumed)") : "–"),
        cell("", est ? est.service : "–"),
        cell("num", est ? fmt.usd(est.usd) : "–"),
        "</tr>");
      if (last && last.status === "failed") html.push(failure(t.name, last));
    });
    html.push("</tbody>");
    var table = G.el("table", { class: "tasks" });
    table.innerHTML = html.join("");
    return table;
  }

  function cell(cls, text) {
    return (cls ? '<td class="' + cls + '">' : "<td>") + G.esc(text) + "</td>";
  }

  function failure(name, last) {
    var esc = G.esc;
    return '<tr class="failure" data-failed-task="' + esc(name) + '"><td colspan="' + COLUMNS.length + '">' +
      '<div class="error">' + esc("Error: " + (last.error || "failed")) + "</div>" +
      (last.fix ? '<div class="fix">' + esc("Fix: " + last.fix) + "</div>" : "") + "</td></tr>";
  }

  /* Seconds per run, oldest left: a bar per run, cached runs hollow, failures red. */
  function sparkline(trend) {
    var w = 96, h = 20, n = Math.max(trend.length, 1), bw = Math.max(2, Math.floor(w / n) - 2);
    var top = trend.reduce(function (m, p) { return Math.max(m, p.seconds); }, 0) || 1;
    var out = ['<svg class="spark" width="', w, '" height="', h, '" viewBox="0 0 ', w, " ", h, '">'];
    trend.forEach(function (p, i) {
      // A cache hit takes ~0 s: keep it visible.
      var bh = Math.max(p.status === "cached" ? 8 : 2, (p.seconds / top) * (h - 2));
      var tip = p.run_id + ": " + p.status + ", " + fmt.seconds(p.seconds) + (p.rows !== null ? ", " + fmt.count(p.rows) + " rows" : "");
      out.push('<rect x="', i * (bw + 2), '" y="', h - bh, '" width="', bw, '" height="', bh,
        '" class="spark-bar status-', G.esc(p.status), '" data-tip="', G.esc(tip), '"></rect>');
    });
    out.push("</svg>");
    return out.join("");
  }

  function cost(pipeline) {
    var c = pipeline.cost, run = pipeline.run;
    var box = G.el("div", { class: "cost" });
    box.appendChild(G.el("p", { class: "total" }, "Estimated AWS cost per run: " + fmt.usd(c.per_run_usd) + " (us-east-1 list prices; " + c.transitions + " state transitions)"));
    var table = G.el("table", { class: "components" });
    Object.keys(c.by_component_usd).forEach(function (k) {
      var tr = G.el("tr");
      tr.appendChild(G.el("td", null, k));
      tr.appendChild(G.el("td", { class: "num" }, fmt.usd(c.by_component_usd[k])));
      table.appendChild(tr);
    });
    box.appendChild(table);
    var estimated = "Estimated critical path in the cloud: " + fmt.chain(c.critical_path.tasks) + " (" + fmt.seconds(c.critical_path.seconds) + ")";
    box.appendChild(G.el("p", null, estimated));
    if (run && run.critical_path.length) {
      var byTask = {};
      run.tasks.forEach(function (t) { byTask[t.task] = t; });
      var first = byTask[run.critical_path[0]], lastTask = byTask[run.critical_path[run.critical_path.length - 1]];
      var span = lastTask.offset + lastTask.seconds - first.offset;
      box.appendChild(G.el("p", null, "Measured critical path of run " + run.id + ": " + fmt.chain(run.critical_path) + " (" + fmt.seconds(span) + ")"));
    }
    box.appendChild(G.el("p", { class: "muted" }, "Durations: " + (c.history || "none measured, all assumed")));
    c.warnings.forEach(function (w) { box.appendChild(G.el("p", { class: "warning" }, "Warning: " + w)); });
    var details = G.el("details");
    details.appendChild(G.el("summary", null, "Assumptions (" + c.assumptions.length + ")"));
    var list = G.el("ul");
    c.assumptions.forEach(function (a) { list.appendChild(G.el("li", null, a)); });
    details.appendChild(list);
    box.appendChild(details);
    return box;
  }

  function runs(pipeline) {
    var table = G.el("table", { class: "runs" });
    var head = G.el("tr");
    ["run", "status", "started", "seconds"].forEach(function (h) { head.appendChild(G.el("th", null, h)); });
    table.appendChild(head);
    var selected = pipeline.run ? pipeline.run.id : null;
    pipeline.runs.forEach(function (r) {
      var tr = G.el("tr", { class: "status-" + r.status + (r.id === selected ? " selected" : "") });
      tr.appendChild(G.el("td", { class: "name" }, r.id + (r.id === selected ? "  (shown)" : "")));
      tr.appendChild(G.el("td", { class: "status" }, r.status));
      tr.appendChild(G.el("td", null, G.fmt.when(r.started_at)));
      tr.appendChild(G.el("td", { class: "num" }, G.fmt.seconds(r.seconds)));
      table.appendChild(tr);
    });
    return table;
  }

  G.tables = { tasks: tasks, cost: cost, runs: runs };
})(window.Glacier = window.Glacier || {});
