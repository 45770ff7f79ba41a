/* The lineage graph: one SVG group per dataset and per task (data-node="dataset:<id>" /
 * "task:<name>"), edges dataset -> task -> dataset. Tasks show their executor and their last
 * status and duration; datasets their format and columns when the DAG knows them. */
(function (G) {
  "use strict";
  var TASK_W = 196, TASK_H = 58, DATA_W = 214, LINE = 13, MAX_COLUMNS = 6;

  function size(node) {
    if (node.kind === "task") return { width: TASK_W, height: TASK_H };
    var cols = node.columns ? node.columns.length : 0;
    var shown = Math.min(cols, MAX_COLUMNS) + (cols > MAX_COLUMNS ? 1 : 0);
    return { width: DATA_W, height: 38 + (shown ? 4 + shown * LINE : 0) };
  }

  function draw(pipeline, index, critical) {
    var nodes = pipeline.graph.nodes, sizes = {};
    var input = nodes.map(function (n) { var s = size(n); sizes[n.id] = s; return { id: n.id, width: s.width, height: s.height }; });
    var laid = G.layout(input, pipeline.graph.edges);
    var root = G.svg("svg", {
      class: "lineage", "data-engine": laid.engine, viewBox: "0 0 " + laid.width + " " + laid.height,
      width: laid.width, height: laid.height, "data-width": laid.width, "data-height": laid.height
    });
    var defs = G.svg("defs");
    var marker = G.svg("marker", { id: "arrow-" + index, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.appendChild(G.svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }));
    defs.appendChild(marker);
    root.appendChild(defs);
    var edgeLayer = G.svg("g", { class: "edges" }), nodeLayer = G.svg("g", { class: "nodes" });
    laid.edges.forEach(function (e) {
      edgeLayer.appendChild(G.svg("path", { class: "edge", d: path(e), "marker-end": "url(#arrow-" + index + ")", "data-from": e.from, "data-to": e.to }));
    });
    nodes.forEach(function (n) {
      var at = laid.nodes[n.id], s = sizes[n.id];
      var group = G.svg("g", { transform: "translate(" + (at.x - s.width / 2) + "," + (at.y - s.height / 2) + ")", "data-node": n.id });
      if (n.kind === "task") taskNode(group, n, s, critical.has(n.label));
      else datasetNode(group, n, s);
      nodeLayer.appendChild(group);
    });
    root.appendChild(edgeLayer);
    root.appendChild(nodeLayer);
    return root;
  }

  function path(e) {
    var p = e.points;
    if (e.curve) return "M" + p[0] + " C" + p[1] + " " + p[2] + " " + p[3];
    var d = "M" + p[0][0] + "," + p[0][1];
    for (var i = 1; i < p.length - 1; i++) {
      var mx = (p[i][0] + p[i + 1][0]) / 2, my = (p[i][1] + p[i + 1][1]) / 2;
      d += " Q" + p[i][0] + "," + p[i][1] + " " + mx + "," + my;
    }
    var last = p[p.length - 1];
    return d + " L" + last[0] + "," + last[1];
  }

  function taskNode(group, n, s, critical) {
    var status = n.status || "none";
    group.setAttribute("class", "node task exec-" + n.executor + " status-" + status + (critical ? " critical" : ""));
    group.appendChild(G.svg("rect", { width: s.width, height: s.height, rx: 6, class: "box" }));
    group.appendChild(G.svg("rect", { width: 6, height: s.height, rx: 3, class: "stripe" }));
    group.appendChild(G.svg("text", { x: 14, y: 17, class: "name" }, G.fmt.clip(n.label, 24)));
    var exec = n.executor + (n.detail ? " · " + n.detail : "");
    group.appendChild(G.svg("text", { x: 14, y: 33, class: "meta" }, G.fmt.clip(exec, 30)));
    var last = n.status ? n.status + " · " + G.fmt.seconds(n.seconds) : "no runs yet";
    group.appendChild(G.svg("text", { x: 14, y: 49, class: "status" }, last));
    G.tip(group, "task " + n.label + "\n" + exec + "\nlast run: " + last + (n.run_id ? " (" + n.run_id + ")" : "") + (critical ? "\non the critical path" : ""));
  }

  function datasetNode(group, n, s) {
    group.setAttribute("class", "node dataset" + (n.source ? " source" : "") + (n.managed ? "" : " external"));
    group.appendChild(G.svg("rect", { width: s.width, height: s.height, rx: 2, class: "box" }));
    group.appendChild(G.svg("text", { x: 10, y: 16, class: "name" }, G.fmt.clip(n.label, 30)));
    var kind = n.format + (n.source ? " · source" : "") + (n.managed ? "" : " · external bucket");
    group.appendChild(G.svg("text", { x: 10, y: 31, class: "meta" }, kind));
    var tip = "dataset " + n.label + "\n" + kind;
    if (n.columns && n.columns.length) {
      var shown = n.columns.slice(0, MAX_COLUMNS);
      shown.forEach(function (c, i) {
        group.appendChild(G.svg("text", { x: 10, y: 46 + i * LINE, class: "column" }, G.fmt.clip(c[0] + ": " + c[1], 32)));
      });
      if (n.columns.length > MAX_COLUMNS) {
        group.appendChild(G.svg("text", { x: 10, y: 46 + shown.length * LINE, class: "column more" }, "+" + (n.columns.length - MAX_COLUMNS) + " more columns"));
      }
      tip += "\n" + n.columns.map(function (c) { return "  " + c[0] + ": " + c[1]; }).join("\n");
    } else {
      tip += "\ncolumns not known";
    }
    G.tip(group, tip);
  }

  G.graph = { draw: draw };
})(window.Glacier = window.Glacier || {});
