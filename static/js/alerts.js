// Alerts: live unread count and inbox refresh over server-sent events; bulk selection.
(function () {
  "use strict";
  if (window.TollgateAlerts) { return; }  // the badge may be included more than once
  var badge = document.getElementById("alerts-badge");
  var count = document.getElementById("alerts-count");
  var list = document.getElementById("alert-list");
  var latestSeen;  // undefined until the first event: then the id of the newest alert or null

  function refreshList() {
    if (!list) { return; }
    fetch(list.getAttribute("data-partial"), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { list.innerHTML = html; } });
  }

  function onInbox(ev) {
    var state = JSON.parse(ev.data);
    if (count) { count.textContent = String(state.unread); }
    if (badge) { badge.classList.toggle("has-unread", state.unread > 0); }
    var latest = state.latest ? state.latest.id : null;
    if (latestSeen !== undefined && latest !== latestSeen) { refreshList(); }
    latestSeen = latest;
    document.dispatchEvent(new CustomEvent("tollgate:alerts", {detail: state}));
  }

  if (badge && window.EventSource) {
    // The server ends each response after ~40 s; EventSource reconnects on its own.
    var source = new EventSource(badge.getAttribute("data-stream"));
    source.addEventListener("inbox", onInbox);
    source.addEventListener("open", function () { badge.setAttribute("data-live", "open"); });
    source.addEventListener("error", function () { badge.setAttribute("data-live", "retrying"); });
    window.TollgateAlerts = {source: source};
  } else {
    window.TollgateAlerts = {};
  }

  document.addEventListener("change", function (ev) {
    if (ev.target && ev.target.id === "select-all") {
      var boxes = document.querySelectorAll('#bulk-form input[name="alert_ids"]');
      for (var i = 0; i < boxes.length; i++) { boxes[i].checked = ev.target.checked; }
    }
  });
})();
