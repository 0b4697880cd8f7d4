// Tollgate intelligence: entity pickers and the link chart (Cytoscape.js, vendored).
(function () {
  "use strict";

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (cls) { el.className = cls; }
    return el;
  }
  // the shared picker's helpers (static/js/picker.js, loaded by base.html)
  var picker = window.Tollgate.picker;
  var getJSON = picker.getJSON;
  function errorText(body) {
    if (body && body.error) {
      var f = body.error.fields || {};
      var parts = Object.keys(f).map(function (k) { return k + ": " + f[k]; });
      return parts.length ? parts.join("; ") : body.error.message;
    }
    return "Not found, not allowed, or something went wrong.";
  }

  // --- entity pickers: input[data-entity-picker] ---------------------------------------
  var chartApi = null;

  function attachPicker(input) {
    var mode = input.getAttribute("data-picker-mode") || (input.hasAttribute("data-multi") ? "multi" : "single");
    var list = document.createElement("ul");
    list.className = "picker-list";
    list.hidden = true;
    input.insertAdjacentElement("afterend", list);
    var chosen = text("span", "", "picker-chosen muted");
    list.insertAdjacentElement("afterend", chosen);

    function choose(item) {
      list.hidden = true;
      if (mode === "chart") {
        input.value = "";
        if (chartApi) { chartApi.expand(item.id, 0); }
      } else if (mode === "multi") {
        var parts = input.value.split(",").map(function (s) { return s.trim(); })
          .filter(function (s) { return /^\d+$/.test(s); });
        if (parts.indexOf(String(item.id)) < 0) { parts.push(String(item.id)); }
        input.value = parts.join(", ");
        chosen.textContent = (chosen.textContent ? chosen.textContent + "; " : "") + item.name;
      } else {
        input.value = String(item.id);
        input.setAttribute("data-label", item.name);
        chosen.textContent = item.name + " (" + item.type + ")";
      }
    }

    picker.attach(input, {
      delay: 200,
      skipDigits: true,
      // read at each search: a provenance picker's URL follows the chosen record type
      url: function () { return input.getAttribute("data-entity-picker"); },
      query: function () { return mode === "multi" ? input.value.split(",").pop() : input.value; },
      clear: function () { list.hidden = true; },
      show: function (items) {
        list.innerHTML = "";
        items.forEach(function (item) {
          var li = document.createElement("li");
          var b = document.createElement("button");
          b.type = "button";
          b.className = "picker-item";
          b.setAttribute("data-id", item.id);
          b.textContent = item.name + " · " + item.type;
          var ids = picker.identifiers(item);
          if (ids) { b.appendChild(text("span", " " + ids, "muted")); }
          b.addEventListener("click", function () { choose(item); });
          li.appendChild(b);
          list.appendChild(li);
        });
        list.hidden = !list.children.length;
      },
    });
  }

  // --- the link chart ---------------------------------------------------------------------
  var PALETTE = ["#1577a6", "#b42318", "#067647", "#b54708", "#6941c6", "#c11574", "#0e9384",
                 "#475467", "#ca8504", "#155eef"];
  var TYPE_COLOURS = {person: "#1577a6", organisation: "#0b4f71", vehicle: "#b54708",
    vessel: "#0e9384", aircraft: "#0e9384", container: "#ca8504", address: "#667085",
    phone: "#6941c6", email: "#6941c6", identity_document: "#c11574", bank_account: "#067647"};

  function initChart(el) {
    if (!window.cytoscape) { return; }
    var d = el.dataset;
    var cy = window.cytoscape({
      container: el,
      wheelSensitivity: 0.3,
      style: [
        {selector: "node", style: {
          "label": "data(label)", "font-size": 10, "text-valign": "bottom", "text-margin-y": 3,
          "width": 22, "height": 22, "text-wrap": "ellipsis", "text-max-width": 120,
          "background-color": function (n) { return TYPE_COLOURS[n.data("type")] || "#475467"; }}},
        {selector: "node[code = 'C']", style: {"border-width": 3, "border-color": "#fedf89"}},
        {selector: "node.community", style: {
          "background-color": function (n) { return PALETTE[(n.data("community") || 0) % PALETTE.length]; },
          "width": function (n) { return 18 + 60 * (n.data("betweenness") || 0); },
          "height": function (n) { return 18 + 60 * (n.data("betweenness") || 0); }}},
        {selector: "edge", style: {
          "label": "data(label)", "font-size": 8, "curve-style": "bezier", "width": 1.5,
          "target-arrow-shape": "triangle", "line-color": "#98a2b3",
          "target-arrow-color": "#98a2b3", "text-rotation": "autorotate", "color": "#475467"}},
        // a highlighted path keeps its nodes' size (a width of 4 is for its edges only: on a
        // node it made a sliver); its labels sit on a white ground, wrapped rather than cut,
        // and the rest of the chart is dimmed (labels hidden) so nothing overlaps them
        {selector: "edge.path", style: {"line-color": "#b42318", "target-arrow-color": "#b42318",
          "width": 4, "font-size": 9, "text-background-color": "#ffffff",
          "text-background-opacity": 0.9, "text-background-padding": 1, "z-index": 9}},
        {selector: "node.path", style: {"border-width": 4, "border-color": "#b42318",
          "font-size": 11, "font-weight": "bold", "text-wrap": "wrap", "text-max-width": 140,
          "text-background-color": "#ffffff", "text-background-opacity": 0.9,
          "text-background-padding": 2, "z-index": 10}},
        {selector: "node.path-above", style: {"text-valign": "top", "text-margin-y": -3}},
        {selector: ".faded", style: {"opacity": 0.2, "text-opacity": 0}},
        {selector: "node:selected", style: {"border-width": 4, "border-color": "#7cc4e8"}}
      ],
      layout: {name: "grid"}
    });
    window.TollgateChart = cy;  // for debugging and browser tests
    var last = null;  // {id, next, more}
    var selected = null;
    var status = document.getElementById("expand-status");
    var moreBtn = document.getElementById("btn-more");

    function entityIds() {
      return cy.nodes().map(function (n) { return n.data("entity_id"); });
    }
    function addElements(elements, positions) {
      var added = [];
      var incoming = {};
      elements.forEach(function (e) { if (!e.data.source) { incoming[e.data.id] = true; } });
      function present(id) { return incoming[id] || cy.getElementById(id).nonempty(); }
      elements.forEach(function (e) {
        if (cy.getElementById(e.data.id).empty()) {
          if (e.data.source && !(present(e.data.source) && present(e.data.target))) { return; }
          if (positions && positions[e.data.id]) { e.position = positions[e.data.id]; }
          added.push(e);
        }
      });
      // nodes first so edges find their ends
      added.sort(function (a, b) { return (a.data.source ? 1 : 0) - (b.data.source ? 1 : 0); });
      cy.add(added);
      return added.length;
    }
    function relayout() {
      cy.layout({name: "cose", animate: false, randomize: false, nodeRepulsion: 8000,
                 idealEdgeLength: 90, fit: true, padding: 30}).run();
    }
    // Path highlight: the path's nodes are laid out on a line (wrapped into rows when it is
    // longer than the chart is wide), PATH_GAP apart so labels never overlap; the others
    // keep their places, dimmed. Positions before the highlight come back with clearPath().
    var PATH_GAP = 160, ROW_GAP = 110;
    var beforePath = {};
    function clearPath() {
      Object.keys(beforePath).forEach(function (id) {
        var n = cy.getElementById(id);
        if (n.nonempty()) { n.position(beforePath[id]); }
      });
      beforePath = {};
      cy.elements().removeClass("path path-above faded");
    }
    function showPath(ids, had) {
      var onPath = cy.collection();
      ids.forEach(function (id) { onPath = onPath.union(cy.getElementById(id)); });
      var others = cy.nodes().difference(onPath);
      var box = others.nonempty() ? others.boundingBox() : {x1: 0, y2: -ROW_GAP};
      var perRow = Math.max(2, Math.floor((cy.width() - 80) / PATH_GAP));
      ids.forEach(function (id, i) {
        var n = cy.getElementById(id);
        if (n.empty()) { return; }
        // a node the path brought in stays on the line when the highlight is cleared
        if (had[id]) { beforePath[id] = {x: n.position("x"), y: n.position("y")}; }
        var row = Math.floor(i / perRow), col = i % perRow;
        if (row % 2 === 1) { col = perRow - 1 - col; }  // snake: the next row runs back
        n.position({x: box.x1 + 40 + col * PATH_GAP, y: box.y2 + ROW_GAP + row * ROW_GAP});
        if (i % 2 === 1) { n.addClass("path-above"); }
      });
      cy.elements().difference(cy.elements(".path")).addClass("faded");
      cy.fit(onPath, 50);
      if (cy.zoom() > 1.5) { cy.zoom(1.5); cy.center(onPath); }
    }
    cy.on("tap", function (ev) { if (ev.target === cy) { clearPath(); } });
    function select(id) {
      selected = id;
      var node = cy.getElementById("e" + id);
      document.getElementById("chart-selected").textContent = node.nonempty() ? node.data("label") : "";
      var from = document.getElementById("path-from");
      if (from && !from.matches(":focus")) { from.value = String(id); }
    }
    function expand(id, offset) {
      var type = document.getElementById("expand-type").value;
      var url = d.expandUrl + "?entity=" + id + "&offset=" + (offset || 0) + (type ? "&type=" + encodeURIComponent(type) : "");
      status.textContent = "Loading…";
      clearPath();
      return getJSON(url).then(function (res) {
        if (res.status !== 200) { status.textContent = errorText(res.body); return; }
        addElements(res.body.elements);
        relayout();
        last = {id: id, next: res.body.next_offset, more: res.body.more};
        select(id);
        status.textContent = "Showing " + res.body.shown + " of " + res.body.total + " links" +
          (res.body.more ? " (" + res.body.more + " more)" : "") + ".";
        moreBtn.disabled = !res.body.more;
      });
    }
    chartApi = {expand: expand};

    cy.on("tap", "node", function (ev) { select(ev.target.data("entity_id")); });
    cy.on("dbltap", "node", function (ev) { expand(ev.target.data("entity_id"), 0); });
    document.getElementById("btn-expand").addEventListener("click", function () {
      if (selected) { expand(selected, 0); }
    });
    moreBtn.addEventListener("click", function () { if (last) { expand(last.id, last.next); } });
    document.getElementById("btn-remove").addEventListener("click", function () {
      if (selected) { cy.getElementById("e" + selected).remove(); selected = null; }
    });

    document.getElementById("btn-path").addEventListener("click", function () {
      var from = document.getElementById("path-from").value.trim() || (selected ? String(selected) : "");
      var to = document.getElementById("path-to").value.trim();
      var out = document.getElementById("path-status");
      var params = ["from=" + encodeURIComponent(from), "to=" + encodeURIComponent(to)];
      Array.prototype.forEach.call(document.getElementById("path-types").selectedOptions, function (o) {
        params.push("type=" + encodeURIComponent(o.value));
      });
      var df = document.getElementById("path-date-from").value;
      var dt = document.getElementById("path-date-to").value;
      if (df) { params.push("date_from=" + df); }
      if (dt) { params.push("date_to=" + dt); }
      out.textContent = "Searching…";
      getJSON(d.pathUrl + "?" + params.join("&")).then(function (res) {
        if (res.status !== 200) { out.textContent = errorText(res.body); return; }
        clearPath();
        var had = {};
        (res.body.path || []).forEach(function (id) { had[id] = cy.getElementById(id).nonempty(); });
        addElements(res.body.elements);
        if (!res.body.found) { out.textContent = "No path between them through links you may see."; return; }
        res.body.elements.forEach(function (e) { cy.getElementById(e.data.id).addClass("path"); });
        showPath(res.body.path, had);
        var names = res.body.path.map(function (id) { return cy.getElementById(id).data("label"); });
        out.textContent = "Path of " + res.body.length + " link" + (res.body.length === 1 ? "" : "s") + ": " + names.join(" → ");
        out.className = "path-found";
      });
    });

    document.getElementById("btn-analyse").addEventListener("click", function () {
      var box = document.getElementById("analysis");
      window.Tollgate.postJSON(d.analyseUrl, {nodes: entityIds()}).then(function (res) {
        if (res.status !== 200) { box.textContent = errorText(res.body); return; }
        Object.keys(res.body.nodes).forEach(function (id) {
          var n = cy.getElementById(id);
          n.data("community", res.body.nodes[id].community);
          n.data("betweenness", res.body.nodes[id].betweenness);
          n.addClass("community");
        });
        box.innerHTML = "";
        box.appendChild(text("p", res.body.communities + " communities. Brokers (betweenness):"));
        var ol = document.createElement("ol");
        res.body.brokers.forEach(function (b) { ol.appendChild(text("li", b.label + " · " + b.betweenness)); });
        box.appendChild(ol);
      });
    });

    document.getElementById("btn-timeline").addEventListener("click", function () {
      var box = document.getElementById("timeline");
      window.Tollgate.postJSON(d.timelineUrl, {nodes: entityIds()}).then(function (res) {
        box.innerHTML = "";
        if (res.status !== 200) { box.textContent = errorText(res.body); return; }
        var table = document.createElement("table");
        table.className = "table compact";
        res.body.forEach(function (row) {
          var tr = document.createElement("tr");
          tr.appendChild(text("td", row.start || row.end));
          tr.appendChild(text("td", row.source + " — " + row.link_type.replace(/_/g, " ") + " — " + row.target));
          table.appendChild(tr);
        });
        box.appendChild(res.body.length ? table : text("p", "No dated links on the chart.", "muted"));
      });
    });

    document.getElementById("btn-png").addEventListener("click", function () {
      this.href = cy.png({full: true, scale: 2, bg: "#ffffff"});
    });
    document.getElementById("export-form").addEventListener("submit", function () {
      document.getElementById("export-nodes").value = entityIds().join(",");
    });

    var saveBtn = document.getElementById("btn-save");
    if (saveBtn) {
      saveBtn.addEventListener("click", function () {
        var out = document.getElementById("save-status");
        var positions = {};
        cy.nodes().forEach(function (n) { positions[n.id()] = n.position(); });
        window.Tollgate.postJSON(d.saveUrl, {
          case_id: document.getElementById("save-case").value,
          title: document.getElementById("save-title").value,
          nodes: entityIds(), positions: positions
        }).then(function (res) {
          out.textContent = res.status === 200
            ? "Saved as chart #" + res.body.id + " in case " + res.body.case_id + "."
            : errorText(res.body);
          out.className = res.status === 200 ? "saved" : "error";
        });
      });
    }

    if (d.chartId) {
      getJSON(d.loadUrl.replace(/0$/, d.chartId)).then(function (res) {
        if (res.status !== 200) { status.textContent = errorText(res.body); return; }
        addElements(res.body.elements, res.body.positions);
        cy.layout({name: "preset", fit: true, padding: 30}).run();
        status.textContent = "Chart \u201c" + res.body.title + "\u201d of case " + res.body.case_id + ".";
      });
    } else if (d.start) {
      expand(parseInt(d.start, 10), 0);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("chart");
    if (el) { initChart(el); }
    Array.prototype.forEach.call(document.querySelectorAll("input[data-entity-picker]"), attachPicker);
    // a link's provenance: records of the chosen type, looked up by reference or words
    var provType = document.getElementById("provenance_type");
    var provRecord = document.querySelector("input[data-record-lookup]");
    if (provType && provRecord) {
      var syncType = function () {
        provRecord.setAttribute("data-entity-picker",
          provRecord.getAttribute("data-record-lookup") + "?type=" + encodeURIComponent(provType.value));
      };
      provType.addEventListener("change", function () { provRecord.value = ""; syncType(); });
      syncType();
    }
  });
})();
