/* "Close with..." in the console's composer: closing messages by situation (solved, pending,
   upset customer, out of hours, asking for the rating) in the open conversation's language, from
   GET /api/playbook/closings. Choosing one puts it in the reply box to edit and send.
   Needs console.js (window.ConsoleChat) loaded first. */
(function () {
  "use strict";
  var reply = document.getElementById("reply");
  var tabs = reply && reply.closest(".composer").querySelector(".tabs");
  if (!tabs || !window.ConsoleChat) return;
  var picker = document.createElement("select");
  picker.id = "closings";
  picker.className = "closings";
  var prompt = document.createElement("option");
  prompt.value = "";
  prompt.setAttribute("data-t", "c.close_with"); // filled in by the console's translation pass
  picker.appendChild(prompt);
  tabs.appendChild(picker);
  var book = {};

  function closingsFor(locale) {
    var base = (locale || "en").split(/[-_]/)[0].toLowerCase();
    var codes = Object.keys(book);
    var code = codes.filter(function (c) { return c.toLowerCase() === (locale || "").toLowerCase(); })[0]
      || codes.filter(function (c) { return c.split("-")[0] === base; })[0] || "en";
    return book[code] || [];
  }

  function fill() {
    var c = window.ConsoleChat.current();
    picker.setAttribute("aria-label", window.ConsoleChat.t("c.close_with"));
    while (picker.options.length > 1) picker.remove(1);
    closingsFor(c && c.locale).forEach(function (closing, i) {
      var option = document.createElement("option");
      option.value = String(i);
      option.textContent = closing.title;
      option.setAttribute("data-situation", closing.situation);
      picker.appendChild(option);
    });
  }

  picker.addEventListener("focus", fill);
  picker.addEventListener("pointerdown", fill);
  picker.addEventListener("change", function () {
    var c = window.ConsoleChat.current(), chosen = closingsFor(c && c.locale)[+picker.value];
    picker.value = "";
    if (!chosen) return;
    reply.value = chosen.text;
    reply.dispatchEvent(new Event("input", { bubbles: true })); // the tone coach and typing see it
    reply.focus();
  });
  fetch("/api/playbook/closings").then(function (r) { return r.json(); }).then(function (all) {
    all.languages.forEach(function (lang) { book[lang.lang] = lang.closings; });
    fill();
  }).catch(function () { /* no closings: the rest of the console works as ever */ });
})();
