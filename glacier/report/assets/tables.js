/* Per-task figures (rows, bytes, seconds, a trend over the last runs, cache hits, the
 * cloud estimate beside the measurement, the error and its fix), the cost box and the
 * recent runs. */
(function (G) {
  "use strict";
  var fmt = G.fmt;  // util.js is inlined first

  function tasks(pipeline) {
    var table = G.el("table", { class: "tasks" });
    var head = G.el("tr");
    ["task", "executor", "status", "attempts", "rows", "bytes", "seconds", "last runs", "cache hits",
      "cloud estimate", "service", "$ / run"].forEach(function (h) { head.appendChild(G.el("th", null, h)); });
    var thead = G.el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = G.el("tbody");
    pipeline.tasks.forEach(function (t) {
      var last = t.last, est = t.estimate;
      var tr = G.el("tr", { "data-task": t.name, class: last ? "status-" + last.status : "status-none" });
      tr.appendChild(G.el("td", { class: "name" }, t.name));
      tr.appendChild(G.el("td", null, t.executor + (t.detail ? " · " + t.detail : "")));
      tr.appendChild(G.el("td", { class: "status" }, last ? last.status : "no runs yet"));
      tr.appendChild(G.el("td", { class: "num" }, last ? last.attempts : "–"));
      tr.appendChild(G.el("td", { class: "num" }, last ? fmt.count(last.rows) : "–"));
      tr.appendChild(G.el("td", { class: "num" }, last ? fmt.bytes(last.bytes) : "–"));
      tr.appendChild(G.el("td", { class: "num" }, last ? fmt.seconds(last.seconds) : "–"));
      var trendCell = G.el("td", { class: "trend" });
      trendCell.appendChild(sparkline(t.trend));
      tr.appendChild(trendCell);
      tr.appendChild(G.el("td", { class: "num" }, t.cache ? t.cache_hits + " / " + t.trend.length : "off"));
      tr.appendChild(G.el("td", { class: "num" }, est ? fmt.seconds(est.seconds) + (est.measured ? "" : " (assumed)") : "–"));
      tr.appendChild(G.el("td", null, est ? est.service : "–"));
      tr.appendChild(G.el("td", { class: "num" }, est ? fmt.usd(est.usd) : "–"));
      body.appendChild(tr);
      if (last && last.status === "failed") body.appendChild(failure(t.name, last, 12));
    });
    table.appendChild(body);
    return table;
  }

  function failure(name, last, span) {
    var tr = G.el("tr", { class: "failure", "data-failed-task": name });
    var td = G.el("td", { colspan: span });
    td.appendChild(G.el("div", { class: "error" }, "Error: " + (last.error || "failed")));
    if (last.fix) td.appendChild(G.el("div", { class: "fix" }, "Fix: " + last.fix));
    tr.appendChild(td);
    return tr;
  }

  /* Seconds per run, oldest left: a bar per run, cached runs hollow, failures red. */
  function sparkline(trend) {
    var w = 96, h = 20, n = Math.max(trend.length, 1), bw = Math.max(2, Math.floor(w / n) - 2);
    var top = trend.reduce(function (m, p) { return Math.max(m, p.seconds); }, 0) || 1;
    var root = G.svg("svg", { class: "spark", width: w, height: h, viewBox: "0 0 " + w + " " + h });
    trend.forEach(function (p, i) {
      var bh = Math.max(p.status === "cached" ? 8 : 2, (p.seconds / top) * (h - 2));  // a cache hit takes ~0 s: keep it visible
      var bar = G.svg("rect", { x: i * (bw + 2), y: h - bh, width: bw, height: bh, class: "spark-bar status-" + p.status });
      G.tip(bar, p.run_id + ": " + p.status + ", " + fmt.seconds(p.seconds) + (p.rows !== null ? ", " + fmt.count(p.rows) + " rows" : ""));
      root.appendChild(bar);
    });
    return root;
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
