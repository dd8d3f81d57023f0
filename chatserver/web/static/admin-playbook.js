/* The admin page's playbook card: the after-sale resolution ladder (percent of the order, lowest
   and highest), the highest percent each role may offer, and the quality review's sample size and
   rubric (GET/PUT /api/admin/playbook). Needs admin.html; loads once the page is signed in. */
(function () {
  "use strict";
  var app = document.getElementById("app"), before = document.getElementById("agents");
  if (!app || !before) return;
  var KINDS = [["explain", "Explain and reassure"], ["coupon", "Coupon"], ["partial_refund", "Partial refund"],
    ["resend", "Free resend"], ["full_refund", "Full refund"]];
  var ROLES = ["agent", "manager", "admin"];
  function el(tag, cls, text) { var n = document.createElement(tag); if (cls) n.className = cls; if (text != null) n.textContent = text; return n; }
  function number(id, min, max) { var i = el("input"); i.type = "number"; i.id = id; i.min = String(min); i.max = String(max); i.step = "any"; i.required = true; return i; }

  var card = el("section", "card"); card.id = "playbook";
  card.appendChild(el("h2", null, "Resolutions and quality review"));
  card.appendChild(el("p", "hint", "The console lists these for a damaged, wrong, late or incomplete order, cheapest first; agents offer at least two within their role's limit."));
  var form = el("form", "grid"); var set = el("fieldset"); form.appendChild(set);
  set.appendChild(el("h3", null, "Resolution ladder (percent of the order value)"));
  KINDS.forEach(function (k) {
    var row = el("div", "pb-row");
    row.style.cssText = "display: grid; grid-template-columns: 170px 5em auto 5em auto; gap: 8px; align-items: center;";
    row.appendChild(el("label", null, k[1]));
    var low = number("pb-" + k[0] + "-low", 0, 100), high = number("pb-" + k[0] + "-high", 0, 100);
    low.setAttribute("aria-label", k[1] + ": lowest %"); high.setAttribute("aria-label", k[1] + ": highest %");
    row.appendChild(low); row.appendChild(el("span", null, "to")); row.appendChild(high); row.appendChild(el("span", null, "%"));
    set.appendChild(row);
    var err = el("p", "err"); err.setAttribute("data-err", "ladder." + k[0]); set.appendChild(err);
  });
  set.appendChild(el("h3", null, "Highest offer per role (percent of the order)"));
  ROLES.forEach(function (r) {
    var label = el("label", null, r.charAt(0).toUpperCase() + r.slice(1)); label.htmlFor = "pb-limit-" + r;
    set.appendChild(label); set.appendChild(number("pb-limit-" + r, 0, 100));
    var err = el("p", "err"); err.setAttribute("data-err", "limits." + r); set.appendChild(err);
  });
  set.appendChild(el("h3", null, "Quality review"));
  var sl = el("label", null, "Chats sampled per agent per week"); sl.htmlFor = "pb-sample"; set.appendChild(sl);
  set.appendChild(number("pb-sample", 0, 50));
  var rl = el("label", null, "Rubric (criteria, comma-separated; each scored 1-5)"); rl.htmlFor = "pb-rubric"; set.appendChild(rl);
  var rubric = el("input"); rubric.id = "pb-rubric"; rubric.required = true; set.appendChild(rubric);
  var err = el("p", "err"); err.setAttribute("data-err", "review"); set.appendChild(err);
  var save = el("button", "primary", "Save resolutions and review"); save.type = "submit"; set.appendChild(save);
  var status = el("p", "hint"); status.setAttribute("role", "status"); set.appendChild(status);
  card.appendChild(form);
  before.parentNode.insertBefore(card, before);
  var $ = function (id) { return document.getElementById(id); };

  function call(method, body) {
    var init = { method: method, headers: { Authorization: "Bearer " + localStorage.getItem("console:token") } };
    if (body) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch("/api/admin/playbook", init).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); });
  }
  function fill(book) {
    KINDS.forEach(function (k) { $("pb-" + k[0] + "-low").value = book.ladder[k[0]][0]; $("pb-" + k[0] + "-high").value = book.ladder[k[0]][1]; });
    ROLES.forEach(function (r) { $("pb-limit-" + r).value = book.limits[r]; });
    $("pb-sample").value = book.review.sample_per_agent; rubric.value = book.review.rubric.join(", ");
    var readOnly = !document.getElementById("readonly").hidden;
    form.querySelectorAll("input, button").forEach(function (n) { n.disabled = readOnly; });
  }
  function load() { call("GET").then(function (r) { if (r.ok) fill(r.body); }); }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var ladder = {}, limits = {};
    KINDS.forEach(function (k) { ladder[k[0]] = [Number($("pb-" + k[0] + "-low").value), Number($("pb-" + k[0] + "-high").value)]; });
    ROLES.forEach(function (r) { limits[r] = Number($("pb-limit-" + r).value); });
    var body = { ladder: ladder, limits: limits, review: { sample_per_agent: Number($("pb-sample").value),
      rubric: rubric.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean) } };
    call("PUT", body).then(function (r) {
      form.querySelectorAll(".err").forEach(function (n) { n.textContent = ""; });
      if (r.ok) { status.textContent = "Saved."; fill(r.body); return; }
      status.textContent = "Not saved: " + r.body.error;
      Object.keys(r.body.fields || {}).forEach(function (key) {
        var parts = key.split(".");
        for (var i = parts.length; i > 0; i--) {
          var n = form.querySelector('[data-err="' + parts.slice(0, i).join(".") + '"]');
          if (n) { n.textContent = r.body.fields[key]; break; }
        }
      });
    });
  });
  new MutationObserver(function () { if (!app.hidden) load(); }).observe(app, { attributes: true, attributeFilter: ["hidden"] });
  if (!app.hidden) load();
})();
