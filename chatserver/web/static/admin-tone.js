/* The tone rules section of the admin page: per language, list, add, edit and delete the rules
   the console's tone coach underlines with (GET/PUT/DELETE /api/admin/tone). A bad pattern gets
   its error next to the field. Needs admin.js (window.Admin) loaded first. */
(function () {
  "use strict";
  var A = window.Admin, el = A.el;
  var $ = function (id) { return document.getElementById(id); };
  var FAQ_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "pt", "ja", "zh-CN"];
  var T = { lang: "en", languages: [], editing: null, readonly: true };

  function current() {
    return T.languages.filter(function (l) { return l.lang === T.lang; })[0] || { lang: T.lang, rules: [], edited: false };
  }

  function draw() {
    var picker = $("tone-lang"), codes = T.languages.map(function (l) { return l.lang; });
    FAQ_LANGUAGES.forEach(function (code) { if (codes.indexOf(code) < 0) codes.push(code); });
    picker.textContent = "";
    codes.forEach(function (code) {
      var has = T.languages.some(function (l) { return l.lang === code; });
      var option = el("option", null, has ? code : code + " (no rules yet)"); option.value = code;
      picker.appendChild(option);
    });
    picker.value = T.lang;
    var lang = current(), list = $("tone-list");
    $("tone-edited").textContent = lang.edited ? "edited by the shop" : "shipped rules";
    $("tone-restore").disabled = T.readonly || !lang.edited;
    list.textContent = "";
    lang.rules.forEach(function (rule, i) {
      var li = el("li"); li.appendChild(el("code", null, rule.pattern));
      li.appendChild(el("span", null, " → " + rule.suggestion + (rule.why ? " (" + rule.why + ")" : "")));
      var edit = el("button", "ghost", "Edit"); edit.type = "button"; edit.disabled = T.readonly;
      edit.setAttribute("aria-label", "Edit rule " + rule.pattern);
      edit.onclick = function () {
        T.editing = i; $("tone-form-title").textContent = "Edit rule " + (i + 1);
        $("t-pattern").value = rule.pattern; $("t-suggestion").value = rule.suggestion; $("t-why").value = rule.why;
        $("t-pattern").focus();
      };
      var del = el("button", "danger", "Delete"); del.type = "button"; del.disabled = T.readonly;
      del.setAttribute("aria-label", "Delete rule " + rule.pattern);
      del.onclick = function () { save("DELETE", "/api/admin/tone/" + encodeURIComponent(T.lang) + "/" + i, undefined, "Deleted."); };
      li.appendChild(edit); li.appendChild(del); list.appendChild(li);
    });
  }

  function fresh() {
    T.editing = null; $("tone-form").reset(); $("tone-form-title").textContent = "Add a rule";
  }

  function use(result) { T.languages = result.languages; draw(); }

  function save(method, path, body, done) {
    return A.api(method, path, body).then(function (r) {
      A.showErrors([$("tone-form")], r);
      if (!r.ok) return;
      A.toast(done); fresh(); use(r.body);
    });
  }

  A.section(function (state) {
    T.readonly = state.me.role !== "admin";
    A.api("GET", "/api/admin/tone").then(function (r) { if (r.ok) use(r.body); });
  });
  $("tone-lang").addEventListener("change", function () { T.lang = $("tone-lang").value; fresh(); draw(); });
  $("tone-new").addEventListener("click", fresh);
  $("tone-restore").addEventListener("click", function () {
    save("DELETE", "/api/admin/tone/" + encodeURIComponent(T.lang), undefined, "Shipped rules restored.");
  });
  $("tone-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var rule = { pattern: $("t-pattern").value.trim(), suggestion: $("t-suggestion").value.trim(), why: $("t-why").value.trim() };
    var body = T.editing == null ? { rule: rule } : { rule: rule, index: T.editing };
    save("PUT", "/api/admin/tone/" + encodeURIComponent(T.lang), body, "Rule saved; consoles use it from their next load.");
  });
})();
