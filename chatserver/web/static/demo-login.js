/* The demo page's "log in as demo customer" switch. A shop's own page renders its logged-in
   customer into the widget tag, signed on its server; here the chat server signs the demo customer
   (GET /api/demo/customer, on the demo only). Without that endpoint the plain tag is added. */
(function () {
  "use strict";
  var KEY = "demo:customer";
  var button = document.getElementById("demo-login");
  var on = localStorage.getItem(KEY) === "1";

  function signed() {
    return fetch("/api/demo/customer").then(function (r) { return r.ok ? r.json() : null; });
  }
  function addWidget(customer) {
    var tag = document.createElement("script");
    tag.src = "/widget.js"; tag.async = true;
    tag.setAttribute("data-shop", "demo"); tag.setAttribute("data-shop-name", "Kitebay");
    if (customer) {
      ["id", "name", "email", "locale", "expires", "hash"].forEach(function (k) {
        tag.setAttribute("data-customer-" + k, customer[k] == null ? "" : String(customer[k]));
      });
    }
    document.body.appendChild(tag);
  }
  function label(customer) {
    button.textContent = customer
      ? button.getAttribute("data-logout").replace("{name}", customer.name)
      : button.getAttribute("data-login");
    button.setAttribute("aria-pressed", String(!!customer));
  }
  signed().then(function (customer) {
    if (!customer) return addWidget(null);
    button.hidden = false;
    label(on ? customer : null);
    addWidget(on ? customer : null);
    button.onclick = function () {
      on = !on;
      localStorage.setItem(KEY, on ? "1" : "0");
      if (!window.ChatWidget) return location.reload(); // the widget is still loading
      if (!on) { label(null); window.ChatWidget.identify(null); return; }
      signed().then(function (fresh) { label(fresh); window.ChatWidget.identify(fresh); });
    };
  }).catch(function () { addWidget(null); });
})();
