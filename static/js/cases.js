// Cases: more item/party rows on the seizure form, registry look-up for parties,
// the resolution field only when closing. No inline scripts (CSP script-src 'self').
(function () {
  "use strict";

  // --- "Add another item/party": clone the last row with the next index -------------
  function renumber(row, index) {
    row.querySelectorAll("[name], [id], label[for]").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v) { el.setAttribute(attr, v.replace(/^(\w+)-\d+-/, "$1-" + index + "-")); }
      });
      if (el.matches("input, textarea")) { el.value = ""; }
      if (el.matches("select")) { el.selectedIndex = 0; }
    });
    row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
    row.querySelectorAll(".has-error").forEach(function (e) { e.classList.remove("has-error"); });
    var picked = row.querySelector(".picked");
    if (picked) { picked.hidden = true; picked.textContent = ""; }
    var legend = row.querySelector("legend");
    if (legend) { legend.textContent = legend.textContent.replace(/\d+$/, String(index + 1)); }
  }

  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function () {
      var box = document.getElementById(button.getAttribute("data-add-row"));
      var rows = box.querySelectorAll(".row-entry");
      var copy = rows[rows.length - 1].cloneNode(true);
      renumber(copy, rows.length);
      box.appendChild(copy);
      var first = copy.querySelector("select, input:not([type=hidden])");
      if (first) { first.focus(); }
    });
  });

  // --- registry look-up for parties (the shared picker, static/js/picker.js) ------------
  function rowOf(el) { return el.closest(".party-row"); }

  function pick(row, entity) {
    row.querySelector(".party-entity-id").value = entity.id;
    var picked = row.querySelector(".picked");
    picked.textContent = "Picked from the registry: " + entity.name + " (" + entity.type + ")";
    picked.hidden = false;
    var results = row.querySelector(".lookup-results");
    results.hidden = true;
    results.textContent = "";
    var name = row.querySelector("[name$='new_name']");
    if (name) { name.value = ""; }
  }

  function show(list, input) {
    var row = rowOf(input);
    var results = row.querySelector(".lookup-results");
    results.textContent = "";
    list.forEach(function (entity) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "link lookup-choice";
      var ids = window.Tollgate.picker.identifiers(entity);
      b.textContent = entity.name + " · " + entity.type + (ids ? " · " + ids : "");
      b.addEventListener("click", function () { pick(row, entity); });
      li.appendChild(b);
      results.appendChild(li);
    });
    if (!list.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "Not in the registry: fill type and name to create it.";
      results.appendChild(none);
    }
    results.hidden = false;
  }

  function lookupUrl(input) {
    var holder = input.closest("[data-lookup-url]");
    return holder && holder.getAttribute("data-lookup-url");
  }

  if (window.Tollgate && window.Tollgate.picker) {
    window.Tollgate.picker.delegate("[data-entity-lookup]", {
      url: lookupUrl,
      show: show,
      // typing again drops an earlier pick; outside a party row there is nothing to look up
      typed: function (input) {
        var row = rowOf(input);
        if (!lookupUrl(input) || !row) { return false; }
        row.querySelector(".party-entity-id").value = "";
        row.querySelector(".picked").hidden = true;
        return true;
      },
      clear: function (input) { rowOf(input).querySelector(".lookup-results").hidden = true; },
      params: function (input) {
        var type = input.getAttribute("data-entity-lookup");
        return {type: type && type !== "1" ? type : ""};
      },
    });
  }

  // --- the resolution only matters when closing ---------------------------------------
  document.querySelectorAll("select[name='status']").forEach(function (sel) {
    var field = sel.form && sel.form.querySelector("select[name='resolution']");
    if (!field) { return; }
    var wrap = field.closest(".field");
    function sync() { wrap.hidden = sel.value !== "closed"; }
    sel.addEventListener("change", sync);
    sync();
  });

  // --- the seizure map (Leaflet, bundled outlines; a tile server only when configured) ----
  var box = document.getElementById("seizure-map");
  if (box && window.L) {
    var points = JSON.parse(box.getAttribute("data-points") || "[]");
    box.style.height = "480px";
    var map = window.L.map(box, {worldCopyJump: true, attributionControl: true});
    var tiles = box.getAttribute("data-tile-url");
    if (tiles) {
      window.L.tileLayer(tiles, {attribution: box.getAttribute("data-tile-attribution") || ""}).addTo(map);
    } else {
      fetch(box.getAttribute("data-outlines"), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (outlines) {
          if (!outlines) { return; }
          window.L.geoJSON(outlines, {
            style: {color: "#7a8699", weight: 1, fillColor: "#eef1f5", fillOpacity: 1},
            interactive: false
          }).addTo(map).bringToBack();
        });
    }
    map.attributionControl.addAttribution("Natural Earth (public domain)");
    var listUrl = box.getAttribute("data-list-url");
    var bounds = [];
    points.forEach(function (p) {
      var radius = 6 + Math.min(24, Math.sqrt(p.count) * 4);
      var marker = window.L.circleMarker([p.lat, p.lon], {
        radius: radius, color: "#8b0000", weight: 2, fillColor: "#d9534f", fillOpacity: 0.6,
        className: "seizure-point"
      }).addTo(map);
      var link = document.createElement("a");
      link.href = listUrl + (listUrl.indexOf("?") < 0 ? "?" : "&") + "place_ref=" + encodeURIComponent(p.ref);
      link.textContent = p.label + ": " + p.count + " seizure" + (p.count === 1 ? "" : "s");
      marker.bindPopup(link);
      marker.bindTooltip(p.label + " (" + p.count + ")");
      marker.getElement && marker.getElement() && marker.getElement().setAttribute("data-place", p.ref);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length) {
      map.fitBounds(bounds, {padding: [40, 40], maxZoom: 7});  // the outlines are 1:110m
    } else {
      map.setView([44, 20], 5);
    }
  }
})();
