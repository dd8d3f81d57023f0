/* The admin page's "Customers & orders" section: rotate the identity secret (shown once) and set
   the order connector. Plain JS over /api/admin/integrations; secrets are never read back. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  function api(method, path, body) {
    var init = { method: method, headers: { Authorization: "Bearer " + localStorage.getItem("console:token") } };
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); });
  }
  function show(d) {
    var id = d.identity, o = d.orders;
    $("identity-state").textContent = id.demo ? "Using the demo's identity secret (the demo page signs its demo customer)."
      : id.secret_set ? "An identity secret is set." + (id.previous_until ? " The previous one is valid until " + new Date(id.previous_until * 1000).toLocaleString() + "." : "")
      : "No identity secret: every shopper is a guest.";
    $("o-url").value = o.url; $("o-customer_url").value = o.customer_url; $("o-secret").value = "";
    $("orders-state").textContent = o.demo ? "Using the demo order service at /demo-orders." : o.secret_set ? "A signing secret is set." : "No signing secret set.";
  }
  function errors(result) {
    document.querySelectorAll("#orders-form .err").forEach(function (n) { n.textContent = ""; });
    var fields = (result.body && result.body.fields) || {};
    Object.keys(fields).forEach(function (k) { var n = document.querySelector('#orders-form [data-err="' + k + '"]'); if (n) n.textContent = fields[k]; });
    if (!Object.keys(fields).length && !result.ok) $("orders-state").textContent = result.body.error || "not saved";
  }
  function load() {
    if (!localStorage.getItem("console:token")) return;
    api("GET", "/api/admin/integrations").then(function (r) { if (r.ok) show(r.body); });
  }
  $("identity-rotate").addEventListener("click", function () {
    api("POST", "/api/admin/integrations/identity").then(function (r) {
      if (!r.ok) { $("identity-state").textContent = r.body.error || "not changed"; return; }
      $("identity-secret").value = r.body.secret; $("identity-secret").hidden = false; $("identity-secret-label").hidden = false;
      show(r.body);
    });
  });
  $("orders-form").addEventListener("submit", function (e) {
    e.preventDefault();
    api("PUT", "/api/admin/integrations/orders", { url: $("o-url").value, customer_url: $("o-customer_url").value, secret: $("o-secret").value })
      .then(function (r) { errors(r); if (r.ok) show(r.body); });
  });
  // admin.js shows #app once logged in (now or after its login form): read the section then.
  var app = $("app");
  new MutationObserver(function () { if (!app.hidden) load(); }).observe(app, { attributes: true, attributeFilter: ["hidden"] });
  if (!app.hidden) load();
})();
