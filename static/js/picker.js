// Tollgate's one record picker: look a record (entity, case, user ...) up as the user types.
// Loaded by base.html before the domain scripts; cases.js (parties on the seizure form) and
// intel.js (entity, record and chart pickers) draw the choices their own way, the typing,
// waiting, fetching and the answer's shape are here. No inline scripts (CSP script-src 'self').
(function () {
  "use strict";
  var T = window.Tollgate = window.Tollgate || {};

  function debounce(fn, ms) {
    var t;
    return function () {
      var a = arguments;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(null, a); }, ms);
    };
  }

  // GET JSON with the session cookie: resolves to {status, body} (body null when not JSON).
  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        return r.json().then(function (j) { return {status: r.status, body: j}; },
                             function () { return {status: r.status, body: null}; });
      });
  }

  function withQuery(url, q, extra) {
    var full = url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(q);
    Object.keys(extra || {}).forEach(function (k) {
      if (extra[k]) { full += "&" + k + "=" + encodeURIComponent(extra[k]); }
    });
    return full;
  }

  // A record's identifiers as "scheme value, ..." (entities carry them; other records none).
  function identifiers(item) {
    return Object.keys(item.identifiers || {}).map(function (k) {
      return k + " " + item.identifiers[k];
    }).join(", ");
  }

  // attach(input, options): on typing, after `delay` ms, look `query(input)` up at `url(input)`
  // (with `params(input)` added) and hand the list to `show(list, input)`; a query shorter than
  // `minLength`, or all digits with `skipDigits` (an id already picked), calls `clear(input)`.
  // Options: url and show (functions); typed (at each keystroke), clear, query, params,
  // delay (250 ms), minLength (2), skipDigits.
  function runner(input, o) {
    var minLength = o.minLength || 2;
    var seq = 0;
    return debounce(function () {
      var q = (o.query ? o.query(input) : input.value).trim();
      if (q.length < minLength || (o.skipDigits && /^\d+$/.test(q))) {
        if (o.clear) { o.clear(input); }
        return;
      }
      var url = o.url(input);
      if (!url) { return; }
      var mine = ++seq;  // an older, slower answer must not replace a newer one
      getJSON(withQuery(url, q, o.params ? o.params(input) : null))
        .then(function (res) {
          if (mine === seq) { o.show(Array.isArray(res.body) ? res.body : [], input); }
        })
        .catch(function () { if (mine === seq) { o.show([], input); } });
    }, o.delay || 250);
  }

  function attach(input, options) {
    var run = runner(input, options || {});
    input.addEventListener("input", function () {
      if (options.typed) { options.typed(input); }
      run();
    });
  }

  // delegate(selector, options): the same for every input matching `selector`, including rows
  // added to the page later (the seizure form's "Add another party").
  function delegate(selector, options) {
    var runs = new WeakMap();
    document.addEventListener("input", function (ev) {
      var input = ev.target;
      if (!input.matches || !input.matches(selector)) { return; }
      if (options.typed && options.typed(input) === false) { return; }
      if (!runs.has(input)) { runs.set(input, runner(input, options)); }
      runs.get(input)();
    });
  }

  T.picker = {attach: attach, delegate: delegate, debounce: debounce, getJSON: getJSON, identifiers: identifiers};
})();
