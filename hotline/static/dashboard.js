// Managers' dashboard: small conveniences only; everything works without JavaScript.
// - Choosing a reporting period or a month ticks the matching "Period" option, so the form
//   says which of the two it means (the server reads ``range``).
// - The printable report gets a Print button.
// - The language links keep the period, place and tab on screen (the site's links carry
//   only ``?lang=``, which would drop them).
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (form) {
    var byPeriod = form.querySelector("#range-period");
    var byMonths = form.querySelector("#range-months");
    var select = form.querySelector("#period");
    if (select && byPeriod) {
      select.addEventListener("change", function () { byPeriod.checked = true; });
    }
    form.querySelectorAll("input[type=month]").forEach(function (input) {
      input.addEventListener("input", function () { if (byMonths) { byMonths.checked = true; } });
    });
    form.addEventListener("submit", function () {
      // Send only the fields of the chosen way, so links stay short and clear.
      var months = byMonths && byMonths.checked;
      if (select) { select.disabled = !!months; }
      form.querySelectorAll("input[type=month]").forEach(function (input) {
        input.disabled = !months;
      });
    });
  }
  document.querySelectorAll(".lang a[hreflang]").forEach(function (link) {
    var url = new URL(window.location.href);
    url.searchParams.set("lang", link.getAttribute("hreflang"));
    link.href = url.pathname + url.search;
  });
  var print = document.getElementById("print-button");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();
