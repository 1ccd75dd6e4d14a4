/*
 * Comment counts for listing pages (issue #16):
 *   <a href="/markets/alibaba-ai#comments" data-comments-count="alibaba-ai-2025">Comments</a>
 *   <script src="https://COMMENTS-SERVICE/embed/count.js" defer></script>
 * Every element with data-comments-count="ARTICLE_ID" gets its text set to "No comments",
 * "1 comment", "12 comments" in its language (the nearest lang attribute; the strings come
 * from the widget's catalogues, plurals from Intl.PluralRules). Only the text changes: an
 * <a>'s href and every other attribute stay. One GET /api/v1/counts per 100 ids; an element
 * whose count cannot be had keeps the page's own text. CommentsCount.refresh() fills
 * elements added later. See docs/widget.md.
 */
(function () {
  "use strict";

  var SCRIPT = document.currentScript;
  var SRC = new URL(SCRIPT && SCRIPT.src ? SCRIPT.src : "/embed/count.js", location.href);
  var BASE = new URL(".", SRC).href;
  var API = ((SCRIPT && SCRIPT.getAttribute("data-api")) || SRC.origin).replace(/\/+$/, "").replace(/\/api\/v1$/, "") + "/api/v1";
  var LANGS = ["en", "de", "fr", "es", "ja", "zh-Hans"];
  var ARTICLE_ID = /^[A-Za-z0-9._:-]{1,200}$/;
  var PER_REQUEST = 100; // what GET /counts accepts
  // English; other languages come from /embed/i18n/<lang>.js, shared with the widget.
  var EN = {
    count_none: "No comments", count_some: { one: "{n} comment", other: "{n} comments" },
  };
  var I18N = window.CommentsI18n = window.CommentsI18n || {};
  var loading = {};

  /** The supported catalogue for a BCP 47 tag, as the widget picks it. */
  function pickLang(tag) {
    tag = (tag || "").toLowerCase();
    if (/^zh(-hans|-cn|-sg|$)/.test(tag)) return "zh-Hans";
    var base = tag.split("-")[0];
    return LANGS.indexOf(base) > 0 && base !== "zh" ? base : "en";
  }

  function loadCatalogue(lang) {
    if (lang === "en" || I18N[lang]) return Promise.resolve();
    loading[lang] = loading[lang] || new Promise(function (resolve) {
      var s = document.createElement("script");
      s.src = BASE + "i18n/" + lang + ".js";
      s.async = true;
      s.onload = s.onerror = function () { resolve(); };
      document.head.append(s);
    });
    return loading[lang];
  }

  function label(lang, n) {
    var strings = I18N[lang] || {};
    if (!n) return strings.count_none || EN.count_none;
    var forms = strings.count_some || EN.count_some;
    var text = forms[new Intl.PluralRules(lang).select(n)] || forms.other;
    return text.replace("{n}", new Intl.NumberFormat(lang).format(n));
  }

  function fetchCounts(ids) {
    var query = ids.map(function (id) { return "article_id=" + encodeURIComponent(id); }).join("&");
    return fetch(API + "/counts?" + query, { credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("GET /counts answered " + r.status);
        return r.json();
      })
      .then(function (data) { return data.counts || {}; }, function (err) {
        console.error("Comments count badges: " + err.message);
        return {};
      });
  }

  /** Fill every badge under ``root`` (default: the document); resolves when done. */
  function refresh(root) {
    var elements = Array.prototype.slice.call((root || document).querySelectorAll("[data-comments-count]"));
    var seen = {};
    var ids = [];
    elements.forEach(function (e) {
      var id = e.getAttribute("data-comments-count");
      if (ARTICLE_ID.test(id) && !seen[id]) ids.push(seen[id] = id);
    });
    var batches = [];
    for (var i = 0; i < ids.length; i += PER_REQUEST) batches.push(fetchCounts(ids.slice(i, i + PER_REQUEST)));
    var langs = elements.map(function (e) {
      var owner = e.closest("[lang]");
      return pickLang(owner && owner.getAttribute("lang"));
    });
    return Promise.all(batches.concat(langs.map(loadCatalogue))).then(function (results) {
      var counts = Object.assign.apply(Object, [{}].concat(results.slice(0, batches.length)));
      elements.forEach(function (e, i) {
        var count = counts[e.getAttribute("data-comments-count")];
        if (!count) return;
        e.textContent = label(langs[i], count.comments);
        e.setAttribute("data-comments-counted", String(count.comments));
      });
    });
  }

  window.CommentsCount = { refresh: refresh };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { refresh(); });
  else refresh();
})();
