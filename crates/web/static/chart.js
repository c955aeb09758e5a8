// Draws every [data-chart] box from its JSON endpoint with the vendored ECharts (SVG), and
// sends a click on a bar, point or slice to the rows behind it. Without script the table
// beside the chart still says everything.
(function () {
  "use strict";
  var palette = ["#c8161d", "#e0663a", "#e9a23b", "#8aa35a", "#4f7fa8", "#7b6aa5", "#9c8f84"];
  // How wide a label is drawn, roughly: a Chinese character a full em, others about half.
  function labelWidth(text, size) {
    var w = 0;
    Array.prototype.forEach.call(String(text), function (ch) { w += ch.charCodeAt(0) > 0x2e80 ? size : size * 0.6; });
    return w;
  }
  // Every label shown, whole: on a box too narrow for them side by side they turn, never hide
  // (the attendance chart showed 4 of 12 months on a phone) nor run into each other.
  function option(d, width) {
    var tooltip = { trigger: d.kind === "pie" ? "item" : "axis", valueFormatter: function (v) { return v + (d.unit || ""); } };
    if (d.kind === "pie") {
      var s = d.series[0] || { values: [], name: "" };
      return {
        color: palette, tooltip: tooltip, aria: { enabled: true }, animation: false,
        series: [{ type: "pie", name: s.name, radius: width < 480 ? ["25%", "50%"] : ["35%", "70%"],
          label: { formatter: "{b}\n{c}", overflow: "break", width: Math.max(56, width / 4) },
          data: d.categories.map(function (c, i) { return { name: c, value: s.values[i] }; }) }]
      };
    }
    return {
      color: palette, tooltip: tooltip, aria: { enabled: true }, animation: false,
      legend: { show: d.series.length > 1, top: 0, type: "scroll" },
      grid: { left: 8, right: 8, top: d.series.length > 1 ? 32 : 12, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: d.categories, axisLabel: axisLabel(d.categories, width) },
      yAxis: { type: "value", minInterval: 1 },
      series: d.series.map(function (s) {
        return { type: d.kind, name: s.name, data: s.values, stack: d.stacked ? "all" : undefined, cursor: "pointer" };
      })
    };
  }
  function axisLabel(categories, width) {
    var widest = 0;
    categories.forEach(function (c) { widest = Math.max(widest, labelWidth(c, 12)); });
    var room = (width - 48) / Math.max(categories.length, 1);
    return widest + 6 > room ? { interval: 0, rotate: room < 18 ? 90 : 45 } : { interval: 0 };
  }
  // On the meeting-room screen: light text and lines and warm colours on the red ground.
  function screenTheme(o) {
    var light = "#ffe9a8", faint = "rgba(255,255,255,0.18)";
    o.color = ["#ffd36b", "#ff9f43", "#fff3c4", "#f6b8a8", "#ffffff", "#e0663a", "#c9a0dc"];
    o.textStyle = { color: light, fontSize: 14 };
    if (o.legend) { o.legend.textStyle = { color: light }; }
    if (o.xAxis) { o.xAxis.axisLabel.color = light; o.xAxis.axisLine = { lineStyle: { color: faint } }; }
    if (o.yAxis) { o.yAxis.axisLabel = { color: light }; o.yAxis.splitLine = { lineStyle: { color: faint } }; }
    o.series.forEach(function (s) { if (s.type === "pie") { s.label.color = light; } });
  }
  function draw(box) {
    fetch(box.getAttribute("data-chart"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (d) {
        var chart = window.echarts.init(box, null, { renderer: "svg" });
        var o = option(d, box.clientWidth || 320);
        if (box.closest(".screen")) { screenTheme(o); }
        chart.setOption(o);
        chart.on("click", function (p) {
          var s = d.series[d.kind === "pie" ? 0 : p.seriesIndex];
          var link = s && s.links[p.dataIndex];
          if (link) { window.location.href = link; }
        });
        window.addEventListener("resize", function () { chart.resize(); });
        box.setAttribute("data-ready", "1");
      })
      .catch(function () { box.setAttribute("data-failed", "1"); });
  }
  function start() {
    if (!window.echarts) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
