// The trend chart's readout: hover a day, or focus the chart and move with
// the arrow keys (Home and End for the first and last day). Everything it
// shows is also in the table below the chart.
(function () {
  "use strict";
  const fig = document.getElementById("trend");
  if (!fig) return;
  const svg = fig.querySelector("svg");
  const days = Array.from(svg.querySelectorAll("g.day"));
  const out = document.getElementById("trend-readout");
  if (!days.length || !out) return;
  let current = days.length - 1;
  function show(i) {
    days[current].classList.remove("active");
    current = Math.max(0, Math.min(days.length - 1, i));
    const d = days[current].dataset;
    days[current].classList.add("active");
    out.textContent = d.date + ": " + d.total + " open findings (" + d.critical + " critical, " + d.high +
      " high, " + d.medium + " medium, " + d.low + " low, " + d.unknown + " unknown)";
  }
  svg.setAttribute("tabindex", "0");
  svg.setAttribute("aria-describedby", "trend-readout");
  svg.addEventListener("keydown", function (e) {
    const moves = { ArrowLeft: current - 1, ArrowRight: current + 1, Home: 0, End: days.length - 1 };
    if (!(e.key in moves)) return;
    e.preventDefault();
    show(moves[e.key]);
  });
  svg.addEventListener("focus", function () { show(current); });
  days.forEach(function (g, i) { g.addEventListener("mouseenter", function () { show(i); }); });
  fig.dataset.ready = "true";
})();
