// Site search: fetches the JSON index that the build writes (/index.json) on first
// use and searches it in the page. No dependencies, no network beyond this site.
(function () {
  "use strict";
  var input = document.getElementById("search-input");
  var box = document.getElementById("search-results");
  if (!input || !box) return;
  var index = null;
  var loading = null;
  var selected = -1;

  function load() {
    if (index) return Promise.resolve(index);
    if (!loading) {
      loading = fetch(input.getAttribute("data-index"), { credentials: "same-origin" })
        .then(function (r) {
          if (!r.ok) throw new Error("search index: HTTP " + r.status);
          return r.json();
        })
        .then(function (data) {
          index = data.map(function (p) {
            return {
              page: p,
              title: (p.title || "").toLowerCase(),
              content: (p.content || "").toLowerCase(),
              headings: (p.headings || []).map(function (h) {
                return { id: h.id, title: h.title, lower: (h.title || "").toLowerCase() };
              }),
            };
          });
          return index;
        });
    }
    return loading;
  }

  function tokens(query) {
    return query.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
  }

  function count(haystack, needle) {
    var n = 0, i = haystack.indexOf(needle);
    while (i !== -1 && n < 20) { n += 1; i = haystack.indexOf(needle, i + needle.length); }
    return n;
  }

  function search(query) {
    var words = tokens(query);
    if (!words.length || !index) return [];
    var hits = [];
    index.forEach(function (entry) {
      var score = 0, all = true;
      words.forEach(function (w) {
        var inTitle = entry.title.indexOf(w) !== -1;
        var inBody = entry.content.indexOf(w) !== -1;
        var inHeading = entry.headings.some(function (h) { return h.lower.indexOf(w) !== -1; });
        if (!inTitle && !inBody && !inHeading) { all = false; return; }
        score += (inTitle ? 10 : 0) + (inHeading ? 6 : 0) + Math.min(count(entry.content, w), 8);
      });
      if (!all) return;
      var best = null, bestScore = 0;
      entry.headings.forEach(function (h) {
        var s = 0;
        words.forEach(function (w) {
          if (h.lower === w) s += 3;
          else if (h.lower.indexOf(w) !== -1) s += 1;
        });
        if (s > bestScore || (s === bestScore && s > 0 && best && h.title.length < best.title.length)) {
          best = h; bestScore = s;
        }
      });
      hits.push({ entry: entry, score: score + bestScore, heading: best });
    });
    hits.sort(function (a, b) { return b.score - a.score || a.entry.title.localeCompare(b.entry.title); });
    return hits.slice(0, 10);
  }

  function snippet(entry, words, heading) {
    var text = entry.page.content || "";
    var lower = entry.content;
    var at = heading ? lower.indexOf(heading.lower) : -1;
    if (at === -1) words.some(function (w) { at = lower.indexOf(w); return at !== -1; });
    if (at === -1) return text.slice(0, 140);
    var start = Math.max(0, at - 60);
    var end = Math.min(text.length, at + 100);
    return (start > 0 ? "… " : "") + text.slice(start, end).replace(/\s+/g, " ") + (end < text.length ? " …" : "");
  }

  function highlight(el, text, words) {
    var lower = text.toLowerCase();
    var pos = 0;
    while (pos < text.length) {
      var next = -1, len = 0;
      words.forEach(function (w) {
        var i = lower.indexOf(w, pos);
        if (i !== -1 && (next === -1 || i < next)) { next = i; len = w.length; }
      });
      if (next === -1) { el.appendChild(document.createTextNode(text.slice(pos))); break; }
      if (next > pos) el.appendChild(document.createTextNode(text.slice(pos, next)));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(next, next + len);
      el.appendChild(mark);
      pos = next + len;
    }
  }

  function render(query) {
    var words = tokens(query);
    box.textContent = "";
    selected = -1;
    if (!words.length) { hide(); return; }
    var hits = search(query);
    if (!hits.length) {
      var empty = document.createElement("div");
      empty.className = "r-empty";
      empty.textContent = "No results for “" + query + "”";
      box.appendChild(empty);
    }
    hits.forEach(function (hit) {
      var a = document.createElement("a");
      a.className = "search-result";
      a.setAttribute("role", "option");
      a.href = hit.entry.page.url + (hit.heading ? "#" + encodeURIComponent(hit.heading.id) : "");
      var title = document.createElement("span");
      title.className = "r-title";
      title.textContent = hit.entry.page.title + (hit.heading ? " › " + hit.heading.title : "");
      a.appendChild(title);
      if (hit.entry.page.section) {
        var where = document.createElement("span");
        where.className = "r-where";
        where.textContent = hit.entry.page.section;
        a.appendChild(where);
      }
      var snip = document.createElement("span");
      snip.className = "r-snippet";
      highlight(snip, snippet(hit.entry, words, hit.heading), words);
      a.appendChild(snip);
      box.appendChild(a);
    });
    box.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function hide() {
    box.hidden = true;
    input.setAttribute("aria-expanded", "false");
  }

  function move(step) {
    var links = box.querySelectorAll("a.search-result");
    if (!links.length) return;
    if (selected >= 0) links[selected].classList.remove("selected");
    selected = (selected + step + links.length) % links.length;
    links[selected].classList.add("selected");
    links[selected].scrollIntoView({ block: "nearest" });
  }

  input.addEventListener("focus", function () { load().catch(function () {}); });
  input.addEventListener("input", function () {
    var query = input.value;
    load().then(function () { if (input.value === query) render(query); }, function (err) {
      box.textContent = String(err);
      box.hidden = false;
    });
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
    else if (e.key === "Escape") { input.value = ""; hide(); }
    else if (e.key === "Enter") {
      var links = box.querySelectorAll("a.search-result");
      var target = links[selected >= 0 ? selected : 0];
      if (target) { e.preventDefault(); window.location.href = target.href; }
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement !== input && !/input|textarea/i.test(e.target.tagName)) {
      e.preventDefault();
      input.focus();
    }
  });
  document.addEventListener("click", function (e) {
    if (!box.contains(e.target) && e.target !== input) hide();
  });
})();
