// Tollgate news: the dependency-network chart (Cytoscape.js). No inline scripts (CSP).
(function () {
  "use strict";
  var box = document.getElementById("network-chart");
  if (!box || typeof window.cytoscape !== "function") { return; }
  var COLORS = {
    commodity: "#b42318", transport: "#175cd3", concealment: "#b54708", crossing: "#067647",
    route: "#6941c6", timeframe: "#c11574", person: "#364152", organisation: "#0e7090",
    place: "#4e5ba6", vehicle: "#93370d", vessel: "#026aa2"
  };
  fetch(box.getAttribute("data-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(function (data) {
      var maxNode = 1, maxEdge = 1;
      data.nodes.forEach(function (n) { maxNode = Math.max(maxNode, n.count); });
      data.edges.forEach(function (e) { maxEdge = Math.max(maxEdge, e.count); });
      var elements = [];
      data.nodes.forEach(function (n) {
        elements.push({group: "nodes", data: {
          id: n.id, label: n.label, category: n.category, count: n.count, url: n.url,
          size: 16 + 34 * Math.sqrt(n.count / maxNode), color: COLORS[n.category] || "#697586"
        }});
      });
      data.edges.forEach(function (e, i) {
        elements.push({group: "edges", data: {
          id: "e" + i, source: e.source, target: e.target, count: e.count, npmi: e.npmi,
          lift: e.lift, url: e.url, width: 1 + 9 * (e.count / maxEdge)
        }});
      });
      var cy = window.cytoscape({
        container: box,
        elements: elements,
        wheelSensitivity: 0.3,
        style: [
          {selector: "node", style: {
            "background-color": "data(color)", "label": "data(label)", "width": "data(size)",
            "height": "data(size)", "font-size": 11, "color": "#1d2733",
            "text-valign": "bottom", "text-margin-y": 3, "text-outline-color": "#fff",
            "text-outline-width": 2}},
          {selector: "edge", style: {
            "width": "data(width)", "line-color": "#98a2b3", "opacity": 0.75,
            "curve-style": "haystack"}},
          {selector: "edge:selected, edge.hover", style: {"line-color": "#1577a6", "opacity": 1}},
          {selector: "node.hover", style: {"border-width": 3, "border-color": "#1577a6"}}
        ],
        layout: {name: "cose", animate: false, randomize: false, nodeRepulsion: 9000,
                 idealEdgeLength: 90, padding: 20}
      });
      cy.on("mouseover", "edge, node", function (ev) {
        ev.target.addClass("hover");
        var d = ev.target.data();
        box.title = ev.target.isEdge()
          ? (cy.getElementById(d.source).data("label") + " ↔ " + cy.getElementById(d.target).data("label") +
             ": " + d.count + " articles, NPMI " + d.npmi.toFixed(2) + ", lift " + d.lift.toFixed(2))
          : (d.label + ": " + d.count + " articles");
      });
      cy.on("mouseout", "edge, node", function (ev) { ev.target.removeClass("hover"); });
      // An edge opens the articles behind it; a node the articles mentioning it.
      cy.on("tap", "edge, node", function (ev) {
        var url = ev.target.data("url");
        if (url) { window.location.assign(url); }
      });
      box.setAttribute("data-ready", "1");
      window.TollgateNetwork = {cy: cy};
    })
    .catch(function (err) {
      box.textContent = "The chart could not be drawn (" + err.message + "); the table below has the same edges.";
    });
})();
