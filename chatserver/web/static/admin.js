/* The admin page: read the shop's configuration, change it section by section. Plain JS.
   Writes send the console's session token in a header (never a cookie); the server checks roles
   and every field, and answers which field is wrong. Shop text is only set with textContent. */
(function () {
  "use strict";
  var DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
  var TEXTS = ["greeting", "away", "handoff", "abstain", "thanks"];
  var S = { token: localStorage.getItem("console:token"), data: null, shop: null, faqLang: "en", editing: null, textLang: "en" };
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, cls, text) { var n = document.createElement(tag); if (cls) n.className = cls; if (text != null) n.textContent = text; return n; }

  function api(method, path, body) {
    var init = { method: method, headers: { Authorization: "Bearer " + S.token } };
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (r) {
      return r.json().then(function (b) { return { status: r.status, ok: r.ok, body: b }; });
    });
  }
  function toast(text) { var t = $("toast"); t.textContent = text; t.hidden = false; clearTimeout(toast.timer); toast.timer = setTimeout(function () { t.hidden = true; }, 4000); }

  /* Put each field's error next to it: the longest known prefix of the field's dotted path. */
  function showErrors(scopes, result) {
    scopes.forEach(function (s) { s.querySelectorAll(".err").forEach(function (n) { n.textContent = ""; }); });
    if (result.ok) return;
    var fields = result.body.fields || {}, shown = false;
    Object.keys(fields).forEach(function (key) {
      var parts = key.replace("texts." + S.textLang + ".", "texts.").split(".");
      for (var i = parts.length; i > 0 && !shown; i--) {
        var path = parts.slice(0, i).join(".");
        scopes.forEach(function (s) {
          var n = s.querySelector('[data-err="' + path + '"]');
          if (n && !shown) { n.textContent = fields[key]; shown = true; }
        });
      }
      shown = false;
    });
    var first = scopes[0].querySelector(".err:not(:empty)");
    if (!first) toast(result.body.error || "not saved");
    else { first.scrollIntoView({ block: "center" }); toast("Not saved: " + (result.body.error || "")); }
  }

  // --- login ------------------------------------------------------------------------------------
  $("login-form").addEventListener("submit", function (e) {
    e.preventDefault();
    fetch("/api/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("login-user").value.trim(), password: $("login-password").value }) })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (r) {
        if (!r.ok) { $("login-error").textContent = r.body.error; $("login-error").hidden = false; return; }
        S.token = r.body.token; localStorage.setItem("console:token", S.token); load();
      });
  });

  function load() {
    if (!S.token) { $("login").hidden = false; return; }
    api("GET", "/api/admin/state").then(function (r) {
      if (r.status === 401) { $("login").hidden = false; $("app").hidden = true; return; }
      if (!r.ok) { $("login").hidden = false; $("login-error").textContent = r.body.error; $("login-error").hidden = false; return; }
      $("login").hidden = true; $("app").hidden = false;
      S.data = r.body; S.shop = JSON.parse(JSON.stringify(r.body.shop));
      render();
    });
  }

  function render() {
    var d = S.data, readonly = d.me.role !== "admin";
    $("readonly").hidden = !readonly;
    document.querySelectorAll("fieldset").forEach(function (f) { f.disabled = readonly; });
    document.querySelectorAll("#agents button, #canned-list button, #faq-list button, #faq-new").forEach(function (b) { b.disabled = readonly; });
    $("title").textContent = (d.shop.name || "Shop") + " settings";
    renderShop(); renderTexts(); renderFaq(); renderCanned(); renderAgents(); renderAudit();
    sections.forEach(function (fn) { fn(d); });
  }
  // What the page's other sections (admin-tone.js) share with it; each is drawn on every load.
  var sections = [];
  window.Admin = { api: api, el: el, toast: toast, showErrors: showErrors, load: load,
    section: function (fn) { sections.push(fn); } };

  // --- shop, hours, texts, embed: one document, saved whole ------------------------------------
  function renderShop() {
    var s = S.shop;
    document.querySelectorAll("[data-f]").forEach(function (n) {
      var v = s[n.getAttribute("data-f")];
      if (n.type === "checkbox") n.checked = v !== false; else n.value = v == null ? "" : v;
    });
    $("hours-now").textContent = S.data.hours_now;
    var days = $("days"); days.textContent = "";
    DAYS.forEach(function (day) {
      var row = el("div", "day"), label = el("label", null, day.charAt(0).toUpperCase() + day.slice(1));
      var input = el("input"); input.id = "h-" + day; label.htmlFor = input.id;
      input.value = ((s.hours || {})[day] || []).join(", ");
      row.appendChild(label); row.appendChild(input); days.appendChild(row);
      var err = el("p", "err"); err.setAttribute("data-err", "hours." + day); days.appendChild(err);
    });
    $("f-holidays").value = ((s.hours || {}).holidays || []).join("\n");
    $("f-origins").value = (s.allowed_origins || []).join("\n");
    $("flag-origins").textContent = "Always allowed as well: this server (" + S.data.base_url + ")" +
      (S.data.flag_origins.length ? " and, from --allowed-origins, " + S.data.flag_origins.join(", ") : "") + ".";
    $("snippet").value = '<script src="' + S.data.base_url + '/widget.js" data-shop="' + s.shop_id + '" async></script>';
  }
  function renderTexts() {
    var select = $("texts-lang"), langs = Object.keys(S.shop.texts);
    select.textContent = "";
    langs.forEach(function (l) { var o = el("option", null, l); o.value = l; select.appendChild(o); });
    select.value = S.textLang in S.shop.texts ? S.textLang : "en";
    S.textLang = select.value;
    TEXTS.forEach(function (k) { $("t-" + k).value = (S.shop.texts[S.textLang] || {})[k] || ""; });
  }
  function keepTexts() {
    var t = S.shop.texts[S.textLang] = S.shop.texts[S.textLang] || {};
    TEXTS.forEach(function (k) { t[k] = $("t-" + k).value; });
  }
  $("texts-lang").addEventListener("change", function (e) { keepTexts(); S.textLang = e.target.value; renderTexts(); });
  $("texts-add-btn").addEventListener("click", function () {
    var code = $("texts-add").value.trim(); if (!code) return;
    keepTexts(); S.shop.texts[code] = S.shop.texts[code] || JSON.parse(JSON.stringify(S.shop.texts.en));
    S.textLang = code; $("texts-add").value = ""; renderTexts();
  });
  function lines(text, sep) { return text.split(sep).map(function (x) { return x.trim(); }).filter(Boolean); }
  function shopFromForms() {
    var s = JSON.parse(JSON.stringify(S.shop));
    document.querySelectorAll("[data-f]").forEach(function (n) {
      var k = n.getAttribute("data-f");
      s[k] = n.type === "checkbox" ? n.checked : n.type === "number" ? Number(n.value) : n.value.trim();
      if (n.type === "number" && n.value.trim() === "" && !n.required) s[k] = null; // the default
    });
    s.hours = { holidays: lines($("f-holidays").value, "\n") };
    DAYS.forEach(function (day) { s.hours[day] = lines($("h-" + day).value, ","); });
    s.allowed_origins = lines($("f-origins").value, "\n");
    keepTexts(); s.texts = JSON.parse(JSON.stringify(S.shop.texts));
    return s;
  }
  var shopForms = Array.prototype.slice.call(document.querySelectorAll("[data-shop-form]"));
  shopForms.forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      api("PUT", "/api/admin/shop", shopFromForms()).then(function (r) {
        showErrors([form].concat(shopForms.filter(function (f) { return f !== form; })), r);
        if (!r.ok) return;
        toast("Saved. Live now on every worker.");
        load();
      });
    });
  });

  // --- FAQ --------------------------------------------------------------------------------------
  function renderFaq() {
    var select = $("faq-lang"), langs = Object.keys(S.data.faq);
    (S.data.shop.languages || []).forEach(function (l) { if (langs.indexOf(l) < 0) langs.push(l); });
    select.textContent = "";
    langs.forEach(function (l) { var o = el("option", null, l); o.value = l; select.appendChild(o); });
    select.value = S.faqLang; renderFaqList();
  }
  function renderFaqList() {
    var list = $("faq-list"), q = $("faq-search").value.toLowerCase(), readonly = S.data.me.role !== "admin";
    list.textContent = "";
    var english = S.data.faq.en || [], here = S.data.faq[S.faqLang] || [];
    english.forEach(function (base) {
      var e = here.filter(function (x) { return x.id === base.id; })[0];
      var text = (e ? e.title : base.title + " (not in " + S.faqLang + ")");
      if (q && (text + " " + base.id + " " + (e ? e.answer : "")).toLowerCase().indexOf(q) < 0) return;
      var li = el("li"); li.appendChild(el("span", null, text)); li.appendChild(el("code", null, base.id));
      var edit = el("button", "ghost", e ? "Edit" : "Translate"); edit.type = "button"; edit.disabled = readonly;
      edit.setAttribute("aria-label", (e ? "Edit " : "Translate ") + base.id);
      edit.onclick = function () { openEntry(e || { id: base.id, title: "", answer: "", questions: [] }, !e && S.faqLang === "en"); };
      li.appendChild(edit);
      if (e) {
        var del = el("button", "danger", "Delete"); del.type = "button"; del.disabled = readonly;
        del.setAttribute("aria-label", "Delete " + base.id);
        del.onclick = function () {
          if (!confirm("Delete " + base.id + (S.faqLang === "en" ? " in every language?" : " in " + S.faqLang + "?"))) return;
          api("DELETE", "/api/admin/faq/" + S.faqLang + "/" + encodeURIComponent(base.id)).then(function (r) { if (r.ok) { toast("Deleted."); load(); } else toast(r.body.error); });
        };
        li.appendChild(del);
      }
      list.appendChild(li);
    });
  }
  function openEntry(e, isNew) {
    S.editing = { isNew: isNew };
    $("faq-form").hidden = false; $("faq-warnings").hidden = true; $("faq-confirm").hidden = true;
    $("faq-form-title").textContent = isNew ? "New entry (" + S.faqLang + ")" : "Entry " + e.id + " (" + S.faqLang + ")";
    $("q-id").value = e.id || ""; $("q-id").readOnly = !isNew;
    $("q-category").value = e.category || ""; $("q-category").disabled = S.faqLang !== "en";
    $("q-title").value = e.title || ""; $("q-answer").value = e.answer || "";
    $("q-questions").value = (e.questions || []).join("\n");
    showErrors([$("faq-form")], { ok: true });
    $("q-id").focus();
  }
  $("faq-lang").addEventListener("change", function (e) { S.faqLang = e.target.value; $("faq-form").hidden = true; renderFaqList(); });
  $("faq-search").addEventListener("input", renderFaqList);
  $("faq-new").addEventListener("click", function () { S.faqLang = "en"; $("faq-lang").value = "en"; renderFaqList(); openEntry({}, true); });
  $("faq-cancel").addEventListener("click", function () { $("faq-form").hidden = true; });
  function saveEntry(confirmed) {
    var entry = { id: $("q-id").value.trim(), title: $("q-title").value, answer: $("q-answer").value, questions: $("q-questions").value };
    if (S.faqLang === "en") entry.category = $("q-category").value.trim();
    api("PUT", "/api/admin/faq/" + S.faqLang, { entry: entry, "new": S.editing.isNew, confirm: confirmed }).then(function (r) {
      if (r.status === 409) {
        $("faq-warnings").textContent = "The FAQ check warns:\n" + r.body.fields.warnings;
        $("faq-warnings").hidden = false; $("faq-confirm").hidden = false; return;
      }
      showErrors([$("faq-form")], r);
      if (!r.ok) return;
      toast("Entry saved. The bot answers with it now."); $("faq-form").hidden = true; load();
    });
  }
  $("faq-form").addEventListener("submit", function (e) { e.preventDefault(); saveEntry(false); });
  $("faq-confirm").addEventListener("click", function () { saveEntry(true); });
  $("try-form").addEventListener("submit", function (e) {
    e.preventDefault();
    api("POST", "/api/admin/try", { text: $("try-text").value, locale: $("try-locale").value || "en" }).then(function (r) {
      var out = $("try-result"); out.textContent = "";
      if (!r.ok) { out.textContent = r.body.error; return; }
      var b = r.body;
      var head = b.kind === "answer" ? "Answers with " + b.entry_id + " (" + b.lang + ")" : "Does not answer: " + b.kind;
      out.appendChild(el("p", "now", head + (b.confidence != null ? ", confidence " + b.confidence.toFixed(2) : "")));
      if (b.answer) out.appendChild(el("p", null, b.answer));
      if (b.runner_up) out.appendChild(el("p", "hint", "Runner-up: " + b.runner_up + " (" + b.runner_up_confidence.toFixed(2) + ")"));
    });
  });

  // --- canned replies ---------------------------------------------------------------------------
  function renderCanned() {
    var list = $("canned-list"), readonly = S.data.me.role !== "admin"; list.textContent = "";
    S.data.canned.forEach(function (c) {
      var li = el("li"); li.appendChild(el("code", null, "/" + c.shortcut)); li.appendChild(el("span", null, c.title + ": " + c.text));
      var edit = el("button", "ghost", "Edit"); edit.type = "button"; edit.disabled = readonly; edit.setAttribute("aria-label", "Edit /" + c.shortcut);
      edit.onclick = function () { $("k-shortcut").value = c.shortcut; $("k-title").value = c.title; $("k-text").value = c.text; $("k-title").focus(); };
      var del = el("button", "danger", "Delete"); del.type = "button"; del.disabled = readonly; del.setAttribute("aria-label", "Delete /" + c.shortcut);
      del.onclick = function () { api("DELETE", "/api/admin/canned/" + encodeURIComponent(c.shortcut)).then(function (r) { if (r.ok) { toast("Deleted."); load(); } else toast(r.body.error); }); };
      li.appendChild(edit); li.appendChild(del); list.appendChild(li);
    });
  }
  $("canned-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var reply = { shortcut: $("k-shortcut").value.trim(), title: $("k-title").value.trim(), text: $("k-text").value };
    api("PUT", "/api/admin/canned", { reply: reply }).then(function (r) {
      showErrors([$("canned-form")], r); if (!r.ok) return;
      toast("Reply saved."); e.target.reset(); load();
    });
  });

  // --- agents -----------------------------------------------------------------------------------
  function field(row, labelText, input, id) {
    var label = el("label", null, labelText); input.id = id; label.htmlFor = id;
    label.appendChild(input); row.appendChild(label); return input;
  }
  function renderAgents() {
    var box = $("agent-list"), readonly = S.data.me.role !== "admin"; box.textContent = "";
    S.data.agents.forEach(function (a) {
      var row = el("form", "agent"); row.setAttribute("aria-label", "Agent " + a.id);
      row.appendChild(el("strong", null, a.id));
      var name = field(row, "Name", el("input"), "ag-name-" + a.id); name.value = a.name;
      var role = field(row, "Role", el("select"), "ag-role-" + a.id);
      ["agent", "manager", "admin"].forEach(function (r) { var o = el("option", null, r); role.appendChild(o); });
      role.value = a.role;
      var cap = field(row, "Capacity", el("input"), "ag-cap-" + a.id); cap.type = "number"; cap.min = 1; cap.max = 50; cap.value = a.capacity;
      var langs = field(row, "Languages", el("input"), "ag-langs-" + a.id); langs.value = (a.languages || []).join(", ");
      var save = el("button", "ghost", "Save"); save.type = "submit";
      var reset = el("button", "ghost", "Reset password"); reset.type = "button";
      var remove = el("button", "danger", "Remove"); remove.type = "button";
      [name, role, cap, langs, save, reset, remove].forEach(function (n) { n.disabled = readonly; });
      var err = el("p", "err"); err.setAttribute("data-err", "role");
      row.appendChild(save); row.appendChild(reset); row.appendChild(remove); row.appendChild(err);
      row.addEventListener("submit", function (e) {
        e.preventDefault();
        api("PATCH", "/api/admin/agents/" + encodeURIComponent(a.id), { name: name.value.trim(), role: role.value, capacity: Number(cap.value), languages: lines(langs.value, ",") })
          .then(function (r) { err.textContent = r.ok ? "" : r.body.error; if (r.ok) { toast("Saved " + a.id + "."); load(); } });
      });
      reset.onclick = function () {
        api("POST", "/api/admin/agents/" + encodeURIComponent(a.id) + "/password").then(function (r) {
          if (r.ok) secret(a.id, r.body.password, r.body.invite); else err.textContent = r.body.error;
        });
      };
      remove.onclick = function () {
        if (!confirm("Remove " + a.id + "?")) return;
        api("DELETE", "/api/admin/agents/" + encodeURIComponent(a.id)).then(function (r) { err.textContent = r.ok ? "" : r.body.error; if (r.ok) { toast("Removed " + a.id + "."); load(); } });
      };
      box.appendChild(row);
    });
  }
  function secret(id, password, invite) {
    var s = $("agent-secret"); s.hidden = false;
    s.textContent = "One-time password for " + id + ": " + password + " (shown once; give it to them, they log in at " + location.origin + "/console). Or send them this invite link, valid for a week and once, to choose their own password: ";
    var link = document.createElement("a");
    link.href = location.origin + invite; link.textContent = link.href; link.id = "agent-invite";
    s.appendChild(link);
  }
  $("agent-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = { id: $("a-id").value.trim(), name: $("a-name").value.trim(), role: $("a-role").value, capacity: Number($("a-capacity").value), languages: lines($("a-languages").value, ",") };
    api("POST", "/api/admin/agents", body).then(function (r) {
      showErrors([$("agent-form")], r); if (!r.ok) return;
      e.target.reset(); load(); secret(r.body.agent, r.body.password, r.body.invite);
    });
  });

  // --- embed and audit --------------------------------------------------------------------------
  $("origin-form").addEventListener("submit", function (e) {
    e.preventDefault();
    api("GET", "/api/admin/origin?url=" + encodeURIComponent($("origin-url").value.trim())).then(function (r) {
      $("origin-result").textContent = !r.ok ? r.body.error : r.body.allowed
        ? "Allowed: pages on " + r.body.origin + " can show the chat."
        : "Not allowed: add " + r.body.origin + " above and save.";
    });
  });
  function renderAudit() {
    var rows = $("audit-rows"); rows.textContent = "";
    S.data.audit.forEach(function (a) {
      var tr = el("tr");
      tr.appendChild(el("td", null, new Date(a.at * 1000).toLocaleString()));
      tr.appendChild(el("td", null, a.who)); tr.appendChild(el("td", null, a.what + (a.documents ? " (" + a.documents + ")" : "")));
      rows.appendChild(tr);
    });
  }

  load();
})();
