// Alerts: live unread count and inbox refresh by polling the inbox state; bulk selection.
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

  function onInbox(state) {
    if (count) { count.textContent = String(state.unread); }
    if (badge) { badge.classList.toggle("has-unread", state.unread > 0); }
    var latest = state.latest ? state.latest.id : null;
    if (latestSeen !== undefined && latest !== latestSeen) { refreshList(); }
    latestSeen = latest;
    document.dispatchEvent(new CustomEvent("tollgate:alerts", {detail: state}));
  }

  // Short polling with an ETag (see alerts.views.state): an unchanged state is a bodiless
  // 304; the server's Poll-Interval sets the pace; a hidden page does not poll and asks at
  // once when shown again; failures back off up to a minute and mark the badge "retrying".
  var etag = null;
  var timer = null;
  var failures = 0;
  var interval = 10;

  function schedule(seconds) {
    window.clearTimeout(timer);
    timer = null;
    if (seconds >= 0 && !document.hidden) { timer = window.setTimeout(poll, seconds * 1000); }
  }

  function poll() {
    var headers = etag ? {"If-None-Match": etag} : {};
    fetch(badge.getAttribute("data-state"), {credentials: "same-origin", cache: "no-store", headers: headers})
      .then(function (r) {
        var next = parseInt(r.headers.get("Poll-Interval"), 10);
        if (!isNaN(next)) { interval = next; }
        if (r.redirected || r.status === 401 || r.status === 403) {
          // Signed out or the session ended: a page reload brings the sign-in page.
          badge.setAttribute("data-live", "ended");
          interval = -1;
          return null;
        }
        if (r.status === 304) { return null; }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        etag = r.headers.get("ETag");
        return r.json();
      })
      .then(function (state) {
        failures = 0;
        if (interval >= 0) { badge.setAttribute("data-live", "open"); }
        if (state) { onInbox(state); }
        schedule(interval);
      })
      .catch(function () {
        failures += 1;
        badge.setAttribute("data-live", "retrying");
        schedule(Math.min(60, interval * Math.pow(2, failures)));
      });
  }

  if (badge && window.fetch) {
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) { schedule(-1); } else { poll(); }
    });
    window.TollgateAlerts = {poll: poll};
    poll();
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
