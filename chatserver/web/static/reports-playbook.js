/* The reports page's after-sale resolutions: per problem type, what settled it, its cost as a
   share of the order value and how often the cheapest offer did (GET /api/reports/resolutions,
   the same days as the rest of the page). Needs reports.js ("reports:drawn"). */
(function () {
  "use strict";
  var C = ChatCommon, texts = C.texts(), t = texts.t;
  var lang = C.language(localStorage.getItem("console:lang") || navigator.language || "en");
  var ready = C.strings("", lang).then(function (loaded) { texts.use(loaded.table); });
  var KINDS = ["explain", "coupon", "partial_refund", "resend", "full_refund"];
  document.addEventListener("reports:drawn", function (e) {
    var d = e.detail;
    Promise.all([ready, fetch("/api/reports/resolutions?" + d.query, { headers: { Authorization: "Bearer " + d.token } })
      .then(function (r) { return r.ok ? r.json() : null; })]).then(function (got) {
      var report = got[1];
      if (!report) return;
      var all = report.rows.filter(function (r) { return r.problem === "all"; })[0];
      d.figures(document.getElementById("resolution-figures"), [
        [t("r.res_settled"), String(all ? all.settled : 0)],
        [t("r.res_cost_share"), d.pct(all ? all.cost_share : null)],
        [t("r.res_cheapest_share"), d.pct(all ? all.cheapest_share : null)]
      ]);
      d.table(document.getElementById("resolutions"),
        [t("r.res_problem"), t("r.res_offered"), t("r.res_settled")].concat(KINDS.map(function (k) { return t("c.res_" + k); }))
          .concat([t("r.res_cost_share"), t("r.res_cheapest_share")]),
        report.rows.map(function (r) {
          return [r.problem === "all" ? t("r.res_all") : t("c.problem_" + r.problem), r.offered, r.settled]
            .concat(KINDS.map(function (k) { return r.by_kind[k]; })).concat([d.pct(r.cost_share), d.pct(r.cheapest_share)]);
        }));
    });
  });
})();
