/* storeops dashboard: draws the Plotly figures embedded in the page (data-figure),
   submits the store picker on change and polls the live-traffic JSON. No inline
   scripts anywhere (the Content-Security-Policy forbids them). */
(function () {
  "use strict";
  var CONFIG = { displayModeBar: false, responsive: true };

  function draw(el, figure) {
    if (!window.Plotly) { return; }
    window.Plotly.react(el, figure.data, figure.layout, CONFIG);
    el.setAttribute("data-drawn", "1");
  }

  function drawAll() {
    var charts = document.querySelectorAll(".chart[data-figure]");
    for (var i = 0; i < charts.length; i++) {
      draw(charts[i], JSON.parse(charts[i].getAttribute("data-figure")));
    }
  }

  function pickers() {
    var selects = document.querySelectorAll("select[data-autosubmit]");
    for (var i = 0; i < selects.length; i++) {
      selects[i].addEventListener("change", function (event) { event.target.form.submit(); });
    }
  }

  function poll(section) {
    var url = section.getAttribute("data-live-url");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var fields = section.querySelectorAll("[data-live]");
        for (var i = 0; i < fields.length; i++) {
          var key = fields[i].getAttribute("data-live");
          var value = data[key];
          fields[i].textContent = typeof value === "number" ? value.toLocaleString() : (value || "—");
        }
        var minutes = document.getElementById("chart-minutes");
        var cumulative = document.getElementById("chart-cumulative");
        if (minutes) { draw(minutes, data.figures.minutes); }
        if (cumulative) { draw(cumulative, data.figures.cumulative); }
        section.setAttribute("data-polls", String(Number(section.getAttribute("data-polls") || 0) + 1));
      })
      .catch(function () { /* the next poll tries again */ });
  }

  function live() {
    var section = document.querySelector("[data-live-url]");
    if (!section) { return; }
    var seconds = Number(section.getAttribute("data-live-seconds")) || 30;
    window.setInterval(function () { poll(section); }, seconds * 1000);
    section.addEventListener("storeops:poll", function () { poll(section); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    pickers();
    live();
    if (window.Plotly) { drawAll(); } else { window.addEventListener("load", drawAll); }
  });
})();
