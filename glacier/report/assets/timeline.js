/* The run's timeline (Gantt): one bar per task over wall time (rect.bar[data-task]), coloured
 * by status, cached bars hatched, retried tasks labelled with their attempts, and the
 * critical path outlined and joined. */
(function (G) {
  "use strict";
  var LABEL_W = 220, PLOT_W = 860, ROW = 20, AXIS = 26, PAD = 10;

  function draw(run, index) {
    var rows = run.tasks, critical = new Set(run.critical_path);
    var total = rows.reduce(function (m, t) { return Math.max(m, t.offset + t.seconds); }, run.seconds || 0) || 0.001;
    var height = AXIS + rows.length * ROW + PAD;
    var width = LABEL_W + PLOT_W + 90;
    var root = G.svg("svg", { class: "timeline", viewBox: "0 0 " + width + " " + height, width: width, height: height });
    var defs = G.svg("defs");
    var hatch = G.svg("pattern", { id: "hatch-" + index, patternUnits: "userSpaceOnUse", width: 6, height: 6, patternTransform: "rotate(45)" });
    hatch.appendChild(G.svg("rect", { width: 6, height: 6, class: "hatch-bg" }));
    hatch.appendChild(G.svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch-line" }));
    defs.appendChild(hatch);
    root.appendChild(defs);
    axis(root, total, height);
    var scale = PLOT_W / total, centres = {};
    var bars = G.svg("g", { class: "bars" });
    rows.forEach(function (t, i) {
      var y = AXIS + i * ROW;
      if (i % 2) bars.appendChild(G.svg("rect", { x: 0, y: y, width: width, height: ROW, class: "stripe-row" }));
      bars.appendChild(G.svg("text", { x: LABEL_W - 8, y: y + 14, class: "label" + (critical.has(t.task) ? " critical" : "") }, G.fmt.clip(t.task, 30)));
      var x = LABEL_W + t.offset * scale, w = Math.max(2, t.seconds * scale);
      var bar = G.svg("rect", {
        x: x, y: y + 3, width: w, height: ROW - 6, rx: 2, "data-task": t.task, "data-status": t.status,
        class: "bar status-" + t.status + (critical.has(t.task) ? " critical" : ""),
        fill: t.status === "cached" ? "url(#hatch-" + index + ")" : null
      });
      G.tip(bar, describe(t, critical.has(t.task)));
      bars.appendChild(bar);
      var note = t.attempts > 1 ? t.attempts + " attempts" : t.status === "cached" ? "cached" : t.status === "failed" ? "failed" : t.status === "skipped" ? "skipped" : "";
      if (note) bars.appendChild(G.svg("text", { x: x + w + 4, y: y + 14, class: "note status-" + t.status }, note));
      centres[t.task] = { start: x, end: x + w, y: y + ROW / 2 };
    });
    root.appendChild(bars);
    var chain = run.critical_path.filter(function (name) { return centres[name]; });
    if (chain.length > 1) {
      var d = chain.map(function (name, i) {
        var c = centres[name];
        return (i ? "L" + c.start + "," + c.y + " " : "M" + c.start + "," + c.y + " ") + "L" + c.end + "," + c.y;
      }).join(" ");
      root.appendChild(G.svg("path", { d: d, class: "critical-link" }));
    }
    return root;
  }

  function axis(root, total, height) {
    var step = niceStep(total / 8), g = G.svg("g", { class: "axis" });
    for (var s = 0; s <= total + 1e-9; s += step) {
      var x = LABEL_W + (s / total) * PLOT_W;
      g.appendChild(G.svg("line", { x1: x, y1: AXIS - 6, x2: x, y2: height - PAD, class: "tick" }));
      g.appendChild(G.svg("text", { x: x, y: AXIS - 10, class: "tick-label" }, G.fmt.seconds(s)));
    }
    root.appendChild(g);
  }

  function niceStep(raw) {
    var power = Math.pow(10, Math.floor(Math.log10(raw || 1e-3)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * power >= raw) return steps[i] * power;
    return 10 * power;
  }

  function describe(t, critical) {
    var lines = [t.task + ": " + t.status, "start +" + G.fmt.seconds(t.offset) + ", " + G.fmt.seconds(t.seconds)];
    if (t.attempts > 1) lines.push(t.attempts + " attempts");
    if (t.rows !== null) lines.push(G.fmt.count(t.rows) + " rows, " + G.fmt.bytes(t.bytes));
    if (critical) lines.push("on the critical path");
    if (t.error) lines.push("error: " + t.error);
    return lines.join("\n");
  }

  G.timeline = { draw: draw };
})(window.Glacier = window.Glacier || {});
