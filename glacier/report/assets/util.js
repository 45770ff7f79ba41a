/* DOM and number helpers shared by the report's views. Names and errors come from user code:
 * text goes in through textContent, or through esc() where a view writes markup. */
(function (G) {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, attrs[k]);
    });
  }

  /* A tooltip: kept as an attribute and shown by one shared box (see main.js), not as an
   * SVG <title> element per node: a 500-task report would carry thousands more nodes. */
  function tip(node, text) {
    node.setAttribute("data-tip", text);
    return node;
  }

  function seconds(s) {
    if (s === null || s === undefined) return "–";
    if (s < 1) return (s * 1000).toFixed(s < 0.01 ? 1 : 0) + " ms";
    if (s < 120) return s.toFixed(s < 10 ? 2 : 1) + " s";
    return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
  }

  function bytes(b) {
    if (b === null || b === undefined) return "–";
    var units = ["B", "KB", "MB", "GB", "TB"], i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return (i ? b.toFixed(b < 10 ? 1 : 0) : b) + " " + units[i];
  }

  function count(n) {
    if (n === null || n === undefined) return "–";
    return Number(n).toLocaleString("en-US");
  }

  function usd(x) {
    if (x === null || x === undefined) return "–";
    return "$" + (x < 0.01 ? x.toFixed(6) : x.toFixed(4));
  }

  function when(epoch) {
    var d = new Date(epoch * 1000);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  /* Cut a label to about `chars` characters (the SVG text is not measured: too slow for
   * thousands of nodes); the full text is in the node's tooltip. */
  function clip(text, chars) {
    text = String(text);
    return text.length <= chars ? text : text.slice(0, Math.max(1, chars - 1)) + "…";
  }

  /* Text made safe inside markup and attribute values. */
  var ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) { return ESCAPES[c]; });
  }

  /* A chain of task names; a long one keeps its ends (the whole chain is drawn anyway). */
  function chain(names) {
    if (!names.length) return "–";
    if (names.length <= 16) return names.join(" → ");
    return names.slice(0, 8).join(" → ") + " → … " + (names.length - 11) + " more … → " + names.slice(-3).join(" → ");
  }

  G.svg = svg;
  G.el = el;
  G.tip = tip;
  G.esc = esc;
  G.fmt = { seconds: seconds, bytes: bytes, count: count, usd: usd, when: when, clip: clip, chain: chain };
})(window.Glacier = window.Glacier || {});
