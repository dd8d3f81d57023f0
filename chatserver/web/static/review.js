/* The quality review page: managers pick a week's queue of closed chats (a sample per agent, plus
   every low rating and flagged tone), read one and score it on the shop's rubric; agents see the
   reviews of their own chats. Needs chat-common.js (ChatCommon). */
(function () {
  "use strict";
  var C = ChatCommon, texts = C.texts(), t = texts.t, el = C.el;
  var lang = C.language(localStorage.getItem("console:lang") || navigator.language || "en");
  var TOKEN_KEY = "console:token"; // one login for the console, reports and this page
  var token = localStorage.getItem(TOKEN_KEY), current = null, rubric = [];
  var $ = function (id) { return document.getElementById(id); };

  function api(path, options) {
    options = options || {};
    options.headers = Object.assign({ Authorization: "Bearer " + token }, options.headers || {});
    return fetch(path, options).then(function (r) {
      if (r.status === 401) { localStorage.removeItem(TOKEN_KEY); token = null; showLogin(); throw new Error(t("c.session_expired")); }
      return r.json().then(function (body) { if (!r.ok) { var e = new Error(body.error || String(r.status)); e.status = r.status; throw e; } return body; });
    });
  }
  function day(ts) {
    try { return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(ts * 1000)); } catch (e) { return ""; }
  }
  function showError(message) { $("error").hidden = !message; $("error").textContent = message || ""; }
  function showLogin() { $("app").hidden = true; $("login").hidden = false; }

  $("login").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = e.target;
    fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: f.username.value.trim(), password: f.password.value }) })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (r) {
        if (!r.ok) { $("login-error").hidden = false; $("login-error").textContent = t("c.login_failed"); return; }
        token = r.body.token; localStorage.setItem(TOKEN_KEY, token); start();
      });
  });
  $("week").addEventListener("change", function () { loadQueue(); });

  function start() { $("login").hidden = true; $("app").hidden = false; loadQueue(); }

  function loadQueue() {
    var week = $("week").value;
    api("/api/review/queue" + (week ? "?week=" + encodeURIComponent(week) : "")).then(function (body) {
      showError(""); rubric = body.rubric; $("week").value = body.week;
      drawQueue(body.items);
    }, function (err) {
      if (err.status === 403) return showMine(); // an agent: their own reviews only
      showError(err.message);
    });
  }

  function drawQueue(items) {
    var table = $("queue"); table.textContent = "";
    var head = el("tr");
    ["v.when", "v.agent", "v.rating", "v.why", "v.score", ""].forEach(function (k) { head.appendChild(el("th", null, k ? t(k) : "")); });
    table.appendChild(head);
    if (!items.length) { var none = el("tr"); var td = el("td", "hint", t("v.empty")); td.colSpan = 6; none.appendChild(td); table.appendChild(none); }
    items.forEach(function (i) {
      var tr = el("tr", i.conversation_id === current ? "open" : null);
      tr.setAttribute("data-conversation-id", i.conversation_id);
      tr.appendChild(el("td", null, day(i.created_at)));
      tr.appendChild(el("td", null, i.agent_id));
      tr.appendChild(el("td", null, i.rating == null ? "\u2014" : "\u2605".repeat(i.rating)));
      var why = el("td");
      i.reasons.forEach(function (r) { why.appendChild(el("span", "reason", t("v.reason_" + r))); });
      tr.appendChild(why);
      tr.appendChild(el("td", null, i.reviewed ? i.average.toFixed(2) : "\u2014"));
      var open = el("button", "ghost", t(i.reviewed ? "v.reopen" : "v.review")); open.type = "button";
      open.onclick = function () { openChat(i); };
      var cell = el("td"); cell.appendChild(open); tr.appendChild(cell);
      table.appendChild(tr);
    });
  }

  function openChat(item) {
    current = item.conversation_id;
    document.querySelectorAll("#queue tr").forEach(function (tr) { tr.classList.toggle("open", tr.getAttribute("data-conversation-id") === current); });
    $("chat-card").hidden = false; $("score-done").hidden = true; $("score-error").hidden = true;
    $("chat-title").textContent = t("v.chat_of", { agent: item.agent_id, when: day(item.created_at) });
    Promise.all([api("/api/conversations/" + encodeURIComponent(current)), api("/api/review/" + encodeURIComponent(current))])
      .then(function (got) { drawTranscript(got[0]); drawRubric(got[1]); }, function (err) { showError(err.message); });
  }

  function drawTranscript(view) {
    var list = $("transcript"); list.textContent = "";
    (view.events || []).forEach(function (e) {
      if (e.type !== "message_posted" && e.type !== "note_added") return;
      var li = el("li", e.type === "note_added" ? "note" : e.author);
      var who = e.type === "note_added" ? t("c.note_by", { name: e.author_name }) : e.author === "shopper" ? t("v.shopper") : e.author === "bot" ? t("c.bot") : e.author_name;
      li.appendChild(el("b", null, who));
      li.appendChild(el("span", null, e.text));
      list.appendChild(li);
    });
  }

  function drawRubric(body) {
    rubric = body.rubric;
    var box = $("rubric"); box.textContent = "";
    var f = $("score-form");
    f.comment.value = body.review ? body.review.comment : "";
    rubric.forEach(function (criterion) {
      var label = el("label", null, criterion); label.htmlFor = "score-" + criterion;
      var select = el("select"); select.id = "score-" + criterion; select.name = criterion;
      for (var n = 5; n >= 1; n--) { var o = el("option", null, String(n)); o.value = String(n); select.appendChild(o); }
      if (body.review && body.review.scores[criterion]) select.value = String(body.review.scores[criterion]);
      box.appendChild(label); box.appendChild(select);
    });
  }

  $("score-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = e.target, scores = {};
    rubric.forEach(function (c) { scores[c] = Number(f.elements[c].value); });
    api("/api/review/" + encodeURIComponent(current), { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ scores: scores, comment: f.comment.value }) })
      .then(function (body) {
        $("score-error").hidden = true; $("score-done").hidden = false;
        $("score-done").textContent = t("v.saved", { score: body.review.average.toFixed(2) });
        loadQueue();
      }, function (err) { $("score-error").hidden = false; $("score-error").textContent = err.message; });
  });

  function showMine() {
    $("queue-card").hidden = true; $("chat-card").hidden = true; $("week-label").hidden = true; $("mine-card").hidden = false;
    api("/api/review/mine").then(function (body) {
      var list = $("mine"); list.textContent = "";
      if (!body.reviews.length) list.appendChild(el("li", "hint", t("c.no_reviews")));
      body.reviews.forEach(function (r) {
        var li = el("li");
        li.appendChild(el("b", null, t("c.review_of", { day: day(r.created_at), score: r.average.toFixed(1), by: r.reviewer_name || r.reviewer_id })));
        li.appendChild(el("span", null, body.rubric.map(function (c) { return c + " " + r.scores[c] + "/5"; }).join(" \u00b7 ")));
        if (r.comment) li.appendChild(el("p", null, r.comment));
        list.appendChild(li);
      });
    }, function (err) { showError(err.message); });
  }

  C.strings("", lang).then(function (loaded) {
    lang = loaded.lang; texts.use(loaded.table); document.documentElement.lang = lang;
    C.translate(document, t);
    if (token) start(); else showLogin();
  });
})();
