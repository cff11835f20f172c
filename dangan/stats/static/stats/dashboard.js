// The dashboard's charts (ECharts, served from our own static files), drawn from the JSON the
// page carries (json_script). A click on a bar opens the catalogue list filtered to the
// records behind it. No inline script or style: the Content-Security-Policy forbids them;
// tooltips render as rich text on the canvas rather than as HTML with style attributes.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("charts");
  if (!root || !window.echarts) {
    return;
  }
  const data = JSON.parse(document.getElementById(root.dataset.source).textContent);
  const label = root.dataset;
  const catalogue = (params) => `${label.catalogueUrl}?${new URLSearchParams(params)}`;
  const base = {
    animation: false,
    tooltip: { trigger: "axis", renderMode: "richText" },
    grid: { left: 60, right: 20, top: 40, bottom: 60, containLabel: false },
  };
  const charts = {
    category: {
      option: {
        ...base,
        xAxis: { type: "category", data: data.by_category.map((c) => c.name), axisLabel: { rotate: 30 } },
        yAxis: { type: "value" },
        series: [{ name: label.labelRecords, type: "bar", data: data.by_category.map((c) => c.count) }],
      },
      link: (p) => catalogue({ category: data.by_category[p.dataIndex].id }),
    },
    year: {
      option: {
        ...base,
        legend: { type: "scroll", top: 0 },
        xAxis: { type: "category", data: data.by_year.map((y) => y.year) },
        yAxis: { type: "value" },
        // One series per category, named by the category's name (the legend a clerk reads).
        series: data.by_category.map((c) => ({
          name: c.name,
          type: "bar",
          stack: "year",
          data: data.by_year.map((y) => y.categories[c.code] || 0),
        })),
      },
      link: (p) =>
        catalogue({ category: data.by_category[p.seriesIndex].id, year: data.by_year[p.dataIndex].year }),
    },
    unit: {
      option: {
        ...base,
        tooltip: { trigger: "item", renderMode: "richText" },
        series: [
          {
            name: label.labelRecords,
            type: "pie",
            radius: ["35%", "65%"],
            data: data.by_unit.map((u) => ({ name: u.name, value: u.count })),
          },
        ],
      },
      link: null,
    },
    growth: {
      option: {
        ...base,
        legend: { top: 0 },
        xAxis: { type: "category", data: data.growth.map((g) => g.year) },
        yAxis: [{ type: "value" }, { type: "value" }],
        series: [
          { name: label.labelAdded, type: "bar", data: data.growth.map((g) => g.added) },
          { name: label.labelTotal, type: "line", yAxisIndex: 1, data: data.growth.map((g) => g.total) },
        ],
      },
      link: null,
    },
    digitization: {
      option: {
        ...base,
        legend: { top: 0 },
        xAxis: { type: "category", data: data.digitization.map((d) => d.name), axisLabel: { rotate: 30 } },
        yAxis: [{ type: "value" }, { type: "value" }],
        series: [
          { name: label.labelRecords, type: "bar", data: data.digitization.map((d) => d.count) },
          { name: label.labelRecordsScanned, type: "bar", data: data.digitization.map((d) => d.records_scanned) },
          { name: label.labelPages, type: "line", yAxisIndex: 1, data: data.digitization.map((d) => d.pages) },
          { name: label.labelPagesOcr, type: "line", yAxisIndex: 1, data: data.digitization.map((d) => d.pages_ocr) },
        ],
      },
      link: (p) => catalogue({ category: data.digitization[p.dataIndex].id }),
    },
    use: {
      option: {
        ...base,
        legend: { top: 0 },
        xAxis: { type: "category", data: data.use.map((u) => u.month) },
        yAxis: { type: "value" },
        series: [
          { name: label.labelReading, type: "bar", stack: "use", data: data.use.map((u) => u.reading) },
          { name: label.labelLoans, type: "bar", stack: "use", data: data.use.map((u) => u.loans) },
          { name: label.labelRequests, type: "bar", stack: "use", data: data.use.map((u) => u.requests) },
        ],
      },
      link: null,
    },
  };
  const drawn = [];
  for (const element of root.querySelectorAll("[data-chart]")) {
    const chart = charts[element.dataset.chart];
    const instance = window.echarts.init(element);
    instance.setOption(chart.option);
    if (chart.link) {
      instance.on("click", (params) => {
        window.location.href = chart.link(params);
      });
    }
    element.dataset.drawn = "true";
    drawn.push(instance);
  }
  root.dataset.drawn = String(drawn.length);
  window.addEventListener("resize", () => drawn.forEach((c) => c.resize()));
});
