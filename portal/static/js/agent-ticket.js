// The agent's ticket page: presence polling (who else is viewing, and whether the ticket
// changed), canned responses and one-click article links, and a draft kept across reloads.
(function () {
  "use strict";
  var root = document.getElementById("agent-ticket");
  if (!root) { return; }
  var body = document.getElementById("body");
  var ticketId = root.getAttribute("data-ticket");
  var seenVersion = parseInt(root.getAttribute("data-version"), 10);
  var draftKey = "sportello-draft-" + ticketId;
  var POLL_MS = 10000;

  function insertText(text) {
    if (!body) { return; }
    var start = body.selectionStart || body.value.length;
    var end = body.selectionEnd || body.value.length;
    var before = body.value.slice(0, start);
    var glue = before && !/\s$/.test(before) ? " " : "";
    body.value = before + glue + text + body.value.slice(end);
    body.focus();
    var pos = (before + glue + text).length;
    body.setSelectionRange(pos, pos);
    saveDraft();
  }

  // Draft: kept in this tab's storage so that a reload (e.g. after "the ticket changed") loses nothing.
  function saveDraft() {
    try { if (body) { sessionStorage.setItem(draftKey, body.value); } } catch (e) { /* storage off */ }
  }
  if (body) {
    try {
      var saved = sessionStorage.getItem(draftKey);
      if (saved && !body.value) { body.value = saved; }
    } catch (e) { /* storage off */ }
    body.addEventListener("input", saveDraft);
    var form = document.getElementById("reply-form");
    if (form) {
      form.addEventListener("submit", function () {
        try { sessionStorage.removeItem(draftKey); } catch (e) { /* storage off */ }
      });
    }
  }
  // A conflict page re-renders the unsent text: keep it as the draft too.
  if (document.getElementById("conflict-h")) { saveDraft(); }

  var cannedButton = document.getElementById("canned-insert");
  if (cannedButton) {
    cannedButton.addEventListener("click", function () {
      var select = document.getElementById("canned-select");
      var tpl = select && select.value ? document.getElementById("canned-" + select.value) : null;
      if (tpl) { insertText(tpl.content ? tpl.content.textContent : tpl.textContent); }
    });
  }

  function articleLink(title, url) { return "[" + title + "](" + url + ")"; }
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest ? ev.target.closest(".insert-article") : null;
    if (btn) { insertText(articleLink(btn.getAttribute("data-title"), btn.getAttribute("data-url"))); }
  });

  var search = document.getElementById("article-search");
  var results = document.getElementById("insert-articles");
  if (search && results) {
    var timer = null;
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = search.value.trim();
        if (q.length < 2) { return; }
        fetch(search.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(q), {
          headers: { "Accept": "application/json" }, credentials: "same-origin"
        }).then(function (r) { return r.ok ? r.json() : { suggestions: [] }; }).then(function (data) {
          results.textContent = "";
          (data.suggestions || []).forEach(function (s) {
            var li = document.createElement("li");
            var b = document.createElement("button");
            b.type = "button";
            b.className = "link insert-article";
            b.setAttribute("data-title", s.title);
            b.setAttribute("data-url", new URL(s.url, window.location.href).href);
            b.textContent = search.getAttribute("data-insert-label") || "Insert";
            var a = document.createElement("a");
            a.href = s.url;
            a.textContent = " " + s.title;
            li.appendChild(b);
            li.appendChild(a);
            results.appendChild(li);
          });
        }).catch(function () { /* ignore */ });
      }, 250);
    });
  }

  // Presence: say we are here (and typing or not), learn who else is, and notice changes.
  var presence = document.getElementById("presence");
  var banner = document.getElementById("changed-banner");
  var url = root.getAttribute("data-presence-url");
  var csrf = root.getAttribute("data-csrf");

  function ping(extra) {
    var payload = extra || { composing: !!(body && body.value.trim()) };
    return fetch(url, {
      method: "POST", credentials: "same-origin", keepalive: !!(extra && extra.leaving),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(payload)
    });
  }

  function render(data) {
    if (!presence || !data.viewers) { return; }
    presence.textContent = "";
    if (data.viewers.length) {
      presence.appendChild(document.createTextNode(root.getAttribute("data-viewing-text") + " "));
      data.viewers.forEach(function (v) {
        var span = document.createElement("span");
        span.className = "viewer";
        span.textContent = v.name + (v.composing ? " (" + root.getAttribute("data-typing-text") + ")" : "");
        presence.appendChild(span);
      });
    }
    if (banner && data.version > seenVersion) {
      banner.textContent = root.getAttribute("data-changed-text");
      banner.hidden = false;
    }
  }

  function poll() {
    if (document.hidden) { return; }
    ping().then(function (r) { return r.ok ? r.json() : {}; }).then(render).catch(function () { /* retry later */ });
  }
  setInterval(poll, POLL_MS);
  window.addEventListener("pagehide", function () { ping({ leaving: true }).catch(function () {}); });
})();
