// Tollgate risk profile rule editor: builds the JSON condition tree without any code.
// The tree lives in the hidden #conditions_json field; the server validates it and returns
// the readable sentence (POST data-preview-url). No inline scripts (CSP).
(function () {
  "use strict";
  var root = document.getElementById("rule-editor");
  var hidden = document.getElementById("conditions_json");
  if (!root || !hidden) { return; }
  var catalog = JSON.parse(root.getAttribute("data-catalog") || "{}");
  var serverErrors = JSON.parse(root.getAttribute("data-errors") || "{}");
  var previewUrl = root.getAttribute("data-preview-url");
  var sentence = document.getElementById("rule-sentence");
  var fields = {};
  (catalog.fields || []).forEach(function (f) { fields[f.name] = f; });
  var tree;
  try { tree = JSON.parse(hidden.value || "null"); } catch (e) { tree = null; }
  if (!tree || !tree.join) { tree = {join: "and", conditions: []}; }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function option(value, label, selected) {
    var o = el("option", {value: value, text: label});
    if (selected) { o.selected = true; }
    return o;
  }

  function shapeOf(op) { return (catalog.ops[op] || {}).shape; }

  function defaultCondition() {
    return {field: "hs_code", op: "prefix", value: []};
  }

  function valueText(cond) {
    var v = cond.value;
    if (Array.isArray(v)) { return v.join(", "); }
    return v === null || v === undefined ? "" : String(v);
  }

  function fieldSelect(cond) {
    var select = el("select", {"class": "rule-field", "aria-label": "Field"});
    var groups = {declaration: "Declaration", item: "Item", derived: "Derived"};
    Object.keys(groups).forEach(function (g) {
      var og = el("optgroup", {label: groups[g]});
      (catalog.fields || []).forEach(function (f) {
        var group = f.derived ? "derived" : f.level;
        if (group === g) { og.appendChild(option(f.name, f.label, f.name === cond.field)); }
      });
      select.appendChild(og);
    });
    select.addEventListener("change", function () {
      cond.field = select.value;
      var ops = fields[cond.field].ops;
      if (ops.indexOf(cond.op) < 0) { cond.op = ops[0]; }
      cond.value = emptyValue(cond.op);
      render();
    });
    return select;
  }

  function emptyValue(op) {
    var shape = shapeOf(op);
    if (shape === "list") { return []; }
    if (shape === "range") { return [null, null]; }
    return null;
  }

  function opSelect(cond) {
    var select = el("select", {"class": "rule-op", "aria-label": "Operator"});
    fields[cond.field].ops.forEach(function (op) {
      select.appendChild(option(op, catalog.ops[op].label, op === cond.op));
    });
    select.addEventListener("change", function () {
      var before = shapeOf(cond.op);
      cond.op = select.value;
      if (shapeOf(cond.op) !== before) { cond.value = emptyValue(cond.op); }
      render();
    });
    return select;
  }

  function parseNumber(text) {
    var n = parseFloat(String(text).replace(",", "."));
    return isNaN(n) ? (text === "" ? null : text) : n;
  }

  function valueInputs(cond) {
    var field = fields[cond.field];
    var shape = shapeOf(cond.op);
    var box = el("span", {"class": "rule-value-box"});
    if (shape === "none") { return box; }
    if (shape === "list_name") {
      var select = el("select", {"class": "rule-value", "aria-label": "List"});
      select.appendChild(option("", "— choose a list —", !cond.value));
      (catalog.lists || []).forEach(function (l) {
        if (l.kind === field.list_kind) { select.appendChild(option(l.name, l.name, l.name === cond.value)); }
      });
      select.addEventListener("change", function () { cond.value = select.value || null; changed(); });
      box.appendChild(select);
      return box;
    }
    if (shape === "range") {
      var values = Array.isArray(cond.value) ? cond.value : [null, null];
      [0, 1].forEach(function (i) {
        var input = el("input", {type: "number", step: "any", "class": "rule-value",
          "aria-label": i ? "High" : "Low", value: values[i] === null ? "" : values[i]});
        input.addEventListener("input", function () { values[i] = parseNumber(input.value); cond.value = values; changed(); });
        box.appendChild(input);
        if (i === 0) { box.appendChild(el("span", {text: " and "})); }
      });
      cond.value = values;
      return box;
    }
    var numeric = shape === "number" || (shape === "scalar" && field.kind === "number");
    var input = el("input", {
      type: numeric ? "number" : "text", step: "any", "class": "rule-value",
      "aria-label": "Value", value: valueText(cond),
      placeholder: shape === "list" ? (field.kind === "hs" ? "e.g. 0808, 2402" : "values, separated by commas") : ""
    });
    input.addEventListener("input", function () {
      if (shape === "list") {
        cond.value = input.value.split(",").map(function (s) { return s.trim(); })
          .filter(function (s) { return s.length; });
      } else if (numeric) {
        cond.value = parseNumber(input.value);
      } else {
        cond.value = input.value.trim();
      }
      changed();
    });
    box.appendChild(input);
    if (field.hint) { box.appendChild(el("span", {"class": "hint", text: " " + field.hint})); }
    return box;
  }

  function conditionRow(cond, parent, path) {
    var remove = el("button", {type: "button", "class": "small rule-remove", text: "Remove"});
    remove.addEventListener("click", function () {
      parent.conditions.splice(parent.conditions.indexOf(cond), 1);
      render();
    });
    var row = el("div", {"class": "rule-condition", "data-path": path},
      [fieldSelect(cond), opSelect(cond), valueInputs(cond), remove]);
    markError(row, path);
    return row;
  }

  function markError(node, path) {
    Object.keys(serverErrors).forEach(function (key) {
      var direct = key.indexOf(path + ".") === 0 &&
        key.split(".").length - path.split(".").length === 1;
      if (key === path || direct) {
        node.appendChild(el("p", {"class": "error", text: serverErrors[key]}));
      }
    });
  }

  function groupBox(group, parent, path) {
    var join = el("select", {"class": "rule-join", "aria-label": "Combine"});
    join.appendChild(option("and", "all of these hold", group.join === "and"));
    join.appendChild(option("or", "any of these holds", group.join === "or"));
    join.addEventListener("change", function () { group.join = join.value; changed(); });
    var list = el("div", {"class": "rule-children"});
    group.conditions.forEach(function (child, i) {
      var childPath = path + ".conditions[" + i + "]";
      list.appendChild(child.join ? groupBox(child, group, childPath) : conditionRow(child, group, childPath));
    });
    var addCond = el("button", {type: "button", "class": "small rule-add-condition", text: "+ Condition"});
    addCond.addEventListener("click", function () { group.conditions.push(defaultCondition()); render(); });
    var addGroup = el("button", {type: "button", "class": "small rule-add-group", text: "+ Group"});
    addGroup.addEventListener("click", function () {
      group.conditions.push({join: group.join === "and" ? "or" : "and", conditions: [defaultCondition()]});
      render();
    });
    var tools = [addCond, addGroup];
    if (parent) {
      var remove = el("button", {type: "button", "class": "small rule-remove", text: "Remove group"});
      remove.addEventListener("click", function () {
        parent.conditions.splice(parent.conditions.indexOf(group), 1);
        render();
      });
      tools.push(remove);
    }
    var box = el("div", {"class": "rule-group" + (parent ? " rule-subgroup" : "")}, [
      el("div", {"class": "rule-group-head"}, [el("span", {text: "Fire when "}), join]),
      list, el("div", {"class": "actions rule-tools"}, tools)
    ]);
    markError(box, path);
    return box;
  }

  var timer = null;
  function changed() {
    hidden.value = JSON.stringify(tree);
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(preview, 250);
  }

  function preview() {
    if (!previewUrl || !window.Tollgate) { return; }
    window.Tollgate.postJSON(previewUrl, tree).then(function (res) {
      sentence.classList.toggle("rule-sentence-error", !res.body.ok);
      if (res.body.ok) {
        sentence.textContent = "If " + res.body.sentence;
      } else {
        var errs = res.body.errors || {};
        // The messages say where in words ("Condition 1: value must be a number").
        sentence.textContent = Object.keys(errs).map(function (k) { return errs[k]; }).join("; ");
      }
    });
  }

  function render() {
    root.innerHTML = "";
    root.appendChild(groupBox(tree, null, "conditions"));
    changed();
  }

  render();
})();
