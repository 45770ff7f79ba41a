/* Builds the page from the JSON document in <script id="glacier-data">. When done it sets
 * data-glacier-ready="1" and data-render-ms (building the page) on <html>, and two frames later
 * data-painted-ms (since navigation start: parsing, building, layout and paint), which the
 * browser tests and the render benchmark read; a failure is shown on the page and rethrown, so it reaches the console. */
(function (G) {
  "use strict";

  function section(title, cls) {
    var s = G.el("section", { class: cls });
    s.appendChild(G.el("h3", null, title));
    return s;
  }

  /* A graph somewhat wider than the page starts scaled to fit; a big one at 100% (scaled
   * down it would be unreadable), scrollable; the buttons switch between the two. */
  var FIT_AT_MOST = 1.6;

  function zoomable(svgNode, available) {
    var wrap = G.el("div", { class: "scroll" });
    var bar = G.el("div", { class: "zoom" });
    var full = G.el("button", { type: "button" }, "100%");
    var fit = G.el("button", { type: "button" }, "fit width");
    full.addEventListener("click", function () {
      svgNode.setAttribute("width", svgNode.getAttribute("data-width"));
      svgNode.setAttribute("height", svgNode.getAttribute("data-height"));
    });
    fit.addEventListener("click", function () { fitWidth(svgNode); });
    var natural = Number(svgNode.getAttribute("data-width"));
    if (natural > available && natural <= available * FIT_AT_MOST) fitWidth(svgNode);
    bar.appendChild(full);
    bar.appendChild(fit);
    wrap.appendChild(svgNode);
    var outer = G.el("div");
    outer.appendChild(bar);
    outer.appendChild(wrap);
    return outer;
  }

  function fitWidth(svgNode) {
    svgNode.setAttribute("width", "100%");
    svgNode.removeAttribute("height");
  }

  function pipelineSection(p, index, available) {
    var root = G.el("section", { class: "pipeline", "data-pipeline": p.name, id: "pipeline-" + p.name });
    root.appendChild(G.el("h2", null, p.name));
    if (p.description) root.appendChild(G.el("p", { class: "description" }, p.description));
    var run = p.run;
    var summary = run
      ? "Run " + run.id + ": " + run.status + ", started " + G.fmt.when(run.started_at) + ", " + G.fmt.seconds(run.seconds) + " — " + run.origin
      : "No runs recorded yet: the graph and the estimate only.";
    root.appendChild(G.el("p", { class: "summary" + (run ? " status-" + run.status : "") }, summary));
    if (run && run.error) root.appendChild(G.el("p", { class: "error" }, "Error: " + run.error));
    var critical = new Set(run ? run.critical_path : []);

    var lineage = section("Lineage: " + count(p.graph.nodes, "task") + " tasks, " + count(p.graph.nodes, "dataset") + " datasets", "lineage-section");
    lineage.appendChild(legend());
    lineage.appendChild(zoomable(G.graph.draw(p, index, critical), available));
    root.appendChild(lineage);

    if (run) {
      var tl = section("Timeline of run " + run.id, "timeline-section");
      tl.appendChild(G.el("p", { class: "muted" }, "Critical path (outlined, " + run.critical_path.length + " tasks): " + G.fmt.chain(run.critical_path) + ". Hatched: served from the cache."));
      tl.appendChild(G.el("div", { class: "scroll" })).appendChild(G.timeline.draw(run, index));
      if (run.not_run.length) tl.appendChild(G.el("p", { class: "muted" }, "Not in this run: " + run.not_run.join(", ")));
      root.appendChild(tl);
    }
    var tasks = section("Tasks", "tasks-section");
    tasks.appendChild(G.el("div", { class: "scroll" })).appendChild(G.tables.tasks(p));
    root.appendChild(tasks);
    var cost = section("Cost estimate (glacier cost) beside the measured run", "cost-section");
    cost.appendChild(G.tables.cost(p));
    root.appendChild(cost);
    if (p.runs.length) {
      var runs = section("Recent runs", "runs-section");
      runs.appendChild(G.tables.runs(p));
      root.appendChild(runs);
    }
    return root;
  }

  function count(nodes, kind) {
    return nodes.filter(function (n) { return n.kind === kind; }).length;
  }

  function legend() {
    var box = G.el("p", { class: "legend" });
    [["succeeded", "succeeded"], ["cached", "cached"], ["failed", "failed"], ["skipped", "skipped"], ["none", "not run"]].forEach(function (s) {
      var item = G.el("span", { class: "key status-" + s[0] });
      item.appendChild(G.el("i"));
      item.appendChild(document.createTextNode(s[1]));
      box.appendChild(item);
    });
    return box;
  }

  /* One tooltip box for every element with data-tip. */
  function tooltips() {
    var box = G.el("div", { class: "tooltip", role: "tooltip" });
    box.hidden = true;
    document.body.appendChild(box);
    document.addEventListener("mouseover", function (event) {
      var target = event.target.closest ? event.target.closest("[data-tip]") : null;
      if (!target) { box.hidden = true; return; }
      box.textContent = target.getAttribute("data-tip");
      box.hidden = false;
    });
    document.addEventListener("mousemove", function (event) {
      if (box.hidden) return;
      box.style.left = Math.min(event.pageX + 14, document.documentElement.scrollWidth - box.offsetWidth - 8) + "px";
      box.style.top = event.pageY + 14 + "px";
    });
  }

  function render() {
    var started = performance.now();
    var doc = JSON.parse(document.getElementById("glacier-data").textContent);
    var page = document.getElementById("report");
    var header = G.el("header");
    header.appendChild(G.el("h1", null, "Glacier report: " + doc.title));
    header.appendChild(G.el("p", { class: "muted" }, "Generated " + G.fmt.when(doc.generated_at) + " by glacier " + doc.glacier_version + " from the " + doc.source + "."));
    var nav = G.el("nav");
    doc.pipelines.forEach(function (p) {
      nav.appendChild(G.el("a", { href: "#pipeline-" + p.name }, p.name));
    });
    if (doc.pipelines.length > 1) header.appendChild(nav);
    page.appendChild(header);
    tooltips();
    var available = Math.max(600, page.clientWidth - 50);  // less #report's padding
    doc.pipelines.forEach(function (p, i) { page.appendChild(pipelineSection(p, i, available)); });
    var html = document.documentElement;
    html.setAttribute("data-render-ms", (performance.now() - started).toFixed(1));
    html.setAttribute("data-glacier-ready", "1");
    // Two frames later the browser has laid out and painted what was built.
    requestAnimationFrame(function () {
      requestAnimationFrame(function () { html.setAttribute("data-painted-ms", performance.now().toFixed(1)); });
    });
  }

  try {
    render();
  } catch (err) {
    var box = document.getElementById("report");
    box.insertBefore(G.el("pre", { class: "render-error" }, "The report could not be drawn: " + err), box.firstChild);
    document.documentElement.setAttribute("data-glacier-ready", "error");
    throw err;
  }
})(window.Glacier = window.Glacier || {});
