/* Lineage graph layout, left to right. Small graphs use dagre (the pinned npm package, inlined):
 * its edge routing bends around nodes. dagre inserts a dummy node per rank an edge crosses, so
 * deep pipelines take it long: ~0.9 s for a 150-node chain-like pipeline in headless Chromium,
 * 7-15 s for 500 tasks in node (elkjs and d3-dag were slower still). Past DAGRE_MAX_NODES a
 * layered layout of our own runs instead (longest-path ranks, barycenter ordering, no dummies,
 * edges drawn as curves): 0.1-0.2 s for a 500-task pipeline on the shared 2-core box.
 *
 * Input: nodes [{id, width, height}], edges [[from, to]]. Output: {width, height,
 * nodes: {id: {x, y}} (centres), edges: [{from, to, points: [[x, y], ...]}], engine}. */
(function (G) {
  "use strict";
  var DAGRE_MAX_NODES = 150;
  var RANK_GAP = 56;
  var NODE_GAP = 14;
  var MARGIN = 12;

  function layout(nodes, edges) {
    if (nodes.length <= DAGRE_MAX_NODES && typeof dagre !== "undefined") {
      return withDagre(nodes, edges);
    }
    return layered(nodes, edges);
  }

  function withDagre(nodes, edges) {
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: NODE_GAP, ranksep: RANK_GAP, edgesep: 8, marginx: MARGIN, marginy: MARGIN });
    g.setDefaultEdgeLabel(function () { return {}; });
    nodes.forEach(function (n) { g.setNode(n.id, { width: n.width, height: n.height }); });
    edges.forEach(function (e) { g.setEdge(e[0], e[1]); });
    dagre.layout(g);
    var out = { width: g.graph().width, height: g.graph().height, nodes: {}, edges: [], engine: "dagre" };
    g.nodes().forEach(function (id) { var n = g.node(id); out.nodes[id] = { x: n.x, y: n.y }; });
    g.edges().forEach(function (e) {
      out.edges.push({ from: e.v, to: e.w, points: g.edge(e).points.map(function (p) { return [p.x, p.y]; }) });
    });
    return out;
  }

  function layered(nodes, edges) {
    var byId = {}, preds = {}, succs = {};
    nodes.forEach(function (n) { byId[n.id] = n; preds[n.id] = []; succs[n.id] = []; });
    edges.forEach(function (e) { succs[e[0]].push(e[1]); preds[e[1]].push(e[0]); });
    var order = topological(nodes, preds, succs);
    var rank = ranks(order, preds, succs);
    var layers = [];
    order.forEach(function (id) { (layers[rank[id]] = layers[rank[id]] || []).push(id); });
    for (var r = 0; r < layers.length; r++) layers[r] = layers[r] || [];
    var pos = {};
    function index() {
      layers.forEach(function (layer) {
        var mid = (layer.length - 1) / 2;
        layer.forEach(function (id, i) { pos[id] = (i - mid) / Math.max(1, layer.length); });
      });
    }
    index();
    for (var sweep = 0; sweep < 6; sweep++) {
      var down = sweep % 2 === 0;
      for (var k = 0; k < layers.length; k++) {
        var layer = layers[down ? k : layers.length - 1 - k];
        var near = down ? preds : succs;
        var key = {};
        layer.forEach(function (id) {
          var ns = near[id];
          key[id] = ns.length ? ns.reduce(function (s, m) { return s + pos[m]; }, 0) / ns.length : pos[id];
        });
        layer.sort(function (a, b) { return key[a] - key[b] || pos[a] - pos[b]; });
        var mid = (layer.length - 1) / 2;
        layer.forEach(function (id, i) { pos[id] = (i - mid) / Math.max(1, layer.length); });
      }
    }
    return place(layers, byId, preds, succs, edges);
  }

  function topological(nodes, preds, succs) {
    var indegree = {}, ready = [], order = [];
    nodes.forEach(function (n) { indegree[n.id] = preds[n.id].length; if (!indegree[n.id]) ready.push(n.id); });
    for (var i = 0; i < ready.length; i++) {
      var id = ready[i];
      order.push(id);
      succs[id].forEach(function (s) { if (--indegree[s] === 0) ready.push(s); });
    }
    return order;
  }

  function ranks(order, preds, succs) {
    var rank = {};
    order.forEach(function (id) {
      rank[id] = preds[id].reduce(function (r, p) { return Math.max(r, rank[p] + 1); }, 0);
    });
    // A source sits just before its first reader instead of far left at rank 0.
    order.forEach(function (id) {
      if (!preds[id].length && succs[id].length) {
        rank[id] = Math.max(0, succs[id].reduce(function (r, s) { return Math.min(r, rank[s]); }, Infinity) - 1);
      }
    });
    return rank;
  }

  function place(layers, byId, preds, succs, edges) {
    var x = MARGIN, xs = [], y = {}, column = {};
    layers.forEach(function (layer, r) {
      var w = layer.reduce(function (m, id) { return Math.max(m, byId[id].width); }, 0);
      xs[r] = x + w / 2;
      x += w + RANK_GAP;
      layer.forEach(function (id) { column[id] = r; });
      stack(layer, byId, y, null);
    });
    for (var pass = 0; pass < 4; pass++) {
      var near = pass % 2 === 0 ? preds : succs;
      layers.forEach(function (layer) {
        var want = {};
        layer.forEach(function (id) {
          var ns = near[id];
          want[id] = ns.length ? ns.reduce(function (s, m) { return s + y[m]; }, 0) / ns.length : y[id];
        });
        stack(layer, byId, y, want);
      });
    }
    var top = Infinity, bottom = -Infinity;
    Object.keys(y).forEach(function (id) {
      top = Math.min(top, y[id] - byId[id].height / 2);
      bottom = Math.max(bottom, y[id] + byId[id].height / 2);
    });
    var shift = MARGIN - top, out = { nodes: {}, edges: [], engine: "layered" };
    Object.keys(y).forEach(function (id) { out.nodes[id] = { x: xs[column[id]], y: y[id] + shift }; });
    out.width = x - RANK_GAP + MARGIN;
    out.height = bottom - top + 2 * MARGIN;
    edges.forEach(function (e) {
      var a = out.nodes[e[0]], b = out.nodes[e[1]];
      var x1 = a.x + byId[e[0]].width / 2, x2 = b.x - byId[e[1]].width / 2, dx = Math.max(24, (x2 - x1) / 2);
      out.edges.push({ from: e[0], to: e[1], points: [[x1, a.y], [x1 + dx, a.y], [x2 - dx, b.y], [x2, b.y]], curve: true });
    });
    return out;
  }

  /* Place a layer's nodes in their order, each as near its wanted y as the gaps allow:
   * a forward pass pushes overlapping nodes down, a backward pass pulls them up, averaged. */
  function stack(layer, byId, y, want) {
    if (!layer.length) return;
    var n = layer.length, fwd = [], bwd = [];
    if (!want) {
      // Layers start at the top, so a deep pipeline's first tasks are where the view opens.
      var at = 0;
      layer.forEach(function (id) { y[id] = at + byId[id].height / 2; at += byId[id].height + NODE_GAP; });
      return;
    }
    function gap(i) { return (byId[layer[i - 1]].height + byId[layer[i]].height) / 2 + NODE_GAP; }
    for (var i = 0; i < n; i++) fwd[i] = i ? Math.max(want[layer[i]], fwd[i - 1] + gap(i)) : want[layer[i]];
    for (var j = n - 1; j >= 0; j--) bwd[j] = j < n - 1 ? Math.min(want[layer[j]], bwd[j + 1] - gap(j + 1)) : want[layer[j]];
    var mean = [];
    for (var k = 0; k < n; k++) mean[k] = (fwd[k] + bwd[k]) / 2;
    for (var m = 1; m < n; m++) mean[m] = Math.max(mean[m], mean[m - 1] + gap(m));
    layer.forEach(function (id, idx) { y[id] = mean[idx]; });
  }

  G.layout = layout;
  G.layout.DAGRE_MAX_NODES = DAGRE_MAX_NODES;
})(window.Glacier = window.Glacier || {});
