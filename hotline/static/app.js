// Hotline 18001769: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // A form whose fields differ from what the page gave (a chosen radio, typed text).
  function formChanged(form) {
    return Array.prototype.some.call(form.elements, function (field) {
      if (field.type === "hidden" || field.type === "submit" || field.type === "button") {
        return false;
      }
      if (field.type === "radio" || field.type === "checkbox") {
        return field.checked !== field.defaultChecked;
      }
      if (field.options) {
        return Array.prototype.some.call(field.options, function (option) {
          return option.selected !== option.defaultSelected;
        });
      }
      return typeof field.value === "string" && field.value !== field.defaultValue;
    });
  }

  // The operator is busy inside a live region: focus or changes in one of its forms, or
  // one of its recordings playing. Replacing the region then would wipe their work.
  function busy(el) {
    var active = document.activeElement;
    if (active && active !== el && el.contains(active) && active.closest && active.closest("form")) {
      return true;
    }
    if (Array.prototype.some.call(el.querySelectorAll("form"), formChanged)) { return true; }
    return Array.prototype.some.call(el.querySelectorAll("audio, video"), function (media) {
      return !media.paused && !media.ended;
    });
  }

  // Live regions: [data-poll] is refreshed from data-poll-url every data-poll-seconds,
  // except while the operator is busy in it (then it waits for the next tick).
  function startPolling(el) {
    var url = el.getAttribute("data-poll-url");
    var seconds = parseInt(el.getAttribute("data-poll-seconds") || "5", 10);
    var status = document.getElementById(el.getAttribute("data-poll-status") || "");
    var expired = document.getElementById("session-expired");
    var timer = null;
    function say(text) { if (status) { status.textContent = text; } }
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) {
          if (response.status === 401) {
            if (expired) { expired.hidden = false; }
            say(el.getAttribute("data-text-expired") || "");
            return null;
          }
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (html) {
          if (html === null) { return; }
          if (busy(el)) {
            say(el.getAttribute("data-text-held") || "");
          } else {
            el.innerHTML = html;  // server-rendered, escaped by the template engine
            say((el.getAttribute("data-text-updated") || "") + " " + new Date().toLocaleTimeString());
          }
          timer = setTimeout(tick, seconds * 1000);
        })
        .catch(function () {
          say(el.getAttribute("data-text-offline") || "");
          timer = setTimeout(tick, seconds * 2000);
        });
    }
    timer = setTimeout(tick, seconds * 1000);
    return function () { clearTimeout(timer); };
  }

  // Without diacritics and case, so "tien yen" finds "Xã Tiên Yên".
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }

  function filterSelect(input) {
    var select = document.getElementById(input.getAttribute("data-filter-select"));
    if (!select) { return; }
    input.addEventListener("input", function () {
      var q = fold(input.value.trim());
      var firstMatch = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var show = !option.value || !q || fold(option.textContent).indexOf(q) !== -1;
        option.hidden = !show;
        if (show && option.value && !firstMatch) { firstMatch = option; }
      });
      if (q && firstMatch && (select.selectedIndex < 1 || select.options[select.selectedIndex].hidden)) {
        firstMatch.selected = true;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function previewForm(form) {
    var url = form.getAttribute("data-preview-url");
    var target = document.getElementById("routing-preview");
    if (!url || !target) { return; }
    var pending = null;
    var watched = /^(commune_code|area_text|risk|needs|survivor_age_band)$/;
    function refresh() {
      var data = new FormData(form);
      fetch(url, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf(), "X-Requested-With": "fetch" }
      }).then(function (response) {
        if (response.status === 401) {
          var expired = document.getElementById("session-expired");
          if (expired) { expired.hidden = false; }
          return null;
        }
        return response.ok ? response.text() : null;
      }).then(function (html) {
        if (html !== null) { target.innerHTML = html; }
      }).catch(function () { /* the preview button still works */ });
    }
    function schedule(event) {
      if (!event.target || !watched.test(event.target.name || "")) { return; }
      clearTimeout(pending);
      pending = setTimeout(refresh, 400);
    }
    form.addEventListener("change", schedule);
    form.addEventListener("input", schedule);
  }

  function confirmButtons() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-poll]").forEach(startPolling);
    document.querySelectorAll("[data-filter-select]").forEach(filterSelect);
    document.querySelectorAll("form[data-preview-url]").forEach(previewForm);
    confirmButtons();
  });
})();
