/* The console's offline inbox and history: answer offline messages by e-mail, find past chats and
   read them (with their attachments, through ChatFiles when loaded). Plain JS over the HTTP API (/api/inbox, /api/history, /api/conversations/<id>); loads
   after console.js and shares only the session token it keeps in localStorage. Shopper text is
   only set with textContent. */
(function () {
  "use strict";
  var C = ChatCommon;
  var texts = C.texts(), t = texts.t, el = C.el;
  var lang = C.language(localStorage.getItem("console:lang") || navigator.language || "en");
  var $ = function (id) { return document.getElementById(id); };
  var O = { tab: "inbox", inbox: null, picked: null, results: [], view: null, status: null };

  function api(path, options) {
    options = options || {};
    options.headers = Object.assign({ Authorization: "Bearer " + localStorage.getItem("console:token") },
      options.headers || {});
    return fetch(path, options).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error || String(r.status));
        return body;
      });
    });
  }
  function when(ts) {
    try { return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(ts * 1000)); }
    catch (e) { return ""; }
  }
  function who(f) { return [f.name, f.email].filter(Boolean).join(" \u00b7 ") || t("c.shopper"); }

  // --- the panel --------------------------------------------------------------------------------
  function build() {
    var bar = document.querySelector(".topbar .spacer");
    var inboxButton = el("button", "ghost", null); inboxButton.type = "button"; inboxButton.id = "inbox-open";
    inboxButton.appendChild(el("span", null, t("c.inbox"))); inboxButton.appendChild(document.createTextNode(" "));
    inboxButton.appendChild(el("span", "count", "0")).id = "inbox-count";
    inboxButton.onclick = function () { open("inbox"); };
    var historyButton = el("button", "ghost", t("c.history")); historyButton.type = "button"; historyButton.id = "history-open";
    historyButton.onclick = function () { open("history"); };
    bar.parentNode.insertBefore(inboxButton, bar); bar.parentNode.insertBefore(historyButton, bar);

    var panel = el("section", "offline"); panel.id = "offline"; panel.hidden = true;
    panel.setAttribute("role", "dialog"); panel.setAttribute("aria-label", t("c.inbox_and_history"));
    var head = el("header", "offline-head");
    ["inbox", "history"].forEach(function (tab) {
      var b = el("button", "tab", t("c." + tab)); b.type = "button"; b.setAttribute("data-offline-tab", tab);
      b.onclick = function () { open(tab); }; head.appendChild(b);
    });
    head.appendChild(el("span", "spacer"));
    var close = el("button", "ghost", t("c.close_panel")); close.type = "button"; close.id = "offline-close";
    close.onclick = function () { panel.hidden = true; }; head.appendChild(close);
    panel.appendChild(head);
    var body = el("div", "offline-body"); body.id = "offline-body"; panel.appendChild(body);
    document.getElementById("app").appendChild(panel);

    // "Earlier conversations" in the details panel open read-only here.
    $("history").addEventListener("click", function (e) {
      var li = e.target.closest("[data-conversation-id]");
      if (li) { open("history"); show(li.getAttribute("data-conversation-id")); }
    });
  }

  function open(tab) {
    O.tab = tab; O.view = null; O.picked = null; O.status = null;
    $("offline").hidden = false;
    document.querySelectorAll("[data-offline-tab]").forEach(function (b) {
      b.setAttribute("aria-selected", String(b.getAttribute("data-offline-tab") === tab));
    });
    if (tab === "inbox") loadInbox(); else search();
    render();
  }

  function render() {
    var body = $("offline-body"); body.textContent = "";
    if (O.tab === "inbox") renderInbox(body); else renderHistory(body);
  }

  // --- inbox ------------------------------------------------------------------------------------
  function loadInbox() {
    return api("/api/inbox").then(function (inbox) {
      O.inbox = inbox; $("inbox-count").textContent = String(inbox.entries.length);
      if (!$("offline").hidden && O.tab === "inbox") render();
    }).catch(function () { /* the socket shows the connection state */ });
  }

  function renderInbox(body) {
    var inbox = O.inbox;
    if (!inbox) { body.appendChild(el("p", "muted", t("c.loading"))); return; }
    if (!inbox.email_on) body.appendChild(el("p", "notice", t("c.email_off")));
    var list = el("ol", "offline-list"); list.id = "inbox-list";
    if (!inbox.entries.length) body.appendChild(el("p", "empty", t("c.inbox_empty")));
    inbox.entries.forEach(function (f) {
      var li = el("li", "offline-item" + (O.picked === f.conversation_id ? " selected" : ""));
      var b = el("button", "pick"); b.type = "button";
      b.appendChild(el("b", null, who(f))); b.appendChild(el("span", "muted", when(f.created_at)));
      b.appendChild(el("span", "preview", f.preview));
      b.onclick = function () { O.picked = f.conversation_id; O.status = null; show(f.conversation_id); };
      li.appendChild(b); list.appendChild(li);
    });
    body.appendChild(list);
    if (O.status) body.appendChild(el("p", O.status.ok ? "sent" : "notice", O.status.text)).id = "reply-status";
    if (O.picked && O.view && O.view.found.conversation_id === O.picked) {
      body.appendChild(transcript(O.view));
      var form = el("form", "offline-reply"); form.id = "inbox-reply";
      var area = el("textarea"); area.rows = 4; area.maxLength = 5000; area.required = true;
      area.setAttribute("aria-label", t("c.reply_by_email", { email: O.view.found.email || "" }));
      area.placeholder = t("c.reply_by_email", { email: O.view.found.email || "" });
      var send = el("button", "primary", t("c.send_email")); send.type = "submit";
      form.appendChild(area); form.appendChild(send);
      form.onsubmit = function (e) { e.preventDefault(); reply(O.picked, area.value.trim(), send); };
      body.appendChild(form);
    }
    if (inbox.unsent.length) {
      body.appendChild(el("h3", null, t("c.not_sent_yet")));
      var unsent = el("ol", "offline-list"); unsent.id = "unsent";
      inbox.unsent.forEach(function (m) {
        var li = el("li", "unsent");
        li.appendChild(el("b", null, m.to));
        li.appendChild(el("span", null, m.body.slice(0, 120)));
        li.appendChild(el("span", "muted", m.attempts
          ? t("c.retry_at", { n: m.attempts, error: m.last_error, at: when(m.next_attempt) })
          : t("c.waiting_for_email")));
        unsent.appendChild(li);
      });
      body.appendChild(unsent);
    }
  }

  function reply(id, text, button) {
    if (!text) return;
    button.disabled = true;
    api("/api/inbox/" + encodeURIComponent(id) + "/reply", { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: text }) })
      .then(function (r) {
        O.status = r.sent ? { ok: true, text: t("c.email_sent") }
          : { ok: false, text: t("c.email_not_sent", { error: r.mail.last_error || t("c.email_off_short") }) };
      })
      .catch(function (e) { O.status = { ok: false, text: e.message }; })
      .then(function () { O.picked = null; O.view = null; return loadInbox(); })
      .then(render);
  }

  // --- history ----------------------------------------------------------------------------------
  function renderHistory(body) {
    var form = el("form", "search-form"); form.id = "search-form";
    var q = el("input"); q.type = "search"; q.id = "search-q"; q.maxLength = 500;
    q.placeholder = t("c.search_placeholder"); q.setAttribute("aria-label", t("c.search_placeholder"));
    q.value = O.query || "";
    var from = el("input"); from.type = "date"; from.id = "search-from"; from.value = O.from || ""; from.setAttribute("aria-label", t("c.from_day"));
    var to = el("input"); to.type = "date"; to.id = "search-to"; to.value = O.to || ""; to.setAttribute("aria-label", t("c.to_day"));
    var go = el("button", "primary", t("c.search")); go.type = "submit";
    [q, from, to, go].forEach(function (n) { form.appendChild(n); });
    form.onsubmit = function (e) { e.preventDefault(); O.query = q.value; O.from = from.value; O.to = to.value; O.view = null; search(); };
    body.appendChild(form);
    if (O.view) { body.appendChild(transcript(O.view)); return; }
    var list = el("ol", "offline-list"); list.id = "search-results";
    if (!O.results.length) body.appendChild(el("p", "empty", t("c.no_results")));
    O.results.forEach(function (f) {
      var li = el("li", "offline-item"); var b = el("button", "pick"); b.type = "button";
      b.appendChild(el("b", null, when(f.created_at) + " \u00b7 " + who(f)));
      var facts = [f.agent_name, f.tags.join(", "), f.rating ? "\u2605".repeat(f.rating) : ""].filter(Boolean).join(" \u00b7 ");
      if (facts) b.appendChild(el("span", "muted", facts));
      b.appendChild(el("span", "preview", f.preview));
      b.onclick = function () { show(f.conversation_id); };
      li.appendChild(b); list.appendChild(li);
    });
    body.appendChild(list);
  }

  function day(value, next) {
    if (!value) return "";
    var d = new Date(value + "T00:00:00"); if (next) d.setDate(d.getDate() + 1);
    return String(d.getTime() / 1000);
  }

  function search() {
    var params = new URLSearchParams({ q: O.query || "", since: day(O.from) || "0" });
    if (O.to) params.set("until", day(O.to, true));
    api("/api/history?" + params).then(function (r) { O.results = r.results; render(); })
      .catch(function (e) { O.results = []; render(); $("offline-body").prepend(el("p", "error", e.message)); });
  }

  function show(id) {
    api("/api/conversations/" + encodeURIComponent(id)).then(function (view) { O.view = view; render(); })
      .catch(function (e) { $("offline-body").prepend(el("p", "error", e.message)); });
  }

  // A conversation, read-only: its facts, messages and staff notes in time order.
  function transcript(view) {
    var f = view.found, box = el("article", "past"); box.id = "past-view";
    var head = el("header", "past-head");
    head.appendChild(el("h3", null, who(f)));
    var facts = [when(f.created_at), f.agent_name, f.status].filter(Boolean).join(" \u00b7 ");
    head.appendChild(el("p", "muted", facts));
    if (f.tags.length) head.appendChild(el("p", "tags", t("c.tags") + ": " + f.tags.join(", ")));
    if (f.rating) head.appendChild(el("p", "stars", "\u2605".repeat(f.rating) + (view.rating_comment ? " \u201c" + view.rating_comment + "\u201d" : "")));
    if (O.tab === "history") {
      var back = el("button", "ghost", t("c.back_to_results")); back.type = "button";
      back.onclick = function () { O.view = null; render(); }; head.appendChild(back);
    }
    box.appendChild(head);
    var log = el("ol", "messages past-log");
    view.events.concat(view.notes).sort(function (a, b) { return a.ts - b.ts; }).forEach(function (e) {
      var li = null;
      if (e.type === "message_posted") {
        li = el("li", "msg " + e.author);
        li.appendChild(el("span", "who", e.author === "shopper" ? t("c.shopper") : (e.author_name || e.author)));
        li.appendChild(el("span", "text", e.text));
      } else if (e.type === "file_attached") {
        li = el("li", "msg file " + e.author);
        li.appendChild(el("span", "who", e.author === "shopper" ? t("c.shopper") : e.author_name));
        li.appendChild(window.ChatFiles ? ChatFiles.view(location.origin, localStorage.getItem("console:token"), e)
          : el("span", "text", e.name));
      } else if (e.type === "note_added") {
        li = el("li", "msg note"); li.appendChild(el("span", "who", t("c.private_note"))); li.appendChild(el("span", "text", e.text));
      } else if (e.type === "email_left") {
        li = el("li", "sys", t("c.left_email", { email: e.email }));
      } else if (e.type === "conversation_closed") {
        li = el("li", "sys", t("c.closed_at", { at: when(e.ts) }));
      }
      if (li) log.appendChild(li);
    });
    box.appendChild(log);
    return box;
  }

  C.strings("", lang).then(function (loaded) {
    lang = loaded.lang; texts.use(loaded.table, lang);
    build();
    if (localStorage.getItem("console:token")) loadInbox();
    setInterval(function () { if (localStorage.getItem("console:token") && !document.hidden) loadInbox(); }, 30000);
  });
})();
