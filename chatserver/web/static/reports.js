/* The managers' reports page: log in, fetch /api/reports and /api/reports/live, draw with Chart.js.
   Needs chat-common.js (ChatCommon) loaded first. */
(function () {
  "use strict";
  var C = ChatCommon;
  var texts = C.texts(), t = texts.t; // every string is in /locales/<lang>.json ("r." keys)
  var lang = C.language(localStorage.getItem("console:lang") || navigator.language || "en");
  var TOKEN_KEY = "console:token"; // shared with the console: one login for both pages
  var token = localStorage.getItem(TOKEN_KEY);
  var charts = {};
  var loaders = []; // other report sections (reports-playbook.js), given the range on each load
  var $ = function (id) { return document.getElementById(id); };

  function pct(x) { return x == null ? "–" : Math.round(x * 1000) / 10 + "%"; }
  function num(x) { return x == null ? "–" : String(Math.round(x * 10) / 10); }

  function api(path) {
    return fetch(path, { headers: { Authorization: "Bearer " + token } }).then(function (r) {
      if (r.status === 401) { logout(); throw new Error("401"); }
      if (r.status === 403) { throw new Error(t("r.forbidden")); }
      if (!r.ok) { return r.json().then(function (b) { throw new Error(b.error || r.status); }); }
      return r;
    });
  }

  function figures(el, items) {
    el.replaceChildren.apply(el, items.map(function (item) {
      var box = document.createElement("div"); box.className = "figure";
      var b = document.createElement("b"); b.textContent = item[1];
      var span = document.createElement("span"); span.textContent = item[0];
      box.append(b, span); return box;
    }));
  }

  function table(el, header, rows) {
    var head = document.createElement("tr");
    header.forEach(function (h) { var th = document.createElement("th"); th.textContent = h; head.append(th); });
    var trs = rows.map(function (row) {
      var tr = document.createElement("tr");
      row.forEach(function (cell) { var td = document.createElement("td"); td.textContent = cell; tr.append(td); });
      return tr;
    });
    el.replaceChildren.apply(el, [head].concat(trs));
  }

  function chart(id, config) {
    if (charts[id]) { charts[id].destroy(); }
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    charts[id] = new Chart($(id), config);
  }

  function draw(report) {
    var first = report.response.overall.first, target = report.target_s;
    $("from").value = shopDay(report.since, report.time_zone);
    $("to").value = shopDay(report.until - 1, report.time_zone);
    figures($("headline"), [
      [t("r.within"), pct(first.share_within)], [t("r.p50"), num(first.p50_s)], [t("r.p90"), num(first.p90_s)],
      [t("r.misses"), String(first.misses)], [t("r.conversations"), String(report.workload.conversations)],
      [t("r.abandoned"), String(report.workload.abandoned)]
    ]);
    var days = report.days;
    chart("chart-response", { type: "line", data: {
      labels: days.map(function (d) { return d.day; }),
      datasets: [
        { label: t("r.p50"), data: days.map(function (d) { return d.first.p50_s; }), borderColor: "#2f6fdb" },
        { label: t("r.p90"), data: days.map(function (d) { return d.first.p90_s; }), borderColor: "#e08a00" },
        { label: t("r.target"), data: days.map(function () { return target; }), borderColor: "#c62828",
          borderDash: [6, 4], pointRadius: 0 }
      ] }, options: { scales: { y: { beginAtZero: true } } } });
    var agents = report.response.by_agent.filter(function (r) { return r.key !== "(none)"; });
    chart("chart-agents", { type: "bar", data: {
      labels: agents.map(function (r) { return r.key; }),
      datasets: [{ label: t("r.within"), data: agents.map(function (r) { return r.first.share_within == null ? null : r.first.share_within * 100; }),
        backgroundColor: "#2f6fdb" }] }, options: { scales: { y: { min: 0, max: 100 } } } });
    chart("chart-csat", { type: "line", data: {
      labels: days.map(function (d) { return d.day; }),
      datasets: [{ label: t("r.csat"), data: days.map(function (d) { return d.csat == null ? null : d.csat * 100; }),
        borderColor: "#2e7d32", spanGaps: true }] }, options: { scales: { y: { min: 0, max: 100 } } } });
    var hours = report.response.by_hour;
    chart("chart-hours", { type: "bar", data: {
      labels: hours.map(function (r) { return r.key + ":00"; }),
      datasets: [{ label: t("r.within"), data: hours.map(function (r) { return r.first.share_within == null ? null : r.first.share_within * 100; }),
        backgroundColor: "#7e57c2" }] }, options: { scales: { y: { min: 0, max: 100 } } } });

    table($("staffed"), [t("r.key"), t("r.clocks"), t("r.answered"), t("r.misses"), t("r.p50"), t("r.p90"), t("r.within")],
      report.response.by_staffed.map(function (r) {
        return [r.key, r.first.count, r.first.answered, r.first.misses, num(r.first.p50_s), num(r.first.p90_s), pct(r.first.share_within)];
      }));
    table($("languages"), [t("r.language"), t("r.clocks"), t("r.answered"), t("r.misses"), t("r.p50"), t("r.p90"), t("r.within")],
      (report.response.by_language || []).map(function (r) {
        return [languageName(r.key), r.first.count, r.first.answered, r.first.misses, num(r.first.p50_s), num(r.first.p90_s), pct(r.first.share_within)];
      }));
    var ratings = {};
    report.quality.by_agent.forEach(function (r) { ratings[r.agent_id] = r; });
    var qa = {};
    (report.qa || []).forEach(function (r) { qa[r.agent_id] = r; });
    table($("agents"), [t("r.agent"), t("r.conversations"), t("r.messages"), t("r.per_staffed_hour"), t("r.within"), t("r.average"), t("r.qa_score")],
      report.workload.by_agent.map(function (a) {
        var row = report.response.by_agent.filter(function (r) { return r.key === a.agent_id; })[0];
        return [a.agent_id, a.conversations, a.messages, num(a.conversations_per_staffed_hour),
          pct(row ? row.first.share_within : null), num(ratings[a.agent_id] ? ratings[a.agent_id].average : null),
          qa[a.agent_id] ? num(qa[a.agent_id].score) + " (" + qa[a.agent_id].reviews + ")" : "\u2013"];
      }));
    var q = report.quality;
    figures($("quality"), [[t("r.csat"), pct(q.csat)], [t("r.average"), num(q.average)], [t("r.ratings"), String(q.ratings)],
      [t("r.messages_per_resolved"), num(q.messages_per_resolved)], [t("r.handoffs_per_resolved"), num(q.handoffs_per_resolved)]]);
    table($("tags"), [t("r.tag"), t("r.times")], q.tags.map(function (x) { return [x.tag, x.count]; }));
    table($("comments"), [t("r.agent"), t("r.rating"), t("r.comment")], q.comments.map(function (c) { return [c.agent_id, c.rating, c.comment]; }));
    var bot = report.bot;
    figures($("bot"), [[t("r.bot_conversations"), String(bot.conversations)], [t("r.settled"), pct(bot.settled_share)],
      [t("r.handoff_rate"), pct(bot.handoff_rate)], [t("r.order_answers"), String(bot.order_answers || 0)]]);
    table($("unanswered"), [t("r.question"), t("r.times")], bot.unanswered.map(function (u) { return [u.text, u.count]; }));
    var n = report.notices;
    var kinds = { confirmed: "r.notice_confirmed", shipped: "r.notice_shipped", delayed: "r.notice_delayed", refund: "r.notice_refund" };
    var choices = { keep_waiting: "w.choice_keep_waiting", faster_shipping: "w.choice_faster_shipping", cancel_refund: "w.choice_cancel_refund" };
    table($("notices"), [t("r.notice_kind"), t("r.times")], n.by_kind.map(function (x) { return [t(kinds[x.key] || x.key), x.count]; }));
    table($("choices"), [t("r.choice"), t("r.times")], n.choices.map(function (x) { return [t(choices[x.key] || x.key), x.count]; }));
    document.body.dataset.drawn = "yes";
    document.dispatchEvent(new CustomEvent("reports:drawn", { detail: { query: range(), token: token, pct: pct, num: num, table: table, figures: figures } }));
  }

  function languageName(code) { // "de" -> "German (de)" in the page's language
    try { return new Intl.DisplayNames([lang], { type: "language" }).of(code) + " (" + code + ")"; } catch (e) { return code; }
  }

  function drawLive(live) {
    figures($("live"), [[t("r.agents_online"), String(live.agents_online)], [t("r.agents_away"), String(live.agents_away)],
      [t("r.chats_open"), String(live.chats_open)], [t("r.queue_now"), String(live.queue_length)], [t("r.oldest_wait"), num(live.oldest_wait_s)]]);
  }

  // Empty dates let the server choose (the last 7 days by its clock, in the shop's zone).
  function range() { return $("from").value ? "from=" + $("from").value + "&to=" + $("to").value : ""; }

  function shopDay(seconds, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(new Date(seconds * 1000)).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }

  function load() {
    $("error").textContent = "";
    api("/api/reports?" + range()).then(function (r) { return r.json(); }).then(draw)
      .catch(function (e) { if (e.message !== "401") { $("error").textContent = t("r.failed", { error: e.message }); } });
    refreshLive();
    loaders.forEach(function (fn) { fn(range()); });
  }

  function refreshLive() {
    if (!token) { return; }
    api("/api/reports/live").then(function (r) { return r.json(); }).then(drawLive).catch(function () {});
  }

  function csvLinks() {
    var names = ["summary", "response", "languages", "agents", "days", "tags", "comments", "unanswered", "notices", "resolutions", "tone", "effort", "products"];
    $("csv").replaceChildren.apply($("csv"), names.map(function (name) {
      var a = document.createElement("a"); a.href = "#"; a.textContent = name + ".csv";
      a.addEventListener("click", function (ev) {
        ev.preventDefault(); // a plain link cannot carry the Authorization header: fetch, then save
        api("/api/reports/" + name + ".csv?" + range()).then(function (r) { return r.blob(); }).then(function (blob) {
          var url = URL.createObjectURL(blob), save = document.createElement("a");
          save.href = url; save.download = name + ".csv"; save.click(); URL.revokeObjectURL(url);
        });
      });
      return a;
    }));
  }

  function showApp() {
    $("login").hidden = true; $("app").hidden = false;
    csvLinks(); load();
  }

  function logout() {
    localStorage.removeItem(TOKEN_KEY); token = null;
    $("app").hidden = true; $("login").hidden = false;
  }

  $("login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = new FormData(ev.target);
    fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: form.get("username"), password: form.get("password") }) })
      .then(function (r) { if (!r.ok) { throw new Error(); } return r.json(); })
      .then(function (body) { token = body.token; localStorage.setItem(TOKEN_KEY, token); $("login-error").textContent = ""; showApp(); })
      .catch(function () { $("login-error").textContent = t("r.login_failed"); });
  });
  // What the other report sections share with this page.
  window.Reports = { api: api, t: t, pct: pct, num: num, figures: figures, table: table, chart: chart,
    onLoad: function (fn) { loaders.push(fn); } };
  $("refresh").addEventListener("click", load);
  $("logout").addEventListener("click", logout);
  C.strings("", lang).then(function (loaded) {
    texts.use(loaded.table, loaded.lang); document.documentElement.lang = loaded.lang;
    C.translate(document, t); document.title = t("r.title");
    setInterval(refreshLive, 10000);
    if (token) { showApp(); } else { logout(); }
  });
})();
