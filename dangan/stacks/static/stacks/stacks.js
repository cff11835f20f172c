// The stacks pages: the scanner input keeps the focus (a scanner gun types the code and Enter),
// and a room's temperature/humidity chart is drawn from the JSON the page carries (json_script).
// No inline script or style: the Content-Security-Policy forbids them.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const scan = document.querySelector("[data-autofocus]");
  if (scan) {
    scan.focus();
  }
  const chart = document.getElementById("room-chart");
  if (chart && window.echarts) {
    drawRoomChart(chart);
  }
});

function drawRoomChart(element) {
  const data = JSON.parse(document.getElementById(element.dataset.series).textContent);
  const limits = data.limits;
  const line = (value, colour) => ({ yAxis: value, lineStyle: { color: colour, type: "dashed" } });
  const instance = window.echarts.init(element);
  instance.setOption({
    animation: false,
    tooltip: { trigger: "axis", renderMode: "richText" },
    legend: {},
    grid: { left: 50, right: 50, top: 40, bottom: 30 },
    xAxis: { type: "category", data: data.points.map((p) => p[0]) },
    yAxis: [
      { type: "value", name: "°C", scale: true },
      { type: "value", name: "%", scale: true },
    ],
    series: [
      {
        name: element.dataset.labelTemperature,
        type: "line",
        yAxisIndex: 0,
        data: data.points.map((p) => p[1]),
        markLine: { symbol: "none", silent: true, data: limits.temperature.map((v) => line(v, "#c0392b")) },
      },
      {
        name: element.dataset.labelHumidity,
        type: "line",
        yAxisIndex: 1,
        data: data.points.map((p) => p[2]),
        markLine: { symbol: "none", silent: true, data: limits.humidity.map((v) => line(v, "#2471a3")) },
      },
    ],
  });
  element.dataset.drawn = "true";
  window.addEventListener("resize", () => instance.resize());
}
