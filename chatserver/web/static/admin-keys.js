/* The admin page's "API keys" and "Notice texts" sections: make a key (shown once), revoke one;
   read and change the notice texts of a language. Loaded after admin.js; uses the same token. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var KINDS = ["confirmed", "shipped", "delayed", "refund"];
  function el(tag, cls, text) { var n = document.createElement(tag); if (cls) n.className = cls; if (text != null) n.textContent = text; return n; }
  function api(method, path, body) {
    var init = { method: method, headers: { Authorization: "Bearer " + localStorage.getItem("console:token") } };
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); });
  }
  function say(text) { var t = $("toast"); t.textContent = text; t.hidden = false; setTimeout(function () { t.hidden = true; }, 4000); }

  function loadKeys() {
    api("GET", "/api/admin/apikeys").then(function (r) {
      if (!r.ok) return;
      var list = $("key-list"); list.textContent = "";
      r.body.keys.forEach(function (k) {
        var li = el("li", k.revoked_at ? "revoked" : "");
        li.setAttribute("data-key", k.id);
        li.appendChild(el("span", null, k.name + " \u00b7 " + k.id + " \u00b7 " + k.scopes.join(", ") + (k.revoked_at ? " \u00b7 revoked" : "")));
        if (!k.revoked_at) {
          var b = el("button", "ghost", "Revoke"); b.type = "button";
          b.onclick = function () {
            if (!confirm("Revoke the key " + k.name + "? The shop's system can no longer use it.")) return;
            api("DELETE", "/api/admin/apikeys/" + encodeURIComponent(k.id)).then(function (x) { say(x.ok ? "Revoked." : x.body.error); loadKeys(); });
          };
          li.appendChild(b);
        }
        list.appendChild(li);
      });
      if (!r.body.keys.length) list.appendChild(el("li", "hint", "No keys yet."));
    });
  }
  $("key-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var scopes = [];
    document.querySelectorAll("#key-form [data-scope]").forEach(function (c) { if (c.checked) scopes.push(c.getAttribute("data-scope")); });
    api("POST", "/api/admin/apikeys", { name: $("key-name").value.trim(), scopes: scopes }).then(function (r) {
      $("key-error").textContent = r.ok ? "" : r.body.error;
      if (!r.ok) return;
      $("key-secret").textContent = "Copy this key now; it is not shown again: " + r.body.key;
      $("key-secret").hidden = false; $("key-name").value = ""; loadKeys();
    });
  });

  function loadTexts() {
    api("GET", "/api/admin/notice-texts/" + $("nt-lang").value).then(function (r) {
      if (!r.ok) return;
      KINDS.forEach(function (k) {
        var t = r.body.texts[k] || {};
        $("nt-" + k + "-title").value = t.title || ""; $("nt-" + k + "-text").value = t.text || "";
      });
    });
  }
  $("nt-lang").addEventListener("change", loadTexts);
  $("nt-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var texts = {};
    KINDS.forEach(function (k) { texts[k] = { title: $("nt-" + k + "-title").value, text: $("nt-" + k + "-text").value }; });
    api("PUT", "/api/admin/notice-texts/" + $("nt-lang").value, { texts: texts }).then(function (r) {
      document.querySelectorAll("#nt-form .err").forEach(function (n) { n.textContent = ""; });
      if (r.ok) { say("Saved."); return; }
      Object.keys(r.body.fields || {}).forEach(function (f) {
        var n = document.querySelector('#nt-form [data-err="' + f + '"]'); if (n) n.textContent = r.body.fields[f];
      });
      say("Not saved: " + r.body.error);
    });
  });

  function start() {
    if ($("app").hidden) { setTimeout(start, 200); return; } // after the login
    loadKeys(); loadTexts();
  }
  start();
})();
