// cximpact dashboard: draws the charts whose data the server put in data-* attributes.
// No inline scripts (the Content-Security-Policy forbids them) and no network calls.
(function () {
  "use strict";

  function weeks(points) {
    return [
      points.map(function (p) { return Date.parse(p.week) / 1000; }),
      points.map(function (p) { return p.contacts; }),
    ];
  }

  function drawTrend(el) {
    var points = JSON.parse(el.getAttribute("data-trend") || "[]");
    if (!points.length || typeof uPlot === "undefined") { return; }
    var small = el.classList.contains("spark");
    var opts = {
      width: small ? 160 : Math.max(320, el.clientWidth || 640),
      height: small ? 36 : 220,
      legend: { show: !small },
      cursor: { show: !small },
      axes: small ? [{ show: false }, { show: false }] : [{}, { label: "contacts / week" }],
      scales: { x: { time: true } },
      series: [{}, { label: "contacts", stroke: "#b3261e", width: 2, fill: "rgba(179,38,30,0.08)" }],
    };
    new uPlot(opts, weeks(points), el);
    el.setAttribute("data-drawn", "1");
  }

  function drawBars(el) {
    var rows = JSON.parse(el.getAttribute("data-bars") || "[]");
    if (!rows.length || typeof uPlot === "undefined") { return; }
    var xs = rows.map(function (_, i) { return i; });
    var opts = {
      width: Math.max(320, el.clientWidth || 640),
      height: 240,
      scales: { x: { time: false } },
      axes: [
        { values: function (_, ticks) { return ticks.map(function (t) { return rows[t] ? rows[t].label : ""; }); } },
        { label: el.getAttribute("data-label") || "" },
      ],
      series: [{}, {
        label: el.getAttribute("data-label") || "value",
        stroke: "#1f4e79",
        fill: "rgba(31,78,121,0.6)",
        paths: uPlot.paths.bars({ size: [0.6, 60] }),
        points: { show: false },
      }],
    };
    new uPlot(opts, [xs, rows.map(function (r) { return r.value; })], el);
    el.setAttribute("data-drawn", "1");
  }

  document.querySelectorAll("[data-trend]").forEach(drawTrend);
  document.querySelectorAll("[data-bars]").forEach(drawBars);
})();
