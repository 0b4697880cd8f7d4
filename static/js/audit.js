// Audit pages: print button, live count of the traders chosen against the capacity.
(function () {
  "use strict";
  document.querySelectorAll(".js-print").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  var form = document.getElementById("confirm-form");
  if (!form) { return; }
  var capacity = parseInt(form.getAttribute("data-capacity"), 10);
  var counter = document.getElementById("chosen-count");
  var button = document.getElementById("confirm-button");
  function update() {
    var n = form.querySelectorAll('input[name="line"]:checked').length;
    if (counter) { counter.textContent = String(n); }
    if (button) { button.disabled = n === 0 || n > capacity; }
    form.classList.toggle("over-capacity", n > capacity);
  }
  form.addEventListener("change", update);
  update();
})();
