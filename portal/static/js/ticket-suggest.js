// Contact form: while the customer types the subject, show matching articles beside the form
// (GET /api/suggest?q=). Opening one carries the query, so the article page can record that
// the customer came from the ticket form and let them say it solved the problem.
(function () {
  "use strict";
  var input = document.getElementById("subject");
  var list = document.getElementById("ticket-suggestions");
  if (!input || !list) { return; }
  var url = input.getAttribute("data-suggest-url");
  if (!url) { return; }
  var timer = null;
  var last = "";
  var pending = null;

  function show(items, query) {
    list.textContent = "";
    if (!items.length) {
      var empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = list.getAttribute("data-empty") || "";
      list.appendChild(empty);
      return;
    }
    items.forEach(function (item) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      var sep = item.url.indexOf("?") === -1 ? "?" : "&";
      a.href = item.url + sep + "q=" + encodeURIComponent(query);
      a.textContent = item.title;
      li.appendChild(a);
      list.appendChild(li);
    });
  }

  function lookup() {
    var query = input.value.trim();
    if (query === last) { return; }
    last = query;
    if (query.length < 3) { show([], query); return; }
    if (pending && pending.abort) { pending.abort(); }
    pending = window.AbortController ? new AbortController() : null;
    fetch(url + "?q=" + encodeURIComponent(query), {
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
      signal: pending ? pending.signal : undefined
    }).then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
      .then(function (data) { if (query === last) { show(data.suggestions || [], query); } })
      .catch(function () { /* a failed lookup must not disturb the form */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, 250);
  });
  if (input.value.trim()) { lookup(); }
})();
