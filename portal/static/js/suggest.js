// Search-as-you-type under every search box that names a suggest URL (data-suggest-url).
// Plain JavaScript, no inline code (the Content-Security-Policy forbids it).
(function () {
  "use strict";
  function debounce(fn, ms) {
    var t;
    return function () { var a = arguments; clearTimeout(t); t = setTimeout(function () { fn.apply(null, a); }, ms); };
  }
  var pageLang = (document.documentElement.getAttribute("lang") || "").slice(0, 2);
  function setup(input) {
    var url = input.getAttribute("data-suggest-url");
    var list = document.getElementById(input.getAttribute("aria-controls") || "suggestions");
    if (!url || !list) return;
    var active = -1, seq = 0;
    function close() { list.hidden = true; list.textContent = ""; active = -1; input.setAttribute("aria-expanded", "false"); }
    function render(items) {
      list.textContent = "";
      items.forEach(function (s, i) {
        var li = document.createElement("li"), a = document.createElement("a");
        li.setAttribute("role", "option");
        a.href = s.url; a.textContent = s.title; a.id = "sugg-" + i;
        if (s.locale && s.locale !== pageLang) {
          // no version in the visitor's language matched: say which language this one is in
          var tag = document.createElement("span");
          tag.className = "lang-tag"; tag.textContent = s.locale.toUpperCase();
          a.lang = s.locale; a.appendChild(document.createTextNode(" ")); a.appendChild(tag);
        }
        li.appendChild(a); list.appendChild(li);
      });
      list.hidden = items.length === 0;
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
    }
    var fetchSuggestions = debounce(function (q) {
      var mine = ++seq;
      fetch(url + "?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) { if (mine === seq) render(data.suggestions || []); })
        .catch(close);
    }, 150);
    input.addEventListener("input", function () {
      var q = input.value.trim();
      if (q.length < 2) { seq++; close(); return; }
      fetchSuggestions(q);
    });
    input.addEventListener("keydown", function (e) {
      var links = list.querySelectorAll("a");
      if (list.hidden || !links.length) return;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (active >= 0) links[active].removeAttribute("aria-selected");
        active = (active + (e.key === "ArrowDown" ? 1 : -1) + links.length) % links.length;
        links[active].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", links[active].id);
      } else if (e.key === "Enter" && active >= 0) {
        e.preventDefault(); window.location.href = links[active].href;
      } else if (e.key === "Escape") { close(); }
    });
    document.addEventListener("click", function (e) { if (e.target !== input && !list.contains(e.target)) close(); });
  }
  document.querySelectorAll("input[data-suggest-url]").forEach(setup);
})();
