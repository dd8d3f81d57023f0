/* The insight sections of the reports page: flagged tone per agent and day, customer effort per
   topic and agent, and the product pages that start chats (GET /api/reports/insight).
   Needs reports.js (window.Reports) loaded first. */
(function () {
  "use strict";
  var R = window.Reports, t = R.t;
  var $ = function (id) { return document.getElementById(id); };
  var STANDS_OUT = "#c62828", USUAL = "#2f6fdb";

  function draw(report) {
    var tone = report.tone;
    R.figures($("tone"), [[t("r.tone_share"), R.pct(tone.share)], [t("r.tone_flagged"), String(tone.flagged)],
      [t("r.tone_messages"), String(tone.messages)]]);
    var days = report.tone_by_day;
    R.chart("chart-tone", { type: "line", data: {
      labels: days.map(function (d) { return d.key; }),
      datasets: [{ label: t("r.tone_share"), data: days.map(function (d) { return d.share == null ? null : d.share * 100; }),
        borderColor: "#e08a00", spanGaps: true }] }, options: { scales: { y: { min: 0, max: 100 } } } });
    R.table($("tone-agents"), [t("r.agent"), t("r.tone_messages"), t("r.tone_flagged"), t("r.tone_share")],
      report.tone_by_agent.map(function (r) { return [r.key, r.messages, r.flagged, R.pct(r.share)]; }));

    var effort = report.effort;
    R.figures($("effort"), [[t("r.effort_average"), R.num(effort.average)], [t("r.effort_easy"), R.pct(effort.share_easy)],
      [t("r.effort_answers"), String(effort.answers)]]);
    function effortRows(rows) {
      return rows.map(function (r) { return [r.key, r.answers, R.num(r.average), R.pct(r.share_easy)]; });
    }
    var head = [t("r.effort_answers"), t("r.effort_average"), t("r.effort_easy")];
    R.table($("effort-topics"), [t("r.topic")].concat(head), effortRows(report.effort_by_topic));
    R.table($("effort-agents"), [t("r.agent")].concat(head), effortRows(report.effort_by_agent));

    var products = report.products;
    $("products-rule").textContent = t("r.products_rule", { factor: report.factor, min: report.min_chats,
      median: R.num(report.product_median) });
    var top = products.slice(0, 15);
    R.chart("chart-products", { type: "bar", data: {
      labels: top.map(function (r) { return r.product_name || r.product_id; }),
      datasets: [{ label: t("r.chats"), data: top.map(function (r) { return r.chats; }),
        backgroundColor: top.map(function (r) { return r.stands_out ? STANDS_OUT : USUAL; }) }] },
      options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } } });
    R.table($("products"), [t("r.product"), t("r.chats"), t("r.topics"), t("r.stands_out")], products.map(function (r) {
      return [r.product_name || r.product_id, r.chats,
        r.topics.map(function (x) { return x.topic + " (" + x.chats + ")"; }).join(", "), r.stands_out ? t("r.yes") : ""];
    }));
    $("products").querySelectorAll("tr").forEach(function (tr, i) {
      tr.classList.toggle("stands-out", i > 0 && products[i - 1].stands_out);
    });
    document.body.dataset.insightDrawn = "yes";
  }

  R.onLoad(function (range) {
    R.api("/api/reports/insight?" + range).then(function (r) { return r.json(); }).then(draw)
      .catch(function () { /* the main report shows the error */ });
  });
})();
