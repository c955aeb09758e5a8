// Small enhancements; every page works without them.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // htmx requests carry the session's CSRF token like forms do.
  document.addEventListener("htmx:configRequest", function (e) {
    if (meta) { e.detail.headers["X-CSRF-Token"] = meta.content; }
  });
  if (window.htmx) {
    // A refused form (422) shows its reason in place; other errors stay with the page.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true }
    ];
  }
  // The self-assessment's running total: the scores typed so far, each within its full score.
  var scores = document.getElementById("scores-form");
  var running = document.getElementById("running-total");
  if (scores && running) {
    var recount = function () {
      var sum = 0;
      document.querySelectorAll('input[form="scores-form"][name^="score_"]').forEach(function (i) {
        var v = parseFloat(i.value);
        var full = parseFloat(i.getAttribute("data-full"));
        if (!isNaN(v)) { sum += isNaN(full) ? v : Math.max(0, Math.min(v, full)); }
      });
      running.textContent = String(sum);
    };
    document.addEventListener("input", function (e) {
      if (e.target.getAttribute && e.target.getAttribute("form") === "scores-form") { recount(); }
    });
  }
  // Print buttons (the member card, the village file): no inline handlers under the CSP.
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print]")) { window.print(); }
  });
  // An evidence upload sent by htmx clears its file box once the list shows the new file.
  document.addEventListener("htmx:afterRequest", function (e) {
    var f = e.detail.elt;
    if (f && f.classList && f.classList.contains("inline-upload") && e.detail.successful) { f.reset(); }
  });
  var toggle = document.querySelector("[data-toggle-nav]");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var nav = document.getElementById("sidenav");
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
})();
