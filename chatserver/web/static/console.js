/* The agent console: log in, take chats, answer within the shop's target. Plain JS.
   Every string comes from /locales/<lang>.json; shopper text is only set with textContent.
   Needs chat-common.js (ChatCommon) loaded first. */
(function () {
  "use strict";
  var C = ChatCommon;
  var texts = C.texts(), t = texts.t, el = C.el;
  var lang = C.language(localStorage.getItem("console:lang") || navigator.language || "en");
  var $ = function (id) { return document.getElementById(id); };
  var S = {
    token: localStorage.getItem("console:token"), me: null, myName: "",
    offset: 0, target: 60, status: "offline", capacity: 0, openChats: 0,
    convs: {}, order: [], selected: null, queue: [], agents: [], canned: [], mode: "reply",
    sound: localStorage.getItem("console:sound") !== "off", newChats: 0, cannedIndex: 0
  };

  function now() { return Date.now() / 1000 + S.offset; }
  function mmss(sec) { return C.digits(lang, sec); }
  function clock(ts, zone) { return C.clock(lang, ts, zone); }
  function day(ts) {
    try { return new Intl.DateTimeFormat(lang, { dateStyle: "medium" }).format(new Date(ts * 1000)); } catch (e) { return ""; }
  }

  // --- login ------------------------------------------------------------------------------------
  function showLogin(message) {
    $("app").hidden = true; $("login").hidden = false;
    $("login-error").hidden = !message; $("login-error").textContent = message || "";
    document.title = t("c.login_title");
    (invite ? $("login-form").password : $("login-form").username).focus();
  }
  // An invite link (/console#invite=...) lets a new agent choose their own password.
  var invite = /^#invite=(.+)$/.exec(location.hash);
  if (invite) {
    var form = $("login-form");
    form.username.closest("label").style.display = "none"; form.username.required = false;
    form.password.autocomplete = "new-password"; form.password.minLength = 8;
    form.querySelector("h1").setAttribute("data-t", "c.invite_title");
    form.querySelector("button[type=submit]").setAttribute("data-t", "c.invite_save");
  }
  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = e.target;
    var body = invite ? { token: decodeURIComponent(invite[1]), password: f.password.value }
                      : { username: f.username.value.trim(), password: f.password.value };
    fetch(invite ? "/api/invite" : "/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (r) {
        if (!r.ok) return showLogin(invite ? r.body.error : t("c.login_failed"));
        if (invite) { invite = null; history.replaceState(null, "", location.pathname); }
        S.token = r.body.token; localStorage.setItem("console:token", S.token);
        f.password.value = "";
        unlockAudio(); askNotify();
        start();
      })
      .catch(function () { showLogin(t("c.server_unreachable")); });
  });
  $("logout").onclick = function () {
    send({ type: "set_status", status: "offline" });
    localStorage.removeItem("console:token"); S.token = null;
    link.stop(); link.drop();
    location.reload();
  };

  // --- socket -----------------------------------------------------------------------------------
  function start() {
    $("login").hidden = true; $("app").hidden = false;
    link.connect();
  }
  function lastSeqs() {
    var out = {};
    Object.keys(S.convs).forEach(function (id) {
      var c = S.convs[id];
      if (c.seq) out[id] = c.seq;
      if (c.staffSeq) out[id + ".staff"] = c.staffSeq;
    });
    return out;
  }
  var link = C.link(location.origin.replace(/^http/, "ws") + "/ws/agent", {
    open: function () { send({ type: "hello", version: 3, token: S.token, last_seqs: lastSeqs() }); },
    frame: function (f) { onFrame(f); },
    down: function () { setConn(false); }
  });
  function send(f) { return link.send(f); }
  // What the console's add-ons (console-ladder.js, console-reviews.js) use; they listen for
  // "console:chat" (the selected chat was drawn) on document.
  window.ConsoleBridge = { send: send, state: S, t: function (k, v) { return t(k, v); }, lang: function () { return lang; } };
  function setConn(ok) { $("conn").textContent = ok ? "" : t("c.reconnecting"); $("conn").hidden = ok; }

  function conv(id) {
    if (!S.convs[id]) {
      S.convs[id] = { id: id, events: [], seq: 0, staffSeq: 0, notes: [], tags: [], status: "queued", agent: null,
        deadline: null, context: null, locale: "", language: "", zone: "", shopper: "", email: "", name: "", unread: 0,
        typing: false, readSeq: 0, history: null, markedSeq: 0 };
      S.order.unshift(id);
    }
    return S.convs[id];
  }

  function onFrame(f) {
    switch (f.type) {
      case "welcome":
        link.resetBackoff(); setConn(true);
        S.me = f.user_id; S.myName = f.name; S.target = f.response_target_s;
        S.offset = f.server_time - Date.now() / 1000;
        $("me-name").textContent = f.name;
        f.conversations.forEach(function (i) {
          var c = conv(i.conversation_id);
          c.status = i.status; c.agent = i.agent_id; c.deadline = i.deadline; c.shopper = i.shopper_id;
          if (i.language) c.language = i.language;
          if (i.customer_name || i.customer_email) { c.name = i.customer_name || c.name; c.email = i.customer_email || c.email; c.customer = true; }
        });
        send({ type: "list_canned" }); send({ type: "list_agents" });
        if (!S.selected && S.order.length) select(S.order[0]);
        break;
      case "status_changed": S.status = f.status; S.capacity = f.capacity; S.openChats = f.open_chats; break;
      case "queue_snapshot": S.queue = f.waiting; break;
      case "canned_replies": S.canned = f.replies; break;
      case "agent_list": S.agents = f.agents; renderTransfer(); return;
      case "conversation_history": if (S.convs[f.conversation_id]) S.convs[f.conversation_id].history = f.conversations; break;
      case "typing_notice":
        if (f.role === "shopper" && S.convs[f.conversation_id]) {
          var tc = S.convs[f.conversation_id];
          tc.typing = f.is_typing;
          clearTimeout(tc.typingTimer);
          if (f.is_typing) tc.typingTimer = setTimeout(function () { tc.typing = false; render(); }, 8000);
        }
        break;
      case "read_receipt": if (f.role === "shopper" && S.convs[f.conversation_id]) S.convs[f.conversation_id].readSeq = f.seq; break;
      case "ack": break;
      case "error":
        if (f.code === "unauthorized") { localStorage.removeItem("console:token"); S.token = null; link.stop(); return showLogin(t("c.session_expired")); }
        toast(f.message);
        break;
      default:
        if (typeof f.seq === "number" && f.conversation_id) event(f);
        else return;
    }
    render();
    markRead();
  }

  function event(e) {
    var c = conv(e.conversation_id);
    var staff = e.type === "note_added" || e.type === "tags_changed" || e.type === "order_looked_up";
    if (staff) { if (e.seq <= c.staffSeq) return; c.staffSeq = e.seq; } else { if (e.seq <= c.seq) return; c.seq = e.seq; }
    c.events.push(e);
    if ("deadline" in e) c.deadline = e.deadline;
    switch (e.type) {
      case "conversation_started":
        c.context = e.context; c.locale = e.locale; c.zone = e.timezone; c.shopper = e.shopper_id; c.started = e.ts;
        if (e.language) c.language = e.language;
        if (e.customer_name || e.customer_email) { c.name = e.customer_name || c.name; c.email = e.customer_email || c.email; c.customer = true; }
        break;
      case "customer_identified":
        c.name = e.customer_name || c.name; c.email = e.customer_email || c.email; c.customer = true; break;
      case "conversation_assigned": case "conversation_transferred":
        if (e.language) c.language = e.language;
        var fresh = c.agent !== e.agent_id && e.agent_id === S.me;
        c.agent = e.agent_id; c.status = "assigned";
        if (fresh && e.ts > now() - 15) notifyNewChat(c);
        break;
      case "conversation_queued": case "conversation_requeued": c.status = "queued"; c.agent = null; break;
      case "conversation_closed": c.status = "closed"; c.deadline = null; break;
      case "message_posted": case "file_attached":
        if (e.author === "agent") c.deadline = null;
        if (e.author === "shopper") {
          c.typing = false;
          if (S.selected !== c.id || document.hidden) c.unread++;
          if (c.agent === S.me && e.ts > now() - 15) notifyMessage(c, e); // live, not a replay
        }
        break;
      case "email_left": c.email = e.email; c.name = e.name || c.name; break;
      case "tags_changed": c.tags = e.tags; break;
      case "language_changed": c.language = e.language; break;
    }
    if (!S.selected && c.agent === S.me) select(c.id);
    document.dispatchEvent(new CustomEvent("console:event", { detail: e })); // console-order.js
  }

  // --- notifications ------------------------------------------------------------------------------
  var audio = null;
  function unlockAudio() {
    try { audio = audio || new (window.AudioContext || window.webkitAudioContext)(); audio.resume(); } catch (e) { audio = null; }
  }
  function beep() {
    if (!S.sound || !audio) return;
    try {
      var o = audio.createOscillator(), g = audio.createGain();
      o.frequency.value = 880; g.gain.setValueAtTime(0.0001, audio.currentTime);
      g.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.4);
      o.connect(g); g.connect(audio.destination); o.start(); o.stop(audio.currentTime + 0.45);
    } catch (e) { /* sound is a nicety */ }
  }
  function notifyNewChat(c) { // its messages came before it was ours: the latest is the news
    beep();
    if (document.hidden || S.selected !== c.id) S.newChats++;
    titleBar();
    var said = c.events.filter(function (e) { return (e.type === "message_posted" || e.type === "file_attached") && e.author === "shopper"; });
    if (said.length) desktopNote(c, said[said.length - 1]);
  }
  function askNotify() { // needs a click: asked at sign-in and when the sound is switched
    try { if (window.Notification && Notification.permission === "default") Notification.requestPermission(); } catch (e) { /* old browser */ }
  }
  function notifyMessage(c, e) { beep(); desktopNote(c, e); }
  function desktopNote(c, e) {
    if (!document.hidden && S.selected === c.id) return;
    try {
      if (!window.Notification || Notification.permission !== "granted") return;
      var n = new Notification(t("c.new_message", { name: shopperLabel(c) }), { body: (e.text || e.name || "").slice(0, 140), tag: c.id });
      n.onclick = function () { window.focus(); select(c.id); n.close(); };
    } catch (x) { /* a nicety: the sound and the unread counts remain */ }
  }
  function unreadTotal() {
    return Object.keys(S.convs).reduce(function (n, id) { return n + (S.convs[id].agent === S.me ? S.convs[id].unread : 0); }, 0);
  }
  // The shop's own title (set on /admin) replaces the generic product name.
  var shopTitle = "";
  fetch("/api/shop").then(function (r) { return r.json(); }).then(function (shop) {
    shopTitle = shop.console_title || (shop.name ? shop.name + " " + t("c.product_name") : "");
    if (!shopTitle) return;
    document.querySelectorAll('[data-t="c.product_name"]').forEach(function (n) { n.textContent = shopTitle; });
    titleBar();
  }).catch(function () {});
  function titleBar() {
    var base = shopTitle || t("c.title"), unread = unreadTotal();
    var parts = [];
    if (S.newChats) parts.push(t("c.title_new", { n: S.newChats }));
    if (unread) parts.push(t("c.title_unread", { n: unread }));
    document.title = parts.concat([base]).join(" \u00b7 ");
  }
  window.addEventListener("focus", function () { S.newChats = 0; titleBar(); markRead(); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { S.newChats = 0; titleBar(); markRead(); } });
  document.addEventListener("click", unlockAudio, { once: true });
  $("sound").onclick = function () {
    S.sound = !S.sound; localStorage.setItem("console:sound", S.sound ? "on" : "off"); unlockAudio(); askNotify(); render();
  };
  var toastTimer;
  function toast(msg) {
    var n = $("toast") || document.body.appendChild(el("div", "toast"));
    n.id = "toast"; n.setAttribute("role", "alert"); n.textContent = msg; n.hidden = false;
    clearTimeout(toastTimer); toastTimer = setTimeout(function () { n.hidden = true; }, 5000);
  }

  // --- actions ---------------------------------------------------------------------------------------
  document.querySelectorAll("[data-status]").forEach(function (b) {
    b.onclick = function () { send({ type: "set_status", status: b.getAttribute("data-status") }); };
  });
  function select(id) {
    S.selected = id;
    var c = S.convs[id];
    if (c) { c.unread = 0; if (!c.history && c.agent === S.me) send({ type: "get_history", conversation_id: id }); }
    S.newChats = 0; titleBar();
    document.body.classList.add("view-chat"); // on a phone: the chat replaces the list
    render(); markRead();
    $("reply").focus();
  }
  // What the console's add-ons (closings.js) may read: the open conversation, the strings.
  window.ConsoleChat = { current: function () { return S.convs[S.selected] || null; }, t: t };
  function markRead() {
    var c = S.convs[S.selected];
    if (!c || document.hidden || c.agent !== S.me || c.status === "closed") return;
    if (c.seq > c.markedSeq && send({ type: "mark_read", conversation_id: c.id, seq: c.seq })) c.markedSeq = c.seq;
  }
  function cid() { return C.clientId("k"); }
  $("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var c = S.convs[S.selected], text = $("reply").value.trim();
    if (!c || !text) return;
    var ok = send(S.mode === "note"
      ? { type: "add_note", conversation_id: c.id, client_id: cid(), text: text }
      : { type: "send_message", conversation_id: c.id, client_id: cid(), text: text });
    if (!ok) return toast(t("c.reconnecting"));
    if (S.mode === "reply") typing(false);
    $("reply").value = ""; closeCanned();
  });
  document.querySelectorAll("[data-mode]").forEach(function (b) {
    b.onclick = function () { S.mode = b.getAttribute("data-mode"); render(); $("reply").focus(); };
  });
  function ownChat() {
    var c = S.convs[S.selected];
    return c && c.agent === S.me ? c : null;
  }
  var typist = C.typist(function (on) {
    var c = ownChat();
    if (c) send({ type: "typing", conversation_id: c.id, is_typing: on });
    return !!c;
  });
  function typing(on) { if (ownChat()) typist(on); }

  // canned replies: "/" + shortcut, then Tab or Enter; placeholders left over are selected in turn
  function cannedMatches() {
    var m = /^\/([\w-]*)$/.exec($("reply").value);
    if (!m) return null;
    return S.canned.filter(function (r) { return r.shortcut.indexOf(m[1].toLowerCase()) === 0 || r.title.toLowerCase().indexOf(m[1].toLowerCase()) >= 0; });
  }
  // Placeholders shared with the shop's notices: one without a value blocks the insert (never a
  // literal "{order}" to a shopper); the others are left selected for the agent to type over.
  var STRICT = { first_name: 1, order: 1, product: 1, tracking_link: 1, new_date: 1 };
  function fill(text) {
    var c = S.convs[S.selected] || {}, ctx = c.context || {}, notice = {}, missing = null;
    (c.events || []).forEach(function (e) { if (e.type === "notice_posted") notice = e; });
    var values = { agent_name: S.myName, shopper_name: c.name, product_name: ctx.product_name,
      first_name: (c.name || "").trim().split(/\s+/)[0], product: ctx.product_name, order: notice.order,
      tracking_link: notice.tracking_link, new_date: notice.new_date };
    var out = text.replace(/\{(\w+)\}/g, function (m, k) {
      if (values[k]) return values[k];
      if (STRICT[k] && !missing) missing = k;
      return m;
    });
    return { text: out, missing: missing };
  }
  function insertCanned(r) {
    var box = $("reply"), filled = fill(r.text);
    if (filled.missing) { toast(t("c.canned_missing", { name: "{" + filled.missing + "}" })); return; }
    box.value = filled.text; closeCanned(); box.focus();
    if (!selectPlaceholder(0)) box.setSelectionRange(box.value.length, box.value.length);
  }
  function selectPlaceholder(from) {
    var box = $("reply"), re = /\{\w+\}/g, m;
    re.lastIndex = from;
    m = re.exec(box.value);
    if (!m) return false;
    box.setSelectionRange(m.index, m.index + m[0].length);
    return true;
  }
  function closeCanned() { $("canned").hidden = true; }
  function renderCanned() {
    var list = cannedMatches(), ul = $("canned");
    if (!list || !list.length) return closeCanned();
    S.cannedIndex = Math.min(S.cannedIndex, list.length - 1);
    ul.textContent = "";
    list.forEach(function (r, i) {
      var li = el("li", i === S.cannedIndex ? "active" : "");
      li.setAttribute("role", "option"); li.setAttribute("aria-selected", String(i === S.cannedIndex));
      li.appendChild(el("b", null, "/" + r.shortcut)); li.appendChild(el("span", null, r.title));
      li.appendChild(el("small", null, r.text));
      li.onmousedown = function (e) { e.preventDefault(); insertCanned(r); };
      ul.appendChild(li);
    });
    ul.hidden = false;
  }
  $("reply").addEventListener("input", function () { S.cannedIndex = 0; renderCanned(); if (S.mode === "reply") typing(!!$("reply").value.trim()); });
  $("reply").addEventListener("keydown", function (e) {
    var list = !$("canned").hidden && cannedMatches();
    if (list && list.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault(); S.cannedIndex = (S.cannedIndex + (e.key === "ArrowDown" ? 1 : list.length - 1)) % list.length; return renderCanned();
      }
      if (e.key === "Tab" || e.key === "Enter") { e.preventDefault(); return insertCanned(list[S.cannedIndex]); }
      if (e.key === "Escape") { e.preventDefault(); return closeCanned(); }
    }
    if (e.key === "Tab" && !e.shiftKey && /\{\w+\}/.test($("reply").value)) {
      var box = $("reply");
      if (selectPlaceholder(box.selectionEnd) || selectPlaceholder(0)) e.preventDefault();
      return;
    }
    C.enterSubmits(e, $("composer"));
  });

  $("back").onclick = function () { document.body.classList.remove("view-chat"); };
  $("details").onclick = function () { document.body.classList.toggle("show-info"); };
  $("close-info").onclick = function () { document.body.classList.remove("show-info"); };
  // --- attachments (chat-files.js) --------------------------------------------------------------
  var files = ChatFiles.picker($("composer"), function (file) {
    var id = S.selected;
    ChatFiles.upload(location.origin, S.token, id, file).then(function (e) { event(e); render(); }, function (err) {
      toast(t("c.attach_failed", { name: file.name, reason: err.message }));
    });
  });
  $("attach").onclick = function () { if (S.selected) files.pick(); };
  $("close-chat").onclick = function () { if (S.selected) send({ type: "close_conversation", conversation_id: S.selected }); };
  $("transfer").onclick = function () {
    var to = $("transfer-to").value;
    if (S.selected && to) send({ type: "transfer", conversation_id: S.selected, to_agent: to });
  };
  $("transfer-to").addEventListener("focus", function () { send({ type: "list_agents" }); });
  $("tag-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var c = S.convs[S.selected], v = $("tag-input").value.trim().toLowerCase();
    if (!c || !v) return;
    send({ type: "set_tags", conversation_id: c.id, tags: c.tags.concat([v]).slice(0, 20) });
    $("tag-input").value = "";
  });

  // --- view ------------------------------------------------------------------------------------------
  function shopperLabel(c) {
    if (c.name) return c.name;
    return t("c.visitor", { id: (c.shopper || c.id).slice(-4) });
  }
  function region(c) {
    var r = /[-_]([A-Za-z]{2})$/.exec(c.locale || "");
    if (!r) return "";
    try { return new Intl.DisplayNames([lang], { type: "region" }).of(r[1].toUpperCase()); } catch (e) { return r[1]; }
  }
  function language(c) { return languageName(c.language || c.locale || "en"); }
  function languageName(code) {
    try { return new Intl.DisplayNames([lang], { type: "language" }).of(code.split(/[-_]/)[0]); } catch (e) { return code; }
  }
  function languageBadge(code) { // the shopper's language: "DE", its full name on hover
    var badge = el("span", "lang", code.split(/[-_]/)[0].toUpperCase());
    try { badge.title = new Intl.DisplayNames([lang], { type: "language" }).of(code); } catch (e) { badge.title = code; }
    badge.setAttribute("aria-label", badge.title);
    return badge;
  }
  function countdown(node, deadline) {
    node.hidden = deadline == null;
    if (deadline == null) return;
    var left = deadline - now();
    node.className = "countdown " + (left <= 0 || left <= 15 ? "red" : left <= S.target / 2 ? "amber" : "green");
    node.textContent = left > 0 ? mmss(left) : t("c.overdue", { time: mmss(-left) });
    node.setAttribute("title", t("c.reply_deadline"));
  }
  function lastText(c) {
    for (var i = c.events.length - 1; i >= 0; i--) if (c.events[i].type === "message_posted") return c.events[i].text;
    return c.context && c.context.product_name ? c.context.product_name : "";
  }
  function render() {
    translateStatus();
    // queue
    var q = $("queue"); q.textContent = "";
    var room = S.status !== "offline" && S.openChats < S.capacity;
    S.queue.forEach(function (w) {
      var li = el("li", "item waiting");
      var c = S.convs[w.conversation_id];
      var top = el("div", "top");
      top.appendChild(el("span", "pos", "#" + w.position));
      top.appendChild(el("span", "label", c ? shopperLabel(c) : t("c.waiting_shopper")));
      if (w.language) top.appendChild(languageBadge(w.language));
      var wt = el("span", "waited", t("c.waiting_for", { time: mmss(now() - w.queued_at) }));
      wt.setAttribute("data-queued", w.queued_at);
      top.appendChild(wt);
      li.appendChild(top);
      if (w.question) li.appendChild(el("p", "question", w.question));
      var take = el("button", "ghost take", t("c.take")); take.type = "button"; take.disabled = !room;
      take.title = room ? "" : t("c.no_room");
      take.onclick = function () { send({ type: "pick_conversation", conversation_id: w.conversation_id }); };
      li.appendChild(take);
      q.appendChild(li);
    });
    $("queue-count").textContent = String(S.queue.length);
    $("queue-empty").hidden = S.queue.length > 0;
    // my chats
    var mine = S.order.filter(function (id) { var c = S.convs[id]; return c.agent === S.me || (c.status === "closed" && c.wasMine); });
    S.order.forEach(function (id) { if (S.convs[id].agent === S.me) S.convs[id].wasMine = true; });
    var ul = $("mine"); ul.textContent = "";
    mine.forEach(function (id) {
      var c = S.convs[id];
      var li = el("li", "item chat-item" + (id === S.selected ? " selected" : "") + (c.status === "closed" ? " closed" : ""));
      var b = el("button", "pick"); b.type = "button"; b.onclick = function () { select(id); };
      var top = el("span", "top");
      top.appendChild(el("span", "label", shopperLabel(c)));
      if (c.language) top.appendChild(languageBadge(c.language));
      if (c.unread) top.appendChild(el("span", "unread", String(c.unread)));
      var cd = el("span", "countdown"); cd.setAttribute("data-deadline", c.deadline == null ? "" : c.deadline);
      countdown(cd, c.status === "closed" ? null : c.deadline);
      top.appendChild(cd);
      b.appendChild(top);
      b.appendChild(el("span", "preview", c.status === "closed" ? t("c.closed") : c.typing ? t("c.typing") : lastText(c)));
      li.appendChild(b); ul.appendChild(li);
    });
    $("mine-count").textContent = String(mine.filter(function (id) { return S.convs[id].status !== "closed"; }).length);
    $("mine-empty").hidden = mine.length > 0;
    $("load").textContent = t("c.load", { open: S.openChats, capacity: S.capacity });
    $("sound").textContent = S.sound ? t("c.sound_on") : t("c.sound_off");
    $("sound").setAttribute("aria-pressed", String(S.sound));
    titleBar();
    renderChat();
  }
  function translateStatus() {
    document.querySelectorAll("[data-status]").forEach(function (b) {
      var on = b.getAttribute("data-status") === S.status;
      b.setAttribute("aria-checked", String(on)); b.classList.toggle("on", on);
    });
    document.body.setAttribute("data-agent-status", S.status);
  }
  function renderChat() {
    var c = S.convs[S.selected];
    $("nothing").hidden = !!c; $("chat-inner").hidden = !c; $("info").hidden = !c;
    if (!c) return;
    var own = c.agent === S.me && c.status !== "closed";
    $("chat-title").textContent = shopperLabel(c);
    if (c.language) $("chat-title").appendChild(languageBadge(c.language));
    var bits = [];
    if (region(c)) bits.push(region(c));
    bits.push(language(c));
    if (c.zone) bits.push(t("c.local_time", { time: clock(now(), c.zone), zone: c.zone }));
    $("chat-sub").textContent = bits.join(" \u00b7 ");
    countdown($("chat-countdown"), own ? c.deadline : null);
    $("close-chat").disabled = !own; $("transfer").disabled = !own; $("transfer-to").disabled = !own;
    $("reply").disabled = !own; $("send").disabled = !own; $("attach").disabled = !own;
    $("send").textContent = S.mode === "note" ? t("c.add_note") : t("c.send");
    $("reply").placeholder = own ? (S.mode === "note" ? t("c.note_placeholder") : t("c.reply_placeholder")) : t("c.read_only");
    $("composer").classList.toggle("note-mode", S.mode === "note");
    document.querySelectorAll("[data-mode]").forEach(function (b) { b.setAttribute("aria-selected", String(b.getAttribute("data-mode") === S.mode)); });

    var box = $("messages"), atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.textContent = "";
    var lastAgentSeq = 0;
    c.events.forEach(function (e) { if (e.type === "message_posted" && e.author === "agent") lastAgentSeq = e.seq; });
    // notes come from their own log: order by server time, arrival order within the same instant
    var all = c.events.slice().sort(function (a, b) { return a.ts - b.ts; });
    all.forEach(function (e) {
      if (e.type === "message_posted") {
        var li = el("li", "msg " + e.author);
        var meta = el("div", "meta");
        meta.appendChild(el("span", "who", e.author === "shopper" ? shopperLabel(c) : e.author === "bot" ? t("c.bot") : e.author_name));
        meta.appendChild(el("time", null, clock(e.ts)));
        li.appendChild(meta);
        li.appendChild(el("p", "text", e.text));
        if (e.author === "agent" && e.seq === lastAgentSeq) li.appendChild(el("span", "tick", c.readSeq >= e.seq ? t("c.seen") : t("c.delivered")));
        box.appendChild(li);
      } else if (e.type === "file_attached") {
        var f = el("li", "msg file " + e.author);
        var fm = el("div", "meta");
        fm.appendChild(el("span", "who", e.author === "shopper" ? shopperLabel(c) : e.author_name));
        fm.appendChild(el("time", null, clock(e.ts)));
        f.appendChild(fm); f.appendChild(ChatFiles.view(location.origin, S.token, e));
        box.appendChild(f);
      } else if (e.type === "note_added") {
        var n = el("li", "msg note");
        var nm = el("div", "meta");
        nm.appendChild(el("span", "who", t("c.note_by", { name: e.author_name })));
        nm.appendChild(el("time", null, clock(e.ts)));
        n.appendChild(nm); n.appendChild(el("p", "text", e.text));
        box.appendChild(n);
      } else {
        var s = systemLine(e, c);
        if (s) box.appendChild(el("li", "sys", s));
      }
    });
    if (atBottom || c.justOpened !== false) box.scrollTop = box.scrollHeight;
    c.justOpened = false;
    $("shopper-typing").hidden = !c.typing;
    $("shopper-typing").textContent = t("c.shopper_typing", { name: shopperLabel(c) });
    renderInfo(c);
    renderTransfer();
    document.dispatchEvent(new CustomEvent("console:chat", { detail: c }));
  }
  var CHOICES = { keep_waiting: "w.choice_keep_waiting", faster_shipping: "w.choice_faster_shipping", cancel_refund: "w.choice_cancel_refund" };
  function systemLine(e, c) {
    switch (e.type) {
      case "conversation_started": return t("c.started", { time: clock(e.ts) });
      case "conversation_queued": return e.reason === "handoff" ? t("c.handed_off") : t("c.queued");
      case "conversation_assigned": return t("c.assigned", { name: e.agent_name });
      case "conversation_transferred": return t("c.transferred", { name: e.agent_name });
      case "conversation_requeued": return t("c.requeued");
      case "conversation_closed": return e.by === "shopper" ? t("c.closed_by_shopper") : t("c.closed_by_agent");
      case "rating_given": return t("c.rated", { score: "\u2605".repeat(e.score) + "\u2606".repeat(5 - e.score), comment: e.comment ? "\u201c" + e.comment + "\u201d" : "" });
      case "email_left": return t("c.email_left", { email: e.email });
      case "notice_posted": return t("c.notice_sent", { title: e.title, text: e.text });
      case "choice_made": return t("c.choice_made", { choice: t(CHOICES[e.choice] || e.choice) });
      case "bot_feedback_given": return e.helpful ? t("c.bot_helped") : t("c.bot_not_helped");
      case "tags_changed": return t("c.tags_set", { tags: e.tags.join(", ") || "\u2014" });
      case "resolutions_offered": return t("c.res_offered", { options: e.options.map(function (o) { return resName(o.kind) + " " + formatPrice(o.amount, e.currency); }).join(", ") });
      case "resolution_accepted": return t(e.by === "shopper" ? "c.res_accepted" : "c.res_recorded", { what: resName(e.resolution), amount: formatPrice(e.amount, e.currency) });
      case "customer_identified": return t("c.customer_identified", { name: e.customer_name || e.customer_email });
      case "language_changed": return t(e.by === "shopper" ? "c.language_picked" : "c.language_read", { language: languageName(e.language) });
      case "order_looked_up": return t("c.order_looked_up." + e.outcome, { numbers: e.orders.map(function (o) { return o.number; }).join(", ") });
    }
    return "";
  }
  function resName(kind) {
    return t({ explain: "c.res_explain", coupon: "c.res_coupon", partial_refund: "c.res_partial_refund",
      resend: "c.res_resend", full_refund: "c.res_full_refund" }[kind] || kind);
  }
  function renderInfo(c) {
    var p = $("product"); p.textContent = "";
    var ctx = c.context || {};
    if (ctx.product_name) {
      p.appendChild(el("div", "p-name", ctx.product_name));
      if (ctx.product_price) p.appendChild(el("div", "p-price", formatPrice(ctx.product_price, ctx.currency)));
      if (ctx.product_id) p.appendChild(el("div", "muted", t("c.sku", { id: ctx.product_id })));
    } else if (ctx.title) p.appendChild(el("div", "p-name", ctx.title));
    else p.appendChild(el("div", "muted", t("c.no_product")));
    if (/^https?:\/\//.test(ctx.url || "")) {
      var a = el("a", "p-link", t("c.open_page")); a.href = ctx.url; a.target = "_blank"; a.rel = "noopener noreferrer";
      p.appendChild(a);
    }
    var dl = $("shopper"); dl.textContent = "";
    var fact = function (k, v) { if (!v) return; dl.appendChild(el("dt", null, t(k))); dl.appendChild(el("dd", null, v)); };
    fact("c.f_customer", c.customer ? t("c.verified_customer") : "");
    fact("c.f_country", region(c)); fact("c.f_language", language(c));
    fact("c.f_zone", c.zone ? c.zone + " (" + clock(now(), c.zone) + ")" : "");
    fact("c.f_email", c.email); fact("c.f_started", c.started ? day(c.started) + " " + clock(c.started) : "");
    var tags = $("tags"); tags.textContent = "";
    c.tags.forEach(function (tag) {
      var chip = el("span", "tag", tag);
      var x = el("button", "x", "\u00d7"); x.type = "button"; x.setAttribute("aria-label", t("c.remove_tag", { tag: tag }));
      x.onclick = function () { send({ type: "set_tags", conversation_id: c.id, tags: c.tags.filter(function (v) { return v !== tag; }) }); };
      chip.appendChild(x); tags.appendChild(chip);
    });
    $("tag-form").hidden = c.agent !== S.me;
    document.dispatchEvent(new CustomEvent("console:info", { detail: c })); // console-order.js
    var h = $("history"); h.textContent = "";
    if (!c.history) h.appendChild(el("li", "muted", c.agent === S.me ? t("c.loading") : "\u2014"));
    else if (!c.history.length) h.appendChild(el("li", "muted", t("c.first_chat")));
    else c.history.forEach(function (x) {
      var li = el("li", "past-item"); li.setAttribute("data-conversation-id", x.conversation_id); li.tabIndex = 0;
      li.appendChild(el("b", null, day(x.created_at)));
      var what = (x.context && (x.context.product_name || x.context.title)) || "";
      li.appendChild(el("span", null, [what, x.agent_name, t("c.n_messages", { n: x.messages })].filter(Boolean).join(" \u00b7 ")));
      if (x.rating) li.appendChild(el("span", "stars", "\u2605".repeat(x.rating)));
      if (x.tags.length) li.appendChild(el("span", "muted", x.tags.join(", ")));
      h.appendChild(li);
    });
  }
  function formatPrice(price, currency) {
    var n = Number(price);
    if (currency && isFinite(n)) { try { return new Intl.NumberFormat(lang, { style: "currency", currency: currency }).format(n); } catch (e) { /* odd code */ } }
    return price + (currency ? " " + currency : "");
  }
  function renderTransfer() {
    var sel = $("transfer-to"), keep = sel.value;
    sel.textContent = "";
    var first = el("option", null, t("c.transfer_to")); first.value = ""; sel.appendChild(first);
    S.agents.forEach(function (a) {
      if (a.agent_id === S.me) return;
      var o = el("option", null, a.name + " \u2014 " + t("c." + a.status) + " (" + a.open_chats + "/" + a.capacity + ")");
      o.value = a.agent_id; o.disabled = a.status !== "online";
      sel.appendChild(o);
    });
    sel.value = keep;
  }
  // live clocks: countdowns and waiting times tick every second without re-rendering the lists
  setInterval(function () {
    document.querySelectorAll("[data-deadline]").forEach(function (n) {
      var d = n.getAttribute("data-deadline"); countdown(n, d === "" ? null : +d);
    });
    document.querySelectorAll("[data-queued]").forEach(function (n) {
      n.textContent = t("c.waiting_for", { time: mmss(now() - +n.getAttribute("data-queued")) });
    });
    var c = S.convs[S.selected];
    if (c) countdown($("chat-countdown"), c.agent === S.me && c.status !== "closed" ? c.deadline : null);
  }, 1000);

  C.strings("", lang).then(function (loaded) {
    lang = loaded.lang; texts.use(loaded.table, lang); document.documentElement.lang = lang;
    // The agent's language, picked in the header or on the sign-in card; the whole page follows.
    [$("logout"), $("login-form").querySelector("h1")].forEach(function (before) {
      var menu = C.languageMenu(lang, t("c.language"), function (tag) {
        localStorage.setItem("console:lang", tag);
        location.reload();
      });
      menu.classList.add("ghost");
      before.parentNode.insertBefore(menu, before);
    });
    C.translate(document, t); titleBar();
    if (S.token) start(); else showLogin();
  });
})();
