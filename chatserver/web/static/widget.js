/* chatserver shopper widget: one tag, <script src="https://HOST/widget.js" data-shop="ID" async>.
   Plain JS in a Shadow DOM. Every string comes from HOST/locales/<lang>.json; shopper and agent
   text is only ever set with textContent, never parsed as HTML. Optional script attributes:
   data-shop-name, data-locale, data-color; the shop's logged-in customer, signed by the shop:
   data-customer-id, -name, -email, -locale, -expires, -hash (or ChatWidget.identify({...})).
   The server serves it after chat-common.js (ChatCommon): /widget.js is the two in one function. */
(function () {
  "use strict";
  var C = ChatCommon;
  var script = document.currentScript || document.querySelector("script[data-shop][src*='widget.js']");
  if (!script || window.ChatWidget) return; // one widget per page, its one global below
  window.ChatWidget = {};
  var base = new URL(script.src, location.href).origin;
  var shop = script.getAttribute("data-shop") || "default";
  var shopName = script.getAttribute("data-shop-name") || "";
  var color = script.getAttribute("data-color") || "#0f766e";
  var KEY = "chatwidget:" + shop;
  var MAX_EVENTS = 300;
  // The language: the shopper's own pick (remembered), else the tag's, the page's, the browser's.
  var LANG_KEY = "chatwidget:lang";
  var wanted = [script.getAttribute("data-locale"), document.documentElement.lang]
    .concat(navigator.languages || [navigator.language]).filter(Boolean);
  var lang = C.language([remembered()].concat(wanted)), locale = localeOf(lang);
  function remembered() { try { return localStorage.getItem(LANG_KEY); } catch (e) { return null; } }
  // The tag sent and used by Intl: the page's or browser's own for this table, with its region
  // when one says it ("de-AT" for "de"), else the table's name.
  function localeOf(table) {
    var same = wanted.filter(function (tag) { return C.table(tag) === table; });
    return same.filter(function (tag) { return /[-_]/.test(tag); })[0] || same[0] || table;
  }
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* old browser */ }

  var texts = C.texts(), t = texts.t, el = C.el;
  var st = load(); // what survives reloads: token, conversation, events, unsent messages, unread
  var welcomed = false, online = true;
  var avail = null, queue = null, agentTyping = false, agentTypingTimer = null, readSeq = 0;
  var markedSeq = 0, target = 60, skew = 0, typingRole = "";
  var customer = customerOf(function (name) { return script.getAttribute("data-customer-" + name); });

  // --- the shop's logged-in customer: sent in hello; refused (bad or old signature): a guest ----
  function customerOf(get) {
    var id = get("id"), expires = Number(get("expires"));
    if (!id) return null; // a missing signature or expiry is the server's to refuse, and to say so
    return { id: cut(id, 128), name: cut(get("name"), 100), email: cut(get("email"), 254),
             locale: cut(get("locale"), 35), expires: isFinite(expires) && expires > 0 ? Math.floor(expires) : 0,
             hash: cut(get("hash"), 128) };
  }
  /* The shop's page logs its customer in (or out, with null) without reloading. */
  window.ChatWidget.identify = function (c) {
    var was = customer;
    customer = c ? customerOf(function (name) { return c[name] == null ? "" : String(c[name]); }) : null;
    if (was ? customer && customer.id === was.id && customer.hash === was.hash : !customer) return;
    if (was && (!customer || customer.id !== was.id)) { // logged out: their chat leaves this browser
      st.cid = null; st.events = []; st.prev = []; st.pending = []; st.unread = 0; save(); render();
    }
    if (welcomed) link.drop(); else if (needed()) wake();
  };
  var open = false, ui = {};

  function load() {
    try {
      var s = JSON.parse(localStorage.getItem(KEY) || "null");
      if (s && typeof s === "object") return s;
    } catch (e) { /* private mode or bad JSON: start clean */ }
    return { token: null, cid: null, events: [], prev: [], pending: [], unread: 0, open: false, skipped: null };
  }
  var KEEP = { message_posted: 1, file_attached: 1, conversation_closed: 1, rating_given: 1, effort_given: 1, email_left: 1 };
  function retire() { // the conversation ends here: keep what it said, readable above the next one
    var kept = st.events.filter(function (e) { return KEEP[e.type]; });
    if (kept.length) st.prev = kept.slice(-MAX_EVENTS / 2);
    st.events = [];
  }
  function save() {
    st.events = st.events.slice(-MAX_EVENTS);
    st.prev = st.prev || [];
    try { localStorage.setItem(KEY, JSON.stringify(st)); } catch (e) { /* storage full or blocked */ }
  }
  function lastSeq() {
    var n = 0;
    st.events.forEach(function (e) { if (e.seq > n) n = e.seq; });
    return n;
  }
  function duration(sec) {
    if (sec == null) return "";
    sec = Math.max(0, Math.round(sec));
    return C.duration(locale, sec < 60 ? Math.max(5, Math.ceil(sec / 5) * 5) : sec);
  }
  function clock(ts) { return C.clock(locale, ts); }
  function stamp(ts) { // "14:05", the full date on hover
    var at = el("time", "at", clock(ts));
    at.title = C.longDate(locale, ts);
    at.dateTime = new Date(ts * 1000).toISOString();
    return at;
  }
  function cut(s, n) { return String(s == null ? "" : s).trim().slice(0, n); }

  // --- the page's product context: schema.org JSON-LD, microdata, or data-product-* attributes ---
  function findProduct(node) {
    if (!node || typeof node !== "object") return null;
    if (Array.isArray(node)) { for (var i = 0; i < node.length; i++) { var f = findProduct(node[i]); if (f) return f; } return null; }
    var type = [].concat(node["@type"] || []);
    if (type.indexOf("Product") >= 0) return node;
    return findProduct(node["@graph"]);
  }
  function context() {
    var c = { url: cut(location.href, 1000), title: cut(document.title, 300) };
    var p = null;
    document.querySelectorAll('script[type="application/ld+json"]').forEach(function (el) {
      if (p) return;
      try { p = findProduct(JSON.parse(el.textContent)); } catch (e) { /* not our business */ }
    });
    if (p) {
      var offer = [].concat(p.offers || [])[0] || {};
      c.product_id = cut(p.sku || p.productID || p.mpn || "", 300);
      c.product_name = cut(p.name, 300);
      c.product_price = cut(offer.price != null ? offer.price : (offer.lowPrice || ""), 300);
      c.currency = cut(offer.priceCurrency, 8);
    } else {
      var md = document.querySelector('[itemtype$="schema.org/Product"]');
      var prop = function (name) {
        var el = md && md.querySelector('[itemprop="' + name + '"]');
        return el ? el.getAttribute("content") || el.textContent : "";
      };
      var dp = document.querySelector("[data-product-id],[data-product-name]");
      var data = function (name) { return dp ? dp.getAttribute("data-product-" + name) || "" : ""; };
      c.product_id = cut(prop("sku") || data("id"), 300);
      c.product_name = cut(prop("name") || data("name"), 300);
      c.product_price = cut(prop("price") || data("price"), 300);
      c.currency = cut(prop("priceCurrency") || data("currency"), 8);
    }
    return c;
  }

  // --- the socket: hello, resume, backoff ------------------------------------------------------
  // It opens only when needed, so most page views cost one cached file: when the shopper opens
  // the chat, when a conversation is to follow (live: set as one starts, cleared as it ends or
  // after a day), when messages wait to be sent, or when the token is not one the widget was
  // handed as a new visitor, or the shop's page names its logged-in customer: notices may wait.
  var DAY_MS = 86400000, linked = false, fresh = false, retryTimer = null;
  function needed() {
    return !!(st.open || (st.pending && st.pending.length) || (st.live && Date.now() - st.live < DAY_MS) ||
              (st.token && !st.anon) || customer);
  }
  function wake() { if (!linked) { linked = true; link.connect(); } }
  function following(conv) { st.live = conv && conv.status && conv.status !== "closed" ? Date.now() : 0; }
  var link = C.link(base.replace(/^http/, "ws") + "/ws/shopper", {
    open: function () {
      // Positions per conversation: a newer one (begun in another tab) comes from its start.
      var seqs = {};
      if (st.cid) seqs[st.cid] = lastSeq();
      fresh = !st.token;
      var hello = { type: "hello", version: 3, token: st.token || null, last_seqs: seqs,
                    locale: cut(locale, 35), timezone: cut(zone, 64), context: context() };
      if (customer) hello.customer = customer;
      send(hello);
    },
    frame: function (f) { onFrame(f); },
    down: function () { welcomed = false; setOnline(false); }
  });
  function send(f) { return link.send(f); }
  function setOnline(v) { online = v; render(); }

  function onFrame(f) {
    switch (f.type) {
      case "welcome":
        welcomed = true; link.resetBackoff(); target = f.response_target_s || 60;
        skew = f.server_time ? f.server_time - Date.now() / 1000 : 0;
        st.token = f.token || st.token;
        if (fresh) st.anon = true;
        var conv = (f.conversations || [])[0];
        following(conv);
        if (!conv || conv.conversation_id !== st.cid) {
          st.cid = conv ? conv.conversation_id : null; retire(); // it comes from its start
        }
        save(); setOnline(true);
        st.pending.forEach(function (m) { send({ type: "send_message", client_id: m.client_id, text: m.text }); });
        return;
      case "availability": avail = f; break;
      case "queue_position": queue = f; break;
      case "ack":
        st.pending = st.pending.filter(function (m) { return m.client_id !== f.client_id; });
        save(); break;
      case "typing_notice":
        if (f.role !== "shopper") {
          agentTyping = f.is_typing; typingRole = f.role;
          clearTimeout(agentTypingTimer);
          if (agentTyping) agentTypingTimer = setTimeout(function () { agentTyping = false; render(); }, 8000);
        }
        break;
      case "read_receipt": if (f.role === "agent" && f.seq > readSeq) readSeq = f.seq; break;
      case "error":
        if (f.code === "unauthorized" && st.token) { st.token = null; st.anon = false; st.cid = null; st.events = []; save(); }
        if (f.code === "identity_refused") { customer = null; if (window.console) console.warn("chat: " + f.message); }
        if (f.code === "overloaded") { resendLater(f.retry_after_ms); break; }
        if (f.frame_type === "send_message" || f.frame_type === "rate" || f.frame_type === "leave_email" || f.frame_type === "accept_resolution") notice(f.message);
        break;
      default:
        if (typeof f.seq === "number" && f.conversation_id) stored(f);
        return;
    }
    render();
  }
  function stored(e) {
    if (e.conversation_id !== st.cid) {
      if (e.type !== "conversation_started") return;
      st.cid = e.conversation_id; retire(); queue = null; readSeq = 0; markedSeq = 0;
    }
    if (st.events.some(function (x) { return x.seq === e.seq; })) return;
    st.events.push(e);
    following(state());
    if (e.type === "message_posted" && e.author !== "shopper") agentTyping = false;
    if ((e.type === "message_posted" && e.author !== "shopper") || e.type === "notice_posted") {
      if (!open || document.hidden) st.unread = (st.unread || 0) + 1;
    }
    if (e.type === "message_posted" && e.client_id) {
      st.pending = st.pending.filter(function (m) { return m.client_id !== e.client_id; });
    }
    save(); render(); markRead();
  }
  // The server is too busy for a shopper message now: the same ones again after its hint (the
  // client_id makes a repeat harmless), with jitter so refused shoppers do not come back at once.
  function resendLater(ms) {
    if (retryTimer) return;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      if (welcomed) st.pending.forEach(function (m) { send({ type: "send_message", client_id: m.client_id, text: m.text }); });
    }, (ms || 1000) * (1 + Math.random() * 0.5));
  }
  function markRead() {
    var s = lastSeq();
    if (open && !document.hidden && s > markedSeq && welcomed && st.cid) {
      if (send({ type: "mark_read", seq: s })) markedSeq = s;
    }
  }

  // --- what the shopper does --------------------------------------------------------------------
  function sendText(text) {
    text = text.trim();
    if (!text) return;
    var m = { client_id: C.clientId("w"), text: text.slice(0, 2000) };
    st.pending.push(m); save();
    if (welcomed) send({ type: "send_message", client_id: m.client_id, text: m.text });
    typing(false);
    render();
  }
  var typing = C.typist(function (on) {
    if (on && !(st.cid && welcomed)) return false;
    if (welcomed) send({ type: "typing", is_typing: on });
    return true;
  });
  function notice(text) { ui.notice.textContent = text; ui.notice.hidden = false; setTimeout(function () { ui.notice.hidden = true; }, 6000); }
  function setOpen(v) {
    open = v; st.open = v;
    if (v) { st.unread = 0; wake(); }
    save(); render();
    if (v) { ui.input.focus(); markRead(); } else { ui.bubble.focus(); }
  }

  // --- the view ---------------------------------------------------------------------------------
  function state() {
    var s = { status: null, closed: null, rated: false, effort: false, agent: "", email: false, bot: false, answers: {} };
    st.events.forEach(function (e) {
      if (e.type === "conversation_started") s.status = e.status;
      if (e.type === "conversation_queued" || e.type === "conversation_requeued") s.status = "queued";
      if (e.type === "conversation_assigned" || e.type === "conversation_transferred") { s.status = "assigned"; s.agent = e.agent_name; }
      if (e.type === "conversation_closed") { s.status = "closed"; s.closed = e; s.rated = false; s.effort = false; }
      if (e.type === "rating_given") s.rated = true;
      if (e.type === "effort_given") s.effort = true;
      if (e.type === "email_left") s.email = e.email;
      if (e.type === "bot_feedback_given") s.answers[e.answer_seq] = true;
      if (e.type === "resolutions_offered") s.offer = e;
      if (e.type === "resolution_accepted") s.accepted = e;
    });
    return s;
  }
  function headline(s) {
    if (!online) return t("w.reconnecting");
    if (s.status === "assigned") return t("w.with_agent", { name: s.agent });
    if (s.status === "queued") {
      if (queue && !queue.agents_online) return nobody(queue.back_at);
      if (queue && queue.estimated_wait_s != null) return t("w.queue_position_wait", { n: queue.position, wait: duration(queue.estimated_wait_s) });
      if (queue) return t("w.queue_position", { n: queue.position });
      return t("w.queued");
    }
    if (s.status === "bot") return t("w.bot_answers");
    if (s.status === "closed") return t("w.chat_ended");
    if (!avail) return t("w.connecting");
    if (avail.mode === "live") return target <= 60 ? t("w.reply_under_minute") : t("w.reply_within", { wait: duration(target) });
    if (avail.mode === "busy") return t("w.busy_wait", { wait: duration(avail.estimated_wait_s) });
    if (avail.mode === "bot") return t("w.bot_answers");
    return nobody(avail.back_at);
  }
  function nobody(back) { return back ? t("w.nobody_online_back", { when: back }) : t("w.nobody_online"); }
  function render() {
    if (!ui.root) return;
    var s = state();
    ui.bubble.setAttribute("aria-expanded", String(open));
    ui.panel.hidden = !open;
    ui.bubble.hidden = open && window.innerWidth <= 480;
    ui.badge.hidden = open || !st.unread;
    ui.badge.textContent = st.unread > 9 ? "9+" : String(st.unread || "");
    ui.bubble.setAttribute("aria-label", st.unread ? t("w.open_chat_unread", { n: st.unread }) : t("w.open_chat"));
    ui.sub.textContent = headline(s);
    ui.dot.className = "dot " + (!online ? "off" : s.status === "assigned" || (!s.status && avail && avail.mode === "live") ? "on" : "idle");
    ui.banner.hidden = online;
    ui.end.hidden = !s.status || s.status === "closed";

    var log = ui.log;
    log.textContent = "";
    log.appendChild(line("them", (avail && avail.greeting) || t("w.greeting"), shopName || t("w.team"), null));
    if (st.prev && st.prev.length) {
      st.prev.forEach(function (e) {
        if (e.type === "message_posted") log.appendChild(line("old " + who(e), e.text, e.author === "shopper" ? null : name(e), e.ts));
        else if (e.type === "file_attached") { var f = fileLine(e); f.classList.add("old"); log.appendChild(f); }
      });
      var divider = log.appendChild(el("li", "sys divider", t("w.earlier_above")));
      var last = st.prev[st.prev.length - 1].ts;
      if (last) { // " · 2 days ago", by Intl.RelativeTimeFormat against the server's clock
        divider.appendChild(document.createTextNode(" \u00b7 "));
        divider.appendChild(stamp(last)).textContent = C.relative(locale, last, Date.now() / 1000 + skew);
      }
    }
    var lastBot = null, lastMine = 0, chosen = ChatNotices.answers(st.events);
    st.events.forEach(function (e) { if (e.type === "message_posted" && e.author === "shopper") lastMine = e.seq; });
    st.events.forEach(function (e) {
      if (e.type === "message_posted") {
        var li = line(who(e), e.text, e.author === "shopper" ? null : name(e), e.ts);
        if (e.seq === lastMine) li.appendChild(el("span", "tick", e.seq <= readSeq ? t("w.read") : t("w.delivered")));
        log.appendChild(li);
        if (e.author === "bot") lastBot = { e: e, li: li };
      } else if (e.type === "conversation_assigned") log.appendChild(el("li", "sys", t("w.agent_joined", { name: e.agent_name })));
      else if (e.type === "conversation_transferred") log.appendChild(el("li", "sys", t("w.transferred", { name: e.agent_name })));
      else if (e.type === "conversation_requeued") log.appendChild(el("li", "sys", t("w.requeued")));
      else if (e.type === "conversation_queued" && e.reason === "handoff") log.appendChild(el("li", "sys", t("w.handoff")));
      else if (e.type === "conversation_closed") log.appendChild(el("li", "sys", t(e.by === "shopper" ? "w.you_ended" : "w.agent_ended")));
      else if (e.type === "rating_given") log.appendChild(el("li", "sys", t("w.rating_thanks")));
      else if (e.type === "effort_given") log.appendChild(el("li", "sys", t("w.effort_thanks")));
      else if (e.type === "email_left") log.appendChild(el("li", "sys", t("w.email_saved", { email: e.email })));
      else if (e.type === "bot_feedback_given" && e.helpful) log.appendChild(el("li", "sys", t("w.glad")));
      else if (e.type === "file_attached") log.appendChild(fileLine(e));
      else if (e.type === "resolutions_offered") log.appendChild(offerCard(e, s));
      else if (e.type === "resolution_accepted") log.appendChild(el("li", "sys", t("w.resolution_accepted", { what: resName(e.resolution), amount: money(e.amount, e.currency) })));
      else if (e.type === "notice_posted") log.appendChild(ChatNotices.card(e, chosen[e.notice_id], t, choose));
    });
    if (lastBot && lastBot.e.faq_id && (s.status === "bot" || s.status === "queued") && !s.answers[lastBot.e.seq]) {
      var row = el("div", "actions");
      var yes = el("button", "chip", t("w.answered"));
      yes.onclick = function () { send({ type: "bot_feedback", seq: lastBot.e.seq, helpful: true }); };
      row.appendChild(yes);
      if (s.status === "bot") { // while queued the shopper already waits for a person
        var human = el("button", "chip", t("w.talk_to_person"));
        human.onclick = function () { send({ type: "request_human" }); };
        row.appendChild(human);
      }
      lastBot.li.appendChild(row);
    }
    var ids = {};
    st.events.forEach(function (e) { if (e.client_id) ids[e.client_id] = 1; });
    st.pending.forEach(function (m) {
      if (ids[m.client_id]) return;
      var li = line("me pending", m.text, null, null);
      li.appendChild(el("span", "tick", online ? t("w.sending") : t("w.will_send")));
      log.appendChild(li);
    });
    uploads.forEach(function (u) { log.appendChild(line("me pending", t("w.uploading", { name: u.name }), null, null)); });
    // Attachments go with the guest's token: a logged-in customer's chat is not the guest's.
    ui.attach.hidden = !(st.cid && st.token && s.status && s.status !== "closed") || !!customer;
    var botTyping = agentTyping && typingRole === "bot";
    ui.typing.hidden = !(agentTyping && (s.status === "assigned" || botTyping));
    ui.typing.textContent = botTyping ? t("w.bot_typing") : t("w.agent_typing", { name: s.agent || t("w.team") });

    // Nobody online (the live queue notice wins over the availability seen at connect): offer e-mail.
    var nobodyNow = s.status === "queued" && queue ? !queue.agents_online
      : avail && (avail.mode === "offline" || (avail.mode === "bot" && !avail.agents_online));
    ui.email.hidden = !(!s.email && s.status !== "assigned" && s.status !== "closed" && nobodyNow);
    if (avail && avail.away) ui.email.querySelector("p").textContent = avail.away;
    // Rating is an offer, never a gate: the message box stays, and writing again skips it.
    ui.rate.hidden = !(s.closed && !s.rated && st.skipped !== st.cid);
    // The effort question (CES) follows the rating, when the shop asks it; skippable like it.
    ui.effort.hidden = !(askEffort && s.closed && s.rated && !s.effort && st.skippedEffort !== st.cid);
    ui.compose.hidden = false;
    if (open) requestAnimationFrame(function () { log.scrollTop = log.scrollHeight; });
  }
  // An agent's offer of resolutions: one button each; the latest offer can be taken once.
  function offerCard(e, s) {
    var li = el("li", "msg them offer");
    li.appendChild(el("span", "who", t("w.team")));
    li.appendChild(el("p", "text", t("w.offer_intro")));
    var row = el("div", "actions"), live = s.offer === e && !s.accepted && s.status !== "closed";
    e.options.forEach(function (o) {
      var label = resName(o.kind) + (o.amount ? " \u00b7 " + money(o.amount, e.currency) : "");
      var b = el("button", "chip", label);
      b.type = "button"; b.disabled = !live;
      b.setAttribute("data-resolution", o.kind);
      b.onclick = function () { send({ type: "accept_resolution", offer_seq: e.seq, kind: o.kind }); };
      row.appendChild(b);
    });
    li.appendChild(row);
    return li;
  }
  function resName(kind) {
    return t({ explain: "w.res_explain", coupon: "w.res_coupon", partial_refund: "w.res_partial_refund",
      resend: "w.res_resend", full_refund: "w.res_full_refund" }[kind] || kind);
  }
  function money(amount, currency) {
    try { return new Intl.NumberFormat(locale, { style: "currency", currency: currency }).format(amount); }
    catch (err) { return amount.toFixed(2) + " " + currency; }
  }
  function choose(noticeId, choice) { send({ type: "choose_option", notice_id: noticeId, choice: choice }); }
  function who(e) { return e.author === "shopper" ? "me" : e.author === "bot" ? "them bot" : e.author === "system" ? "sys" : "them"; }
  function name(e) { return e.author === "bot" ? t("w.assistant") : e.author_name; }
  // --- attachments (chat-files.js) ----------------------------------------------------------------
  var uploads = [];
  function fileLine(e) {
    var mine = e.author === "shopper";
    var li = el("li", "msg file " + (mine ? "me" : "them"));
    if (!mine) li.appendChild(el("span", "who", e.author_name || t("w.team")));
    li.appendChild(ChatFiles.view(base, st.token, e));
    li.appendChild(stamp(e.ts));
    return li;
  }
  function attachFile(file) {
    if (!st.cid || !st.token) return;
    var u = { name: file.name };
    uploads.push(u); render();
    ChatFiles.upload(base, st.token, st.cid, file).then(stored, function (err) {
      notice(t("w.attach_failed", { name: file.name, reason: err.message }));
    }).then(function () { uploads.splice(uploads.indexOf(u), 1); render(); });
  }

  function line(cls, text, name, ts) {
    var li = el("li", "msg " + cls);
    if (name) li.appendChild(el("span", "who", name));
    li.appendChild(el("p", "text", text));
    if (ts) li.appendChild(stamp(ts));
    return li;
  }

  var askEffort = true; // the shop's setting (GET /api/shop, ask_effort)
  // The shop's name, colour and logo as set on /admin; the tag's own attributes win.
  function brand(wrap, q) {
    fetch(base + "/api/shop").then(function (r) { return r.ok ? r.json() : null; }).then(function (s) {
      if (!s) return;
      if (!script.getAttribute("data-color") && /^#[0-9a-fA-F]{6}$/.test(s.color || "")) {
        wrap.style.setProperty("--accent", s.color);
      }
      if (!shopName && s.name) { shopName = s.name; q(".name").textContent = s.name; }
      if (s.ask_effort === false) { askEffort = false; render(); }
      if (/^https?:\/\//.test(s.logo_url || "")) {
        var img = el("img");
        img.src = s.logo_url; img.alt = ""; img.className = "logo";
        var avatar = q(".avatar");
        avatar.textContent = ""; avatar.appendChild(img);
      }
    }).catch(function () { /* the tag's own look stays */ });
  }

  function build() {
    var host = document.createElement("div");
    host.setAttribute("data-chat-widget", shop);
    var root = host.attachShadow({ mode: "open" });
    var style = el("style", null, (CSS + ChatNotices.css).replace(/--accent:[^;]*;/, "--accent:" + color.replace(/[^#\w(),.% ]/g, "") + ";"));
    root.appendChild(style);
    var wrap = el("div", "wrap");
    wrap.innerHTML = HTML; // our own fixed markup; every dynamic string below uses textContent
    root.appendChild(wrap);
    var q = function (s) { return wrap.querySelector(s); };
    ui = { root: root, bubble: q(".bubble"), badge: q(".badge"), panel: q(".panel"), sub: q(".sub"),
           dot: q(".dot"), banner: q(".banner"), log: q(".log"), typing: q(".typing"), notice: q(".notice"),
           email: q(".email"), rate: q(".rate"), compose: q(".compose"), input: q(".compose textarea"), end: q(".end"),
           attach: q(".attach"), effort: q(".effort") };
    ui.attach.onclick = ChatFiles.picker(ui.compose, attachFile).pick;
    ui.lang = C.languageMenu(lang, t("w.language"), function (tag) {
      try { localStorage.setItem(LANG_KEY, tag); } catch (e) { /* not remembered, still used */ }
      speak(tag);
    });
    var tools = el("div", "tools"); // the language above "End chat": the headline keeps its room
    q("header").insertBefore(tools, ui.end);
    tools.appendChild(ui.lang); tools.appendChild(ui.end);
    ui.wrap = wrap;
    brand(wrap, q);
    ui.bubble.onclick = function () { setOpen(!open); };
    q(".min").onclick = function () { setOpen(false); };
    ui.end.onclick = function () { send({ type: "end_conversation" }); };
    ui.panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });
    ui.input.addEventListener("keydown", function (e) { C.enterSubmits(e, ui.compose); });
    ui.input.addEventListener("input", function () {
      typing(!!ui.input.value.trim());
      ui.input.style.height = "auto";
      ui.input.style.height = Math.min(120, ui.input.scrollHeight) + "px";
    });
    ui.compose.onsubmit = function (e) { e.preventDefault(); sendText(ui.input.value); ui.input.value = ""; ui.input.style.height = ""; };
    ui.email.onsubmit = function (e) {
      e.preventDefault();
      send({ type: "leave_email", email: cut(q(".email [name=email]").value, 254), name: cut(q(".email [name=name]").value, 100) });
    };
    var stars = q(".stars");
    for (var i = 1; i <= 5; i++) {
      var lab = el("label", "star");
      var r = el("input"); r.type = "radio"; r.name = "score"; r.value = String(i);
      lab.appendChild(r); lab.appendChild(el("span", null, "\u2605"));
      stars.appendChild(lab);
    }
    stars.addEventListener("change", function () {
      var v = +((q(".stars input:checked") || {}).value || 0);
      stars.querySelectorAll(".star").forEach(function (s, k) { s.classList.toggle("lit", k < v); });
    });
    q(".skip").onclick = function () { st.skipped = st.cid; save(); render(); ui.input.focus(); };
    ui.rate.onsubmit = function (e) {
      e.preventDefault();
      var v = +((q(".stars input:checked") || {}).value || 0);
      if (!v) return notice(t("w.pick_stars"));
      send({ type: "rate", score: v, comment: cut(q(".rate textarea").value, 1000) });
    };
    var scale = q(".scale");
    for (var n = 1; n <= 7; n++) {
      var b = el("button", "point", String(n)); b.type = "button";
      b.setAttribute("aria-label", t("w.effort_point", { n: n }));
      b.onclick = (function (score) { return function () { send({ type: "rate_effort", score: score }); }; })(n);
      scale.appendChild(b);
    }
    q(".effort .skip").onclick = function () { st.skippedEffort = st.cid; save(); render(); ui.input.focus(); };
    document.addEventListener("visibilitychange", markRead);
    window.addEventListener("resize", render);
    window.addEventListener("storage", function (e) {
      if (e.key === KEY) { st = load(); render(); if (needed()) wake(); }
      if (e.key === LANG_KEY && e.newValue && C.language(e.newValue) !== lang) speak(e.newValue); // another tab
    });
    translated();
    document.body.appendChild(host);
  }
  // Every fixed string of the panel, in the current language (again after a switch).
  function translated() {
    var wrap = ui.wrap;
    C.translate(wrap, t);
    wrap.querySelector(".name").textContent = shopName || t("w.team");
    ui.panel.setAttribute("aria-label", t("w.panel_label"));
    ui.panel.lang = locale;
    ui.lang.setAttribute("aria-label", t("w.language"));
    ui.lang.value = lang;
    wrap.querySelectorAll(".stars input").forEach(function (r) { r.setAttribute("aria-label", t("w.stars", { n: +r.value })); });
  }
  // Switch language at once: the panel re-renders, and the server speaks it from now on.
  function speak(tag) {
    C.strings(base, tag).then(function (loaded) {
      lang = loaded.lang; locale = localeOf(lang);
      texts.use(loaded.table, locale);
      translated(); render();
      if (welcomed) send({ type: "set_locale", locale: cut(locale, 35) });
    });
  }

  var HTML =
    '<button class="bubble" type="button" aria-expanded="false"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg><span class="badge" hidden></span></button>' +
    '<section class="panel" role="dialog" hidden>' +
    '<header><div class="avatar" aria-hidden="true"><svg viewBox="0 0 24 24"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg></div>' +
    '<div class="head"><div class="name"></div><div class="subline"><span class="dot"></span><span class="sub" aria-live="polite"></span></div></div>' +
    '<button class="end" type="button" data-t="w.end_chat" hidden></button>' +
    '<button class="min" type="button" data-label="w.minimise">\u2013</button></header>' +
    '<div class="banner" role="status" data-t="w.reconnecting_banner" hidden></div>' +
    '<ol class="log" aria-live="polite"></ol><div class="typing" hidden></div><div class="notice" role="alert" hidden></div>' +
    '<form class="email card" hidden><p data-t="w.offline_form_intro"></p>' +
    '<input name="name" autocomplete="name" data-ph="w.your_name" data-label="w.your_name" maxlength="100">' +
    '<input name="email" type="email" required autocomplete="email" data-ph="w.your_email" data-label="w.your_email" maxlength="254">' +
    '<button type="submit" class="primary" data-t="w.notify_me"></button></form>' +
    '<form class="rate card" hidden><p data-t="w.rate_question"></p><div class="stars" role="radiogroup"></div>' +
    '<textarea rows="2" maxlength="1000" data-ph="w.rate_comment" data-label="w.rate_comment"></textarea>' +
    '<div class="row"><button type="button" class="skip" data-t="w.rate_skip"></button><button type="submit" class="primary" data-t="w.rate_send"></button></div></form>' +
    '<div class="effort card" hidden><p data-t="w.effort_question"></p><div class="scale" role="group" data-label="w.effort_question"></div>' +
    '<div class="ends" aria-hidden="true"><span data-t="w.effort_hard"></span><span data-t="w.effort_easy"></span></div>' +
    '<div class="row"><button type="button" class="skip" data-t="w.rate_skip"></button></div></div>' +
    '<form class="compose"><button type="button" class="attach" data-label="w.attach" hidden><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7"/></svg></button><textarea rows="1" maxlength="2000" data-ph="w.placeholder" data-label="w.placeholder"></textarea>' +
    '<button type="submit" class="send" data-label="w.send"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3 20l18-8L3 4v6l12 2-12 2z"/></svg></button></form>' +
    '<footer data-t="w.footer"></footer></section>';

  var CSS =
    ":host{all:initial}" +
    ".wrap{--accent:#0f766e;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2933}" +
    "*{box-sizing:border-box}button,input,textarea{font:inherit;color:inherit}" +
    ".bubble{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;background:var(--accent);color:#fff;cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.25);display:grid;place-items:center}" +
    ".bubble svg{width:28px;height:28px;fill:#fff}.bubble:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}" +
    ".badge{position:absolute;top:-2px;right:-2px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#dc2626;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center;border:2px solid #fff}" +
    ".panel{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:370px;height:min(600px,calc(100vh - 120px));background:#fff;border-radius:16px;box-shadow:0 12px 40px rgba(0,0,0,.22);display:flex;flex-direction:column;overflow:hidden}" +
    ".panel[hidden],[hidden]{display:none!important}" +
    "header{display:flex;align-items:center;gap:10px;padding:14px 14px;background:var(--accent);color:#fff}" +
    ".avatar{width:38px;height:38px;border-radius:50%;background:rgba(255,255,255,.2);display:grid;place-items:center;flex:none}.avatar svg{width:20px;fill:#fff}.avatar .logo{width:38px;height:38px;border-radius:50%;object-fit:cover;background:#fff}" +
    ".head{flex:1;min-width:0}.name{font-weight:700;font-size:15px}.subline{display:flex;align-items:center;gap:6px;font-size:12.5px;opacity:.95}" +
    ".dot{width:8px;height:8px;border-radius:50%;background:#fbbf24;flex:none}.dot.on{background:#4ade80}.dot.off{background:#9ca3af}" +
    "header button{background:rgba(255,255,255,.16);border:0;color:#fff;border-radius:8px;padding:6px 10px;cursor:pointer;font-size:12.5px}.min{font-size:18px!important;line-height:1}" +
    ".tools{display:flex;flex-direction:column;align-items:stretch;gap:4px;flex:none;max-width:110px}.tools .end{padding:4px 8px;font-size:12px}" +
    ".lang-menu{background:rgba(255,255,255,.16);border:0;color:#fff;border-radius:8px;padding:4px 2px;font-size:12px;cursor:pointer}.lang-menu option{color:#1f2933;background:#fff}" +
    ".banner{background:#fef3c7;color:#92400e;padding:6px 14px;font-size:12.5px}" +
    ".log{list-style:none;margin:0;padding:14px;flex:1;overflow-y:auto;background:#f6f7f9;display:flex;flex-direction:column;gap:8px}" +
    ".msg{max-width:82%;display:flex;flex-direction:column}.msg .text{margin:0;padding:9px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}" +
    ".them{align-self:flex-start}.them .text{background:#fff;border:1px solid #e5e7eb;border-bottom-left-radius:4px}" +
    ".me{align-self:flex-end;align-items:flex-end}.me .text{background:var(--accent);color:#fff;border-bottom-right-radius:4px}.pending .text{opacity:.65}" +
    ".who{font-size:11.5px;color:#6b7280;margin:0 0 2px 4px}.at,.tick{font-size:11px;color:#9ca3af;margin:2px 4px 0}.me .tick{margin-top:0}" +
    ".sys{align-self:center;font-size:12px;color:#6b7280;background:#eef0f3;border-radius:10px;padding:3px 10px;text-align:center}" +
    ".actions{display:flex;gap:6px;margin-top:6px;flex-wrap:wrap}.chip{border:1px solid var(--accent);color:var(--accent);background:#fff;border-radius:14px;padding:4px 10px;cursor:pointer;font-size:12.5px}" +
    ".typing{font-size:12px;color:#6b7280;padding:4px 16px;background:#f6f7f9}.notice{background:#fee2e2;color:#991b1b;padding:6px 14px;font-size:12.5px}" +
    ".card{padding:12px 14px;border-top:1px solid #e5e7eb;display:flex;flex-direction:column;gap:8px}.card p{margin:0}" +
    ".card input,.card textarea{border:1px solid #d1d5db;border-radius:8px;padding:8px 10px;width:100%}" +
    ".primary{background:var(--accent);color:#fff;border:0;border-radius:8px;padding:9px;cursor:pointer;font-weight:600}" +
    ".stars{display:flex;gap:4px}.star{cursor:pointer;font-size:28px;color:#d1d5db;position:relative}.star input{position:absolute;opacity:0;width:1px;height:1px}.star.lit,.star:hover{color:#f59e0b}.star:focus-within{outline:2px solid #f59e0b;border-radius:4px}" +
    ".scale{display:flex;gap:4px}.point{flex:1;border:1px solid #d1d5db;background:#fff;border-radius:8px;padding:8px 0;cursor:pointer}.point:hover{border-color:var(--accent);color:var(--accent)}.ends{display:flex;justify-content:space-between;font-size:12px;color:#6b7280}" +
    ".row{display:flex;gap:8px}.row .primary{flex:1}.skip{background:#fff;border:1px solid #d1d5db;border-radius:8px;padding:9px 12px;cursor:pointer}" +
    ".old{opacity:.6}.divider{font-weight:600}.bot .who{font-weight:600;color:var(--accent)}" +
    ".compose{display:flex;gap:8px;align-items:flex-end;padding:10px 12px;border-top:1px solid #e5e7eb}" +
    ".compose textarea{flex:1;resize:none;border:1px solid #d1d5db;border-radius:20px;padding:9px 14px;max-height:120px;min-height:40px}" +
    ".send{width:40px;height:40px;border-radius:50%;border:0;background:var(--accent);cursor:pointer;display:grid;place-items:center;flex:none}.send svg{width:18px;fill:#fff}" +
    ".attach{width:40px;height:40px;border-radius:50%;border:1px solid #d1d5db;background:#fff;cursor:pointer;display:grid;place-items:center;flex:none}.attach svg{width:19px;fill:none;stroke:#4b5563;stroke-width:2;stroke-linecap:round}" +
    ".file-thumb{display:block;border-radius:12px;overflow:hidden;border:1px solid #e5e7eb;background:#fff;line-height:0}.file-thumb img{display:block;max-width:200px;max-height:160px;min-width:48px;min-height:36px;object-fit:cover}" +
    ".file-chip{display:flex;align-items:center;gap:8px;padding:8px 12px;border-radius:12px;background:#fff;border:1px solid #e5e7eb;color:#1f2933;text-decoration:none;cursor:pointer}.file-icon{background:#dc2626;color:#fff;font-size:10px;font-weight:700;border-radius:4px;padding:3px 5px}.file-name{font-weight:600;overflow-wrap:anywhere}.file-size{color:#6b7280;font-size:12px;white-space:nowrap}" +
    "footer{font-size:11px;color:#9ca3af;text-align:center;padding:0 0 8px}" +
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100%;height:100%;border-radius:0}.bubble{right:14px;bottom:14px}}";

  function start() {
    C.strings(base, lang).then(function (loaded) {
      lang = loaded.lang; locale = localeOf(lang);
      texts.use(loaded.table, locale);
      build();
      open = !!st.open;
      render();
      if (needed()) wake();
    });
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
