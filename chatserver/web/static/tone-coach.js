/* The tone coach in the console's reply box: as the agent types, phrasing that puts effort or
   blame on the customer is shown underlined with a better wording. It never blocks sending.
   The rules are the shop's data (GET /api/playbook/tone), every language at once: agents write
   in the shopper's language. */
(function () {
  "use strict";
  var reply = document.getElementById("reply");
  if (!reply) return;
  var hint = document.createElement("div");
  hint.className = "tone-hint";
  hint.setAttribute("role", "status");
  hint.setAttribute("aria-live", "polite");
  reply.closest(".composer").appendChild(hint);
  var rules = [];
  var edge = "[\\p{L}\\p{N}_]";

  function compile(book) {
    rules = [];
    book.languages.forEach(function (lang) {
      lang.rules.forEach(function (rule) {
        var source = lang.boundaries
          ? "(?<!" + edge + ")(?:" + rule.pattern + ")(?!" + edge + ")"
          : "(?:" + rule.pattern + ")";
        try { rules.push({ re: new RegExp(source, "giu"), suggestion: rule.suggestion, why: rule.why }); }
        catch (e) { /* a rule this browser cannot read is skipped */ }
      });
    });
  }

  function flags(text) {
    var found = [];
    rules.forEach(function (rule) {
      rule.re.lastIndex = 0;
      var m;
      while ((m = rule.re.exec(text)) !== null) {
        if (!m[0]) { rule.re.lastIndex++; continue; }
        found.push({ at: m.index, text: m[0], suggestion: rule.suggestion, why: rule.why });
      }
    });
    return found.sort(function (a, b) { return a.at - b.at; });
  }

  function render() {
    hint.textContent = "";
    flags(reply.value).forEach(function (flag) {
      var item = document.createElement("span");
      item.className = "tone-flag";
      item.title = flag.why;
      var phrase = document.createElement("u");
      phrase.textContent = flag.text;
      var better = document.createElement("b");
      better.textContent = flag.suggestion;
      item.append(phrase, " \u2192 ", better);
      hint.appendChild(item);
    });
    hint.hidden = !hint.firstChild;
  }

  // The console also sets the box itself (a canned reply, a sent message cleared): look again
  // whenever the text differs from what was last checked.
  var seen = null;
  function maybe() { if (reply.value !== seen) { seen = reply.value; render(); } }
  reply.addEventListener("input", maybe);
  reply.addEventListener("keyup", maybe);
  setInterval(maybe, 400);
  // The shop edits its rules on /admin: an open console reads them again at most once a minute,
  // when the agent comes back to the reply box.
  var fetched = 0;
  function fetchRules() {
    fetched = Date.now();
    fetch("/api/playbook/tone").then(function (r) { return r.json(); }).then(function (book) {
      compile(book);
      seen = null;
      maybe();
    }).catch(function () { /* no coach: sending works as ever */ });
  }
  reply.addEventListener("focus", function () { if (Date.now() - fetched > 60000) fetchRules(); });
  fetchRules();
})();
