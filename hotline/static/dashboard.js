// Managers' dashboard: a custom date range replaces the period field (and vice versa),
// so the form never sends both. Everything else works without JavaScript.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) return;
  var period = form.querySelector("#period");
  var dates = form.querySelectorAll("input[type=date]");
  form.addEventListener("submit", function () {
    var custom = Array.prototype.some.call(dates, function (d) { return d.value; });
    if (custom) { period.disabled = true; }
    else { dates.forEach(function (d) { d.disabled = true; }); }
  });
})();
