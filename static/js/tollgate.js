// Tollgate: small progressive enhancements. No inline scripts (CSP script-src 'self').
(function () {
  "use strict";
  // Confirm destructive actions declared with data-confirm.
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });
  // Expose the CSRF token for fetch() calls from page scripts.
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.Tollgate = {
    csrfToken: meta ? meta.getAttribute("content") : "",
    postJSON: function (url, body) {
      return fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": window.Tollgate.csrfToken},
        body: JSON.stringify(body)
      }).then(function (r) { return r.json().then(function (j) { return {status: r.status, body: j}; }); });
    }
  };
})();
