/*
 * Comments widget: <comments-thread article-id="ID"></comments-thread> (or the older
 *   <div data-comments-article="ID"></div>) and
 *   <script src="https://COMMENTS-SERVICE/embed/comments.js" defer></script>
 * A custom element with an open shadow root: host styles cannot reach in; the page themes it
 * through inherited --cw-* custom properties and ::part(). Plain JavaScript, no dependencies,
 * no cookies, no third-party requests. Only body_html (sanitised by the server) is inserted
 * as HTML; every other string goes through textContent. See docs/widget.md.
 */
(function () {
  "use strict";

  if (window.CommentsWidget) {
    window.CommentsWidget.mountAll();
    return;
  }

  var SCRIPT = document.currentScript;
  var SRC = SCRIPT && SCRIPT.src ? new URL(SCRIPT.src, location.href) : new URL("/embed/comments.js", location.href);
  var BASE = new URL(".", SRC).href; // where comments.css and i18n/*.js live
  var SORTS = ["newest", "oldest", "top", "best", "controversial", "hot"];
  var VOTES = { like: 1, dislike: 1 };
  var ICONS = { insightful: "\uD83D\uDCA1", funny: "\uD83D\uDE04", agree: "\u2714\uFE0E", disagree: "\u2716\uFE0E" };
  var LANGS = ["en", "de", "fr", "es", "ja", "zh-Hans"];
  var TOKENS_KEY = "comments-widget:edit-tokens";
  var NAME_KEY = "comments-widget:guest-name";
  var SEEN_KEY = "comments-widget:seen"; // {"api|article": [newest comment id shown, when]}
  var SEEN_MAX = 200;
  var LIVE_IDLE_MS = 5 * 60000; // a hidden page keeps its stream this long
  // English, the catalogue every other one falls back to. {n} is a number, formatted for the
  // language; an object is chosen by Intl.PluralRules.
  var EN = {
    comments: "Comments", skip: "Skip past the comments", end: "End of comments",
    sort: "Sort comments", newest: "Newest", oldest: "Oldest", top: "Top", best: "Best", controversial: "Controversial",
    hot: "Hot", // surge mode (issue #18): the slow-mode and premoderation notices
    slow_mode: { one: "Slow mode is on: each reader may post one comment every {n} second.", other: "Slow mode is on: each reader may post one comment every {n} seconds." },
    premoderated: "New comments are reviewed by a moderator before they appear.",
    slow_wait: { one: "Slow mode: you can post again in {n} second.", other: "Slow mode: you can post again in {n} seconds." },
    empty: "Be the first to comment: what is your take on this story?",
    empty_closed: "No one commented before the discussion closed.",
    empty_signin: "Be the first to comment: sign in and share your take on this story.",
    more: "Load more comments",
    more_replies: { one: "Show {n} more reply", other: "Show {n} more replies" },
    hide_replies: "Hide replies", show_replies: { one: "Show {n} reply", other: "Show {n} replies" },
    deleted: "This comment was deleted by its author.", removed: "This comment was removed by a moderator.",
    moderator: "Moderator", guest: "Guest", pinned: "Pinned", edited: "(edited)", edited_at: "Edited {date}",
    held: "Held for review: only you can see this comment until a moderator approves it.",
    actions: "Comment by {name}", like: "Like", dislike: "Dislike", score: "Score",
    react: "React", react_to: "Add a reaction", insightful: "Insightful", funny: "Funny", agree: "Agree", disagree: "Disagree",
    reply: "Reply", edit: "Edit", delete: "Delete", remove: "Remove", report: "Report",
    closed: "Comments on this article are closed.", signin_join: "Sign in to join the conversation.",
    signin: "Sign in", signin_comment: "Sign in to comment", session_over: "Your sign-in has expired or is not valid; you can still read the comments.",
    signin_react: "Sign in to vote or react.", signin_report: "Sign in to report a comment.",
    banned: "You cannot comment here.", your_comment: "Your comment", your_name: "Your name",
    post: "Post comment", post_reply: "Post reply", reply_to: "Reply to {name}", edit_yours: "Edit your comment",
    save: "Save changes", cancel: "Cancel", preview: "Preview", nothing_preview: "Nothing to preview yet.",
    hint: "Markdown works: **bold**, _italic_, [links](https://example.com).", guest_hint: "Posting as a guest.",
    left: { one: "{n} character left", other: "{n} characters left" },
    need_name: "Give your name.", need_body: "Write something first.",
    posted: "Your comment was posted.", posted_held: "Thanks. Your comment is held for review and will appear once a moderator approves it.",
    saved: "Your changes were saved.", ask_delete: "Delete this comment?", ask_remove: "Remove this comment as a moderator?",
    yes_delete: "Yes, delete", yes_remove: "Yes, remove", keep: "Keep it",
    was_deleted: "Your comment was deleted.", was_removed: "The comment was removed.",
    report_title: "Report this comment", why: "Why should a moderator look at it?",
    note: "Anything else a moderator should know? (optional)", send: "Send report", choose: "Choose a reason.",
    reported: "Thank you. A moderator will review this comment.", reported_again: "You had already reported this comment; a moderator will review it.",
    spam: "Spam or advertising", abuse: "Abusive or insulting", harassment: "Harassment of a person", hate: "Hate speech",
    misinformation: "False or misleading", off_topic: "Off topic", other: "Something else",
    too_many: { one: "Too many attempts. Try again in {n} second.", other: "Too many attempts. Try again in {n} seconds." },
    try_now: "You can try again now.",
    offline: "Could not reach the comments service. Check your connection and try again.",
    unavailable: "Comments are unavailable on this site.",
    broken: "Something went wrong in the comments widget. Reload the page and try again.",
    answered: "The comments service answered {n}.", just_now: "just now",
    pin: "Pin", unpin: "Unpin", ban: "Ban author", ask_ban: "Ban {name} from commenting?", ban_reason: "Reason",
    yes_ban: "Yes, ban", was_pinned: "The comment was pinned.", was_unpinned: "The comment was unpinned.", was_banned: "{name} is banned.",
    discloses: "Discloses: {list}", long: "long", short: "short", none: "none", undisclosed: "not disclosed",
    position: "Your position (optional)", position_required: "Your position (required)",
    need_position: "Disclose your position in the stocks you mention.", history: "Edit history", version_of: "Version of {date}",
    new_comments: { one: "{n} new comment", other: "{n} new comments" }, show_new: "Show", new_badge: "New",
    copy_link: "Copy link", link_copied: "Link copied.", copy_this: "Copy the link yourself:",
    link_gone: "The comment this link points to is not available.",
  };
  // Notifications (#15): the bell, its panel, following a thread, muting a person.
  Object.assign(EN, {
    notifications: "Notifications", bell: { one: "Notifications, {n} unread", other: "Notifications, {n} unread" },
    no_notes: "Nothing new. Replies to your comments and mentions of your name appear here.",
    mark_all: "Mark all as read", close: "Close", more_notes: "Show older notifications", unread_mark: "Unread",
    n_reply: "{name} replied to your comment", n_mention: "{name} mentioned you", n_thread: "{name} commented in a thread you follow",
    n_approved: "A moderator approved your comment", n_removed: "A moderator removed your comment", n_gone: "This comment is no longer available.",
    follow: "Follow thread", following: "Following thread", followed: "You follow this thread: new comments will notify you.",
    unfollowed: "You no longer follow this thread.",
    mute: "Mute", unmute: "Unmute", was_muted: "{name} is muted: their comments are collapsed and never notify you.",
    was_unmuted: "{name} is no longer muted.", muted_note: "You muted {name}.", show_comment: "Show comment",
    settings: "Settings", set_follow: "Follow threads I comment in", set_email: "E-mail me replies and mentions",
    saved_settings: "Settings saved.", banned_why: "Reason: {reason}", banned_until: "Until {date}.",
    not_found: "That comment is no longer available.",
  });
  var CATALOGUES = window.CommentsI18n = window.CommentsI18n || {}; // shared with count.js
  CATALOGUES.en = EN;
  var loading = {};
  var configs = {};
  var widgets = [];
  var counter = 0;

  // --- small helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) node.append(child);
    });
    return node;
  }

  function btn(cls, text, onclick, attrs) {
    return el("button", Object.assign({ type: "button", class: cls, text: text, onclick: onclick, part: "button" }, attrs || {}));
  }

  var enc = encodeURIComponent;

  // Cashtags roughly as the server reads them (domain/markets.py: not in code or links).
  var CASHTAG = /(^|[^\w$\/.@])\$([A-Za-z]{1,6}(\.[A-Za-z0-9]{1,4})?|[0-9]{1,6}\.[A-Za-z]{1,4})(?![A-Za-z0-9]|\.[A-Za-z0-9])/g;

  function cashtags(text) {
    var out = [];
    text.replace(/```[\s\S]*?(```|$)|`[^`]*`|\]\([^)]*\)|https?:\S+/g, " ").replace(CASHTAG, function (_, b, s) {
      s = s.toUpperCase();
      if (out.indexOf(s) < 0) out.push(s);
    });
    return out;
  }

  function store(kind, key, fallback) {
    try { return JSON.parse(window[kind].getItem(key)) || fallback; } catch (e) { return fallback; }
  }

  function keep(kind, key, value) {
    try {
      if (value === null) window[kind].removeItem(key);
      else window[kind].setItem(key, JSON.stringify(value));
    } catch (e) { /* storage off or full: nothing to keep */ }
  }

  // A guest's edit tokens, {comment id: {token, until}} (until: ms since the epoch), kept
  // only while the comment's edit window is open: every read drops the lapsed ones (and
  // entries from before times were stored), and each widget reads them when it loads.
  function editTokens() {
    var all = store("localStorage", TOKENS_KEY, {});
    var now = Date.now();
    var kept = {};
    var pruned = false;
    Object.keys(all).forEach(function (id) {
      var entry = all[id];
      if (entry && typeof entry.token === "string" && entry.until > now) kept[id] = entry;
      else pruned = true;
    });
    if (pruned) keep("localStorage", TOKENS_KEY, Object.keys(kept).length ? kept : null);
    return kept;
  }

  function editToken(id) {
    var entry = editTokens()[id];
    return entry ? entry.token : null;
  }

  function keepEditToken(id, token, windowSeconds) {
    var tokens = editTokens();
    tokens[id] = { token: token, until: Date.now() + windowSeconds * 1000 };
    keep("localStorage", TOKENS_KEY, tokens);
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  /** The claims of a JWT, unverified: only to know which comments are the reader's own. */
  function claims(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      while (part.length % 4) part += "=";
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), function (ch) { return ch.charCodeAt(0); })));
    } catch (e) {
      return null;
    }
  }

  function identity(token) {
    if (!token) return null;
    var c = claims(token) || {};
    var roles = [].concat(c.roles || []);
    return { id: c.sub || null, name: c.name || c.sub || "", moderator: roles.indexOf("moderator") >= 0 || roles.indexOf("admin") >= 0 };
  }

  /** The supported catalogue for a BCP 47 tag: "de-CH" -> "de", "zh-CN" -> "zh-Hans". */
  function pickLang(tag) {
    tag = (tag || "").toLowerCase();
    if (/^zh(-hans|-cn|-sg|$)/.test(tag)) return "zh-Hans";
    var base = tag.split("-")[0];
    return LANGS.indexOf(base) > 0 && base !== "zh" ? base : "en";
  }

  function loadCatalogue(lang) {
    if (CATALOGUES[lang]) return Promise.resolve();
    loading[lang] = loading[lang] || new Promise(function (resolve) {
      var s = el("script", { src: BASE + "i18n/" + lang + ".js", async: true });
      s.onload = s.onerror = function () { resolve(); };
      document.head.append(s);
    });
    return loading[lang];
  }

  function ApiError(status, message, retryAfter, type) {
    this.status = status;
    this.message = message;
    this.retryAfter = retryAfter;
    this.type = type || "";
  }

  // Live regions announce every change: a countdown's number changes silently in its own span.
  function countdown(node, seconds, w, key) {
    var n = Math.max(1, seconds);
    var num = el("span", { "aria-live": "off" });
    node.replaceChildren(num);
    var show = function () {
      if (!node.isConnected || node.firstChild !== num) return clearInterval(timer);
      if (n <= 0) { clearInterval(timer); node.textContent = w.t("try_now"); return; }
      num.textContent = w.t(key || "too_many", n);
      n--;
    };
    var timer = setInterval(show, 1000);
    show();
  }

  /** Show what went wrong in ``node`` (next to its cause); a 429 counts down. */
  function fail(node, err, w) {
    if (err instanceof ApiError && err.status === 429) return countdown(node, err.retryAfter || 30, w, err.type === "slow-mode" ? "slow_wait" : null);
    node.textContent = err instanceof ApiError ? err.message : w.t("broken");
    if (!(err instanceof ApiError)) setTimeout(function () { throw err; });
  }

  // Arrow keys move inside a toolbar; only one of its buttons is a tab stop.
  function rove(bar) {
    bar.addEventListener("keydown", function (e) {
      var items = Array.prototype.filter.call(bar.querySelectorAll("button"), function (b) { return !b.closest("[hidden]"); });
      var i = items.indexOf(e.target);
      var steps = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: items.length - 1 };
      if (i < 0 || !(e.key in steps)) return;
      e.preventDefault();
      items[(steps[e.key] + items.length) % items.length].focus();
    });
    bar.addEventListener("focusin", function (e) { if (e.target.tagName === "BUTTON") settle(bar, e.target); });
  }

  function settle(bar, current) {
    var items = bar.querySelectorAll("button");
    current = current && current.parentNode ? current : bar.querySelector("[aria-pressed=true]") || items[0];
    Array.prototype.forEach.call(items, function (b) { b.tabIndex = b === current ? 0 : -1; });
  }

  // --- one widget per <comments-thread>

  function Widget(host) {
    this.host = host;
    this.n = ++counter;
    this.nodes = new Map();
    this.shadow = host.shadowRoot || host.attachShadow({ mode: "open" });
    widgets.push(this);
    this.load();
  }

  var P = Widget.prototype;

  P.attr = function (name) {
    return this.host.getAttribute(name) || this.host.getAttribute("data-" + name) || (SCRIPT && SCRIPT.getAttribute("data-" + name));
  };

  P.t = function (key, n, vars) {
    var text = (CATALOGUES[this.lang] || EN)[key] || EN[key] || key;
    if (typeof text === "object") text = text[this.plural.select(n)] || text.other;
    var self = this;
    return text.replace(/\{(\w+)\}/g, function (_, name) {
      return name === "n" ? self.num.format(n) : (vars || {})[name];
    });
  };

  P.emit = function (name, detail) {
    return this.host.dispatchEvent(new CustomEvent("comments:" + name, {
      detail: Object.assign({ articleId: this.articleId }, detail), bubbles: true, composed: true, cancelable: true,
    }));
  };

  /** The host's sign-in: an event first; CommentsAuth.signIn() unless the host took it. */
  P.signIn = function (reason) {
    var auth = window.CommentsAuth;
    if (this.emit("signin-required", { reason: reason }) && auth && typeof auth.signIn === "function") auth.signIn();
  };

  P.token = function () {
    if (this.anon) return Promise.resolve(null);
    var fixed = this.attr("token");
    if (fixed) return Promise.resolve(fixed);
    var auth = window.CommentsAuth;
    if (!auth || typeof auth.getToken !== "function") return Promise.resolve(null);
    return Promise.resolve().then(function () { return auth.getToken(); })
      .then(function (t) { return t || null; }, function () { return null; });
  };

  /** One API call (``anon``: without the reader's token): resolves {status, data}; rejects
   *  with an ApiError carrying the detail. */
  P.call = function (method, path, body, headers, anon) {
    var self = this;
    return (anon ? Promise.resolve(null) : this.token()).then(function (token) {
      var h = Object.assign({ Accept: "application/json" }, headers || {});
      if (token) h.Authorization = "Bearer " + token;
      var init = { method: method, headers: h, cache: "no-store", credentials: "omit" };
      if (body !== undefined) {
        h["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return fetch(self.api + path, init).catch(function () { return self.unreachable(); });
    }).then(function (res) {
      var parse = res.status === 204 ? Promise.resolve(null) : res.json().catch(function () { return null; });
      return parse.then(function (data) {
        if (res.ok) return { status: res.status, data: data };
        data = data || {};
        throw new ApiError(res.status, data.detail || data.title || self.t("answered", res.status),
          parseInt(res.headers.get("Retry-After"), 10), String(data.type || "").split("/").pop());
      });
    });
  };

  /** A failed fetch: the network, or a service that answers but not to this page (CORS)?
   *  An opaque no-cors request reaches a server that CORS refuses, and fails offline. */
  P.unreachable = function () {
    var self = this;
    var offline = new ApiError(0, this.t("offline"));
    if (new URL(this.api).origin === location.origin) throw offline;
    return fetch(this.api + "/config", { mode: "no-cors", credentials: "omit", cache: "no-store" }).then(function () {
      console.error("Comments widget: " + self.api + " answers, but not to pages on " + location.origin +
        " (CORS). Add this origin to the service's COMMENTS_CORS_ORIGINS.");
      throw new ApiError(0, self.t("unavailable"), 0, "cors");
    }, function () { throw offline; });
  };

  P.getConfig = function () {
    var api = this.api;
    configs[api] = configs[api] || this.call("GET", "/config", undefined, null, true).then(function (r) { return r.data; }, function (err) {
      delete configs[api];
      throw err;
    });
    return configs[api];
  };

  P.applyTheme = function () {
    var theme = this.attr("theme") || "light";
    var dark = theme === "dark" || (theme === "auto" && matchMedia("(prefers-color-scheme: dark)").matches);
    this.root.classList.toggle("cw-dark", dark);
  };

  P.build = function () {
    var id = "cw" + this.n;
    var self = this;
    var lang = this.host.closest("[lang]");
    this.lang = pickLang(this.attr("lang") || (lang && lang.getAttribute("lang")) || "en");
    this.plural = new Intl.PluralRules(this.lang);
    this.num = new Intl.NumberFormat(this.lang);
    this.rtf = new Intl.RelativeTimeFormat(this.lang, { numeric: "auto" });
    this.dates = new Intl.DateTimeFormat(this.lang, { dateStyle: "long", timeStyle: "short" });
    this.articleId = this.attr("article-id") || this.attr("comments-article");
    var api = this.attr("api") || SRC.origin;
    this.api = api.replace(/\/+$/, "").replace(/\/api\/v1$/, "") + "/api/v1";
    this.sort = SORTS.indexOf(this.attr("sort")) >= 0 ? this.attr("sort") : "newest";
    this.pageSize = Math.min(100, Math.max(1, parseInt(this.attr("page-size"), 10) || 20));
    this.countEl = el("span", { class: "cw-count" });
    this.title = el("h2", { class: "cw-title", id: id + "-title", tabindex: "-1", part: "title" }, [this.t("comments") + " ", this.countEl]);
    this.sortBar = el("div", { class: "cw-sort", role: "toolbar", "aria-label": this.t("sort"), part: "sort" });
    SORTS.forEach(function (s) {
      self.sortBar.append(btn("cw-sort-btn", self.t(s), function () { self.setSort(s); }, { "data-sort": s, "aria-pressed": String(s === self.sort) }));
    });
    rove(this.sortBar);
    settle(this.sortBar);
    // On a phone six buttons take two rows ("Hot" wrapped alone): a select in one row
    // instead, the same choices under the same name (comments.css shows one or the other).
    this.sortSelect = el("select", { class: "cw-sort-select", "aria-label": this.t("sort"), part: "sort-select",
      onchange: function () { self.setSort(self.sortSelect.value); } });
    SORTS.forEach(function (s) {
      self.sortSelect.append(el("option", { value: s, text: self.t(s), selected: s === self.sort }));
    });
    this.status = el("p", { class: "cw-status", role: "status" });
    this.alert = el("p", { class: "cw-alert", role: "alert" });
    this.composer = el("div", { class: "cw-composer", part: "composer" });
    this.empty = el("p", { class: "cw-empty", hidden: true });
    this.list = el("ol", { class: "cw-list", "aria-labelledby": id + "-title", part: "list" });
    this.moreBtn = btn("cw-btn cw-load-more", this.t("more"), function () { self.loadMore(); }, { hidden: true });
    this.end = el("p", { class: "cw-sr cw-end", tabindex: "-1", text: this.t("end") });
    var skip = el("a", { class: "cw-skip", href: "#", text: this.t("skip"), onclick: function (e) { e.preventDefault(); self.end.focus(); } });
    this.root = el("section", { class: "cw", "aria-labelledby": id + "-title", lang: this.lang, part: "root", hidden: true }, [
      skip, el("div", { class: "cw-head", part: "header" }, [this.title, this.buildTools(id), this.sortBar, this.sortSelect]),
      this.notes,
      this.composer, this.status, this.alert, this.empty, this.list, this.moreBtn, this.end,
    ]);
    // Shown once its stylesheet is in (or failed), never as unstyled markup.
    var css = el("link", { rel: "stylesheet", href: BASE + "comments.css" });
    css.onload = css.onerror = function () { self.root.hidden = false; };
    this.shadow.replaceChildren(css, this.root);
    this.applyTheme();
    this.host.setAttribute("data-comments-mounted", "");
    this.buildLive();
  };

  P.say = function (text, isError) {
    this.status.textContent = isError ? "" : text;
    this.alert.textContent = isError ? text : "";
  };

  P.load = function () {
    var self = this;
    editTokens(); // prune the guest's lapsed edit tokens
    var lang = this.host.closest("[lang]");
    return loadCatalogue(pickLang(this.attr("lang") || (lang && lang.getAttribute("lang")))).then(function () {
      if (!self.root || self.dirty) self.build();
      self.dirty = false;
      self.ready = false;
      self.live();
      self.list.setAttribute("aria-busy", "true");
      var article = self.call("GET", "/articles/" + enc(self.articleId));
      return Promise.all([self.getConfig(), self.token(), article, self.fetchPage(null), self.fetchMe()]);
    }).then(function (r) {
      self.config = r[0];
      self.me = identity(r[1]);
      self.article = r[2].data;
      self.profile = self.me ? r[4] : null;
      self.reset();
      self.renderComposer();
      self.appendPage(r[3].data);
      self.renderTools();
      self.reopenDrafts();
      self.afterLoad();
    }).catch(function (err) {
      // An expired or wrong token must not hide a public thread: read it signed out.
      if (err instanceof ApiError && err.status === 401 && !self.anon) {
        self.anon = self.tokenFailed = true;
        return self.load();
      }
      fail(self.alert, err, self);
    }).then(function () { if (self.list) self.list.removeAttribute("aria-busy"); });
  };

  P.fetchPage = function (cursor) {
    var q = "?sort=" + enc(this.sort) + "&limit=" + this.pageSize + (cursor ? "&cursor=" + enc(cursor) : "");
    return this.call("GET", "/articles/" + enc(this.articleId) + "/comments" + q);
  };

  P.reset = function () {
    this.nodes.clear();
    this.list.replaceChildren();
    this.say("");
  };

  P.setCount = function (total) {
    this.total = Math.max(0, total);
    this.countEl.textContent = this.total ? "(" + this.num.format(this.total) + ")" : "";
    var empty = this.nodes.size === 0;
    this.empty.hidden = !empty;
    if (empty) this.empty.textContent = this.t(this.canPost() ? "empty" : this.closed() ? "empty_closed" : "empty_signin");
    this.emit("count", { count: this.total });
  };

  P.closed = function () {
    return this.article && this.article.status !== "open";
  };

  P.canPost = function () {
    return !this.closed() && (!!this.me || !!(this.config && this.config.allow_guests && !this.tokenFailed));
  };

  P.appendPage = function (page) {
    var self = this;
    var first = null;
    page.items.forEach(function (item) {
      if (self.nodes.has(item.id)) return;
      var node = self.attach(item);
      first = first || node;
    });
    this.cursor = page.next_cursor;
    this.moreBtn.hidden = !this.cursor;
    this.setCount(page.total);
    this.newBar();
    return first;
  };

  P.setSort = function (sort) {
    if (sort === this.sort) return;
    this.sort = sort;
    Array.prototype.forEach.call(this.sortBar.children, function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-sort") === sort));
    });
    this.sortSelect.value = sort;
    var self = this;
    this.list.setAttribute("aria-busy", "true");
    this.fetchPage(null).then(function (r) {
      self.reset();
      self.appendPage(r.data);
      self.reopenDrafts();
    }, function (err) { fail(self.alert, err, self); })
      .then(function () { self.list.removeAttribute("aria-busy"); });
  };

  P.loadMore = function () {
    var self = this;
    if (this.moreBusy) return;
    this.moreBusy = true;
    this.fetchPage(this.cursor).then(function (r) {
      var first = self.appendPage(r.data);
      if (first) first.art.focus();
      else if (self.moreBtn.hidden) self.end.focus();
    }, function (err) { fail(self.alert, err, self); })
      .then(function () { self.moreBusy = false; });
  };

  // --- the thread

  /** Where a new top-level comment goes under the current sort: before the first unpinned
   *  comment it outranks (it is the newest, so it wins every tie), or at the end. */
  P.placeFor = function () {
    var sort = this.sort;
    if (sort === "oldest") return null;
    var items = Array.prototype.slice.call(this.list.children);
    return items.find(function (li) {
      var d = li.cwNode.data;
      var r = d.reactions || {};
      if (d.pinned) return false;
      if (sort === "top") return (d.score || 0) <= 0;
      if (sort === "best") return !r.like;
      if (sort === "controversial") return !(r.like && r.dislike);
      // hot (issue #18): a new comment's (0 + 1) / 2^1.8 beats (score + 1) / (hours + 2)^1.8
      // (the default COMMENTS_HOT_GRAVITY; a reload ranks exactly)
      if (sort === "hot") return ((d.score || 0) + 1) / Math.pow((Date.now() - Date.parse(d.created_at)) / 3.6e6 + 2, 1.8) <= 1 / Math.pow(2, 1.8);
      return true;
    }) || null;
  };

  /** Render a comment (and its nested replies) and place it under its parent, or at the top
   *  level; a reply whose parent is not on the page goes under ``fallback``. */
  P.attach = function (c, opts) {
    opts = opts || {};
    if (this.nodes.has(c.id)) return this.nodes.get(c.id);
    var parent = c.parent_id !== null && c.parent_id !== undefined ? this.nodes.get(c.parent_id) || opts.fallback : null;
    var node = {
      data: c,
      li: el("li", { class: "cw-item", id: "comment-" + c.id }),
      art: el("article", { class: "cw-comment", tabindex: "-1", part: "comment" }),
      replies: el("ol", { class: "cw-replies", id: "cw" + this.n + "-replies-" + c.id }),
      root: parent ? parent.root : null,
    };
    node.root = node.root || node;
    node.isNew = this.isNew(c);
    node.li.cwNode = node;
    node.li.append(node.art, node.replies);
    this.nodes.set(c.id, node);
    if (parent) parent.replies.append(node.li);
    else this.list.insertBefore(node.li, opts.place ? this.placeFor() : null);
    this.fill(node);
    var self = this;
    (c.replies || []).forEach(function (r) { self.attach(r, { fallback: node }); });
    c.replies = [];
    if (parent) this.fillBar(parent);
    if (node.root === node) this.updateMoreReplies(node);
    return node;
  };

  P.mine = function (c) {
    if (!c.author) return false;
    if (c.author.is_guest) return !!editToken(c.id);
    return !!(this.me && this.me.id && c.author.id === this.me.id);
  };

  P.timeEl = function (iso) {
    var full = this.dates.format(new Date(iso));
    return el("time", { class: "cw-time", datetime: iso, title: full }, [
      el("span", { "aria-hidden": "true", text: this.ago(iso) }), el("span", { class: "cw-sr", text: full }),
    ]);
  };

  P.ago = function (iso) {
    var seconds = (Date.now() - Date.parse(iso)) / 1000;
    var steps = [[3600, "minute", 60], [86400, "hour", 3600], [604800, "day", 86400],
      [2629800, "week", 604800], [31557600, "month", 2629800], [Infinity, "year", 31557600]];
    if (seconds < 45) return this.t("just_now");
    for (var i = 0; i < steps.length; i++) {
      if (seconds < steps[i][0]) return this.rtf.format(-Math.max(1, Math.round(seconds / steps[i][2])), steps[i][1]);
    }
  };

  P.fill = function (node) {
    var c = node.data;
    var art = node.art;
    art.replaceChildren();
    art.className = "cw-comment cw-" + c.status + (c.pinned ? " cw-pinned" : "");
    if (c.status === "deleted" || c.status === "removed") {
      art.setAttribute("aria-label", this.t(c.status));
      art.append(el("p", { class: "cw-tombstone", text: this.t(c.status) }));
      node.bar = el("div", { class: "cw-actions", role: "toolbar", "aria-label": this.t(c.status) });
      rove(node.bar);
      art.append(node.bar);
      this.fillBar(node);
      return;
    }
    var nameId = "cw" + this.n + "-author-" + c.id;
    art.setAttribute("aria-labelledby", nameId);
    art.removeAttribute("aria-label");
    art.append(el("p", { class: "cw-meta" }, [
      el("span", { class: "cw-author", id: nameId, text: c.author.name, part: "author" }),
      c.author.is_moderator ? el("span", { class: "cw-badge", text: this.t("moderator") }) : null,
      c.author.is_guest ? el("span", { class: "cw-badge cw-badge-quiet", text: this.t("guest") }) : null,
      c.pinned ? el("span", { class: "cw-badge cw-badge-pin", text: this.t("pinned") }) : null,
      node.isNew ? el("span", { class: "cw-badge cw-badge-new", text: this.t("new_badge") }) : null,
      el("span", { class: "cw-dot", "aria-hidden": "true", text: "\u00B7" }),
      this.timeEl(c.created_at),
      c.edited_at ? this.editedEl(node) : null,
    ]));
    if (c.status === "pending") art.append(el("p", { class: "cw-notice", text: this.t("held") }));
    if (c.muted && !node.shown) return this.fillMuted(node, nameId);
    var body = el("div", { class: "cw-body", part: "body" });
    body.innerHTML = c.body_html || ""; // sanitised by the server; the only HTML we insert
    art.append(body);
    var disclosure = this.disclosureEl(c.disclosure);
    if (disclosure) art.append(disclosure);
    node.history = null;
    node.bar = el("div", { class: "cw-actions", role: "toolbar", "aria-label": this.t("actions", 0, { name: c.author.name }), part: "toolbar" });
    node.msg = el("p", { class: "cw-error", role: "alert" });
    rove(node.bar);
    art.append(node.bar, node.msg);
    this.fillBar(node);
  };

  // --- market features (#18): disclosure badge, "(edited)" opening the earlier versions,
  // the composer's disclosure picker (a select per cashtag in the draft, at most five)

  P.disclosureEl = function (d) {
    var self = this;
    var list = Object.keys(d || {}).map(function (s) { return self.t(d[s]) + " " + s; });
    return list.length ? el("p", { class: "cw-disclosure", part: "disclosure" }, [this.t("discloses", 0, { list: list.join(", ") })]) : null;
  };

  P.editedEl = function (node) {
    var c = node.data;
    var self = this;
    var title = this.t("edited_at", 0, { date: this.dates.format(new Date(c.edited_at)) });
    if (!c.revision_count) return el("span", { class: "cw-edited", title: title, text: this.t("edited") });
    return btn("cw-link cw-edited", this.t("edited"), function (e) { self.toggleHistory(node, e.currentTarget); },
      { title: title, "aria-expanded": "false", "aria-controls": "cw" + this.n + "-h" + c.id });
  };

  P.toggleHistory = function (node, button) {
    var self = this;
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    if (node.history) { node.history.hidden = !open; return; }
    var list = el("ol", { class: "cw-history-list" });
    var msg = el("p", { class: "cw-error", role: "alert" });
    node.history = el("section", { class: "cw-history", id: button.getAttribute("aria-controls"), "aria-label": this.t("history"), part: "history" }, [
      el("h3", { text: this.t("history") }), list, msg,
    ]);
    (node.art.querySelector(".cw-disclosure") || node.art.querySelector(".cw-body")).after(node.history);
    this.call("GET", "/comments/" + node.data.id + "/revisions").then(function (r) {
      r.data.items.forEach(function (v) {
        var body = el("div", { class: "cw-body" });
        body.innerHTML = v.body_html; // sanitised by the server, as every body
        list.append(el("li", {}, [el("p", { class: "cw-version-when", text: self.t("version_of", 0, { date: self.dates.format(new Date(v.created_at)) }) }),
          body, self.disclosureEl(v.disclosure)]));
      });
    }, function (err) { fail(msg, err, self); });
  };

  P.disclosurePicker = function (id, text, initial, changed) {
    var self = this;
    var required = this.config.require_disclosure;
    var chosen = Object.assign({}, initial);
    var shown = [];
    var rows = el("div", { class: "cw-disclose-rows" });
    var box = el("fieldset", { class: "cw-disclose", hidden: true }, [el("legend", { text: this.t(required ? "position_required" : "position") }), rows]);
    var sync = function () {
      var symbols = cashtags(text.value);
      Object.keys(chosen).forEach(function (s) { if (chosen[s] && symbols.indexOf(s) < 0) symbols.push(s); });
      symbols = symbols.slice(0, 5);
      if (symbols.join() === shown.join()) return;
      shown = symbols;
      rows.replaceChildren();
      symbols.forEach(function (s, i) {
        var select = el("select", { id: id + "-pos" + i }, ["", "long", "short", "none"].map(function (p) {
          return el("option", { value: p, text: self.t(p || "undisclosed") });
        }));
        select.value = chosen[s] || "";
        select.addEventListener("change", function () { chosen[s] = select.value; changed(); });
        rows.append(el("span", {}, [el("label", { for: select.id, text: "$" + s }), select]));
      });
      box.hidden = !symbols.length;
    };
    text.addEventListener("input", sync);
    sync();
    return {
      el: box,
      value: function () {
        var out = null;
        shown.forEach(function (s) { if (chosen[s]) (out = out || {})[s] = chosen[s]; });
        return out;
      },
      missing: function () { return required && cashtags(text.value).length && !this.value() ? rows.querySelector("select") : null; },
      reset: function () { chosen = {}; sync(); },
    };
  };

  /** The comment's one toolbar: vote, reactions with counts, React, collapse, reply, edit,
   *  delete, report. Rebuilt after every change, keeping focus on the same button. */
  P.fillBar = function (node) {
    var c = node.data;
    var bar = node.bar;
    if (!bar) return;
    var self = this;
    var focused = this.shadow.activeElement;
    var key = focused && bar.contains(focused) ? focused.getAttribute("data-k") : null;
    bar.replaceChildren();
    var add = function (k, label, fn, attrs, cls) {
      var b = btn("cw-link cw-" + k, label, function () { fn.call(self, node, b); }, Object.assign({ "data-k": k }, attrs));
      if (cls) b.className = cls;
      bar.append(b);
      return b;
    };
    var live = c.status !== "deleted" && c.status !== "removed";
    var counts = c.reactions || {};
    var mine = c.my_reactions || [];
    var kinds = this.config.reaction_kinds || [];
    var own = this.mine(c);
    if (live && (kinds.indexOf("like") >= 0 || kinds.indexOf("dislike") >= 0)) {
      var score = (counts.like || 0) - (counts.dislike || 0);
      var vote = el("span", { class: "cw-vote" });
      bar.append(vote);
      ["like", "dislike"].forEach(function (k, i) {
        if (own || kinds.indexOf(k) < 0) return;
        var b = btn("cw-vote-btn cw-" + k, i ? "\u25BC" : "\u25B2", function () { self.react(node, k, b); },
          { "data-k": k, "aria-pressed": String(mine.indexOf(k) >= 0), "aria-label": self.t(k) });
        vote.append(b);
        if (!i) vote.append(el("span", { class: "cw-score", title: self.t("score") }, [
          el("span", { class: "cw-sr", text: self.t("score") + " " }), self.num.format(score)]));
      });
      if (own) vote.append(el("span", { class: "cw-score" }, [self.t("score") + " " + self.num.format(score)]));
    }
    var others = kinds.filter(function (k) { return !VOTES[k]; });
    if (live) {
      others.forEach(function (k) {
        if (!counts[k]) return;
        var b = add("r-" + k, "", function () { self.react(node, k, b); }, { "aria-pressed": String(mine.indexOf(k) >= 0) }, "cw-chip");
        b.append(el("span", { "aria-hidden": "true", text: ICONS[k] || "\u2022" }), " " + self.t(k) + " ", el("b", { text: self.num.format(counts[k]) }));
      });
      if (others.length) add("react", this.t("react"), this.openPicker, { "aria-expanded": "false" });
    }
    if (c.reply_count || node.replies.children.length) {
      add("fold", node.folded ? this.t("show_replies", c.reply_count || node.replies.children.length) : this.t("hide_replies"),
        this.fold, { "aria-expanded": String(!node.folded), "aria-controls": node.replies.id });
    }
    if (live && c.status === "published" && this.canPost()) add("reply", this.t("reply"), this.openReply);
    if (c.status === "published") add("link", this.t("copy_link"), this.copyLink);
    var windowMs = (this.config.edit_window_seconds || 0) * 1000;
    if (live && own && Date.now() - Date.parse(c.created_at) < windowMs) add("edit", this.t("edit"), this.openEdit);
    if (live && (own || (this.me && this.me.moderator))) add("delete", this.t(own ? "delete" : "remove"), this.confirmDelete);
    if (live && !own && c.status === "published") add("report", this.t("report"), this.openFlag);
    if (live && this.me && !own && c.author && c.author.id && !c.author.is_guest) add("mute", this.t(c.muted ? "unmute" : "mute"), this.mute);
    if (live && this.me && this.me.moderator && c.status === "published") {
      add("pin", this.t(c.pinned ? "unpin" : "pin"), this.pin);
      if (!own && c.author && c.author.id) add("ban", this.t("ban"), this.confirmBan);
    }
    var again = key && (bar.querySelector('[data-k="' + key + '"]') || bar.querySelector('[data-k="react"]') || bar.querySelector("button"));
    settle(bar, again);
    if (again) again.focus();
  };

  P.note = function (node, text) {
    if (node.msg) node.msg.textContent = text;
    else this.say(text, true);
  };

  /** Vote or react; the button stays enabled and focused (a second press waits its turn). */
  P.react = function (node, kind, button) {
    var self = this;
    if (!this.me) {
      this.note(node, this.t("signin_react"));
      this.signIn("react");
      return;
    }
    if (node.busy) return;
    node.busy = true;
    button.setAttribute("aria-busy", "true");
    var on = button.getAttribute("aria-pressed") === "true";
    var fromPicker = node.picker && node.picker.contains(button);
    this.call(on ? "DELETE" : "PUT", "/comments/" + node.data.id + "/reactions/" + enc(kind))
      .then(function (r) {
        node.data.reactions = r.data.reactions;
        node.data.my_reactions = r.data.my_reactions;
        node.data.score = (r.data.reactions.like || 0) - (r.data.reactions.dislike || 0);
        self.note(node, "");
      }, function (err) {
        fail(node.msg, err, self);
        if (err.status === 401) self.signIn("expired");
      })
      .then(function () {
        node.busy = false;
        button.removeAttribute("aria-busy");
        if (node.picker) self.closePicker(node, fromPicker);
        self.fillBar(node);
      });
  };

  P.openPicker = function (node, button) {
    if (node.picker) return this.closePicker(node, true);
    if (!this.me) {
      this.note(node, this.t("signin_react"));
      this.signIn("react");
      return;
    }
    var self = this;
    var mine = node.data.my_reactions || [];
    var picker = el("div", { class: "cw-picker", role: "group", "aria-label": this.t("react_to") });
    (this.config.reaction_kinds || []).forEach(function (k) {
      if (VOTES[k]) return;
      var b = btn("cw-chip", "", function () { self.react(node, k, b); }, { "data-k": "r-" + k, "aria-pressed": String(mine.indexOf(k) >= 0) });
      b.append(el("span", { "aria-hidden": "true", text: ICONS[k] || "\u2022" }), " " + self.t(k));
      picker.append(b);
    });
    picker.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); self.closePicker(node, true); }
    });
    rove(picker);
    settle(picker, picker.firstChild);
    node.picker = picker;
    button.setAttribute("aria-expanded", "true");
    node.bar.after(picker);
    picker.firstChild.focus();
  };

  P.closePicker = function (node, refocus) {
    node.picker.remove();
    node.picker = null;
    var react = node.bar.querySelector('[data-k="react"]');
    if (react) {
      react.setAttribute("aria-expanded", "false");
      if (refocus) react.focus();
    }
  };

  P.fold = function (node) {
    node.folded = !node.folded;
    node.replies.hidden = node.folded;
    if (node.moreReplies) node.moreReplies.hidden = node.folded || node.repliesDone;
    this.fillBar(node);
  };

  P.updateMoreReplies = function (root) {
    var shown = 0;
    var self = this;
    root.replies.querySelectorAll(".cw-item").forEach(function (li) {
      if (li.cwNode && li.cwNode.data.status === "published") shown++;
    });
    var remaining = (root.data.reply_count || 0) - shown;
    if (remaining <= 0 || root.repliesDone) {
      if (root.moreReplies) root.moreReplies.hidden = true;
      return;
    }
    if (!root.moreReplies) {
      root.moreReplies = btn("cw-link cw-more-replies", "", function () { self.loadReplies(root); });
      root.li.append(root.moreReplies);
    }
    root.moreReplies.hidden = !!root.folded;
    root.moreReplies.textContent = this.t("more_replies", remaining);
  };

  P.loadReplies = function (root) {
    var self = this;
    var first = null;
    if (root.loadingReplies) return;
    root.loadingReplies = true;
    var step = function () {
      var q = "?limit=100" + (root.replyCursor ? "&cursor=" + enc(root.replyCursor) : "");
      return self.call("GET", "/comments/" + root.data.id + "/replies" + q).then(function (r) {
        r.data.items.forEach(function (item) {
          if (self.nodes.has(item.id)) return;
          var node = self.attach(item, { fallback: root });
          first = first || node;
        });
        root.replyCursor = r.data.next_cursor;
        if (!root.replyCursor) root.repliesDone = true;
        return !first && root.replyCursor ? step() : null;
      });
    };
    step().then(function () {
      self.updateMoreReplies(root);
      if (first) first.art.focus();
    }, function (err) { fail(root.msg || self.alert, err, self); })
      .then(function () { root.loadingReplies = false; });
  };

  // --- writing

  P.draftKey = function (parentId) {
    return "comments-widget:draft:" + this.api + "|" + this.articleId + "|" + (parentId || 0);
  };

  /** Reply drafts (kept in sessionStorage) come back open under their comments. */
  P.reopenDrafts = function () {
    var self = this;
    var prefix = this.draftKey("");
    prefix = prefix.slice(0, -1);
    if (!this.canPost()) return;
    for (var i = 0; i < sessionStorage.length; i++) {
      var key = sessionStorage.key(i);
      if (key.indexOf(prefix) !== 0) continue;
      var node = this.nodes.get(parseInt(key.slice(prefix.length), 10));
      if (node && !node.replyForm && node.data.status === "published") this.openReply(node, true);
    }
  };

  P.renderComposer = function () {
    var self = this;
    this.composer.replaceChildren();
    var banned = this.me && (this.banText() || store("sessionStorage", "comments-widget:banned:" + this.api + "|" + this.me.id, null));
    if (this.closed()) {
      this.composer.append(el("p", { class: "cw-closed", text: this.t("closed") }));
    } else if (banned) {
      this.composer.append(el("div", { class: "cw-banned", tabindex: "-1" }, [
        el("p", { class: "cw-banned-title", text: this.t("banned") }), el("p", { class: "cw-error", text: banned }),
      ]));
    } else if (this.canPost()) {
      this.composer.append.apply(this.composer, this.surgeNotices());
      this.composer.append(this.form({
        label: this.t("your_comment"), submit: this.t("post"), draft: this.draftKey(null),
        send: function (payload) { return self.post(payload, null); },
      }));
    } else {
      this.composer.append(el("p", { class: "cw-signin" }, [
        this.tokenFailed ? this.t("session_over") + " " : this.t("signin_join") + " ",
        btn("cw-btn cw-primary", this.t(this.tokenFailed ? "signin_comment" : "signin"), function () { self.signIn("comment"); }),
      ]));
    }
  };

  /** Surge mode: what the article says about slow mode and premoderation, as notices above
   * the form (a 429 under slow mode counts down like any rate limit). */
  P.surgeNotices = function () {
    var a = this.article || {}, out = [];
    if (a.slow_mode_seconds > 0 && !(this.me && this.me.moderator)) {
      out.push(el("p", { class: "cw-notice cw-slow-mode", part: "notice", text: this.t("slow_mode", a.slow_mode_seconds) }));
    }
    if (a.premoderation_until) out.push(el("p", { class: "cw-notice cw-premoderated", part: "notice", text: this.t("premoderated") }));
    return out;
  };

  /** A comment form: textarea (and a guest's name), counter, preview, error line, actions. */
  P.form = function (opts) {
    var id = "cw" + this.n + "-f" + (++counter);
    var self = this;
    var guest = !this.me;
    var max = this.config.max_body_length || 10000;
    var text = el("textarea", { id: id + "-body", name: "body", rows: opts.rows || 3, maxlength: max, required: true, "aria-describedby": id + "-hint " + id + "-left", part: "textarea" });
    text.value = opts.initial || (opts.draft && store("sessionStorage", opts.draft, "")) || "";
    var name = guest ? el("input", { id: id + "-name", name: "author_name", type: "text", maxlength: 80, required: true, autocomplete: "nickname" }) : null;
    if (name) name.value = store("localStorage", NAME_KEY, "");
    var left = el("p", { class: "cw-left", id: id + "-left" });
    var error = el("p", { class: "cw-error", role: "alert" });
    var preview = el("div", { class: "cw-body cw-preview", hidden: true, part: "body" });
    // a new choice is a new request: it must not reuse the Idempotency-Key of a failed one
    var disclose = this.disclosurePicker(id, text, opts.disclosure, function () { key = null; error.textContent = ""; });
    var submit = el("button", { type: "submit", class: "cw-btn cw-primary", text: opts.submit, part: "button primary" });
    var previewBtn = btn("cw-btn", this.t("preview"), function () { self.preview(text, preview, previewBtn, error); }, { "aria-pressed": "false", "aria-controls": id + "-preview" });
    preview.id = id + "-preview";
    var key = null;
    var form = el("form", { class: "cw-form", novalidate: true, part: "form" }, [
      name ? el("div", { class: "cw-field" }, [el("label", { for: id + "-name", text: this.t("your_name") }), name]) : null,
      el("div", { class: "cw-field" }, [
        el("label", { for: id + "-body", text: opts.label }), text,
        el("div", { class: "cw-under" }, [
          el("p", { class: "cw-hint", id: id + "-hint", text: (guest ? this.t("guest_hint") + " " : "") + this.t("hint") }), left,
        ]),
      ]),
      disclose.el, preview, error,
      el("div", { class: "cw-form-actions" }, [
        submit, previewBtn,
        opts.cancel ? btn("cw-btn", this.t("cancel"), opts.cancel) : null,
      ]),
    ]);
    var count = function () {
      var remaining = max - text.value.length;
      left.textContent = remaining <= Math.max(20, max / 10) ? self.t("left", remaining) : "";
    };
    count();
    text.addEventListener("input", function () {
      key = null;
      count();
      if (opts.draft) keep("sessionStorage", opts.draft, text.value || null);
      if (previewBtn.getAttribute("aria-pressed") === "true") self.preview(text, preview, previewBtn, error, true);
    });
    form.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && opts.cancel) { e.preventDefault(); opts.cancel(); }
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = text.value.trim();
      self.say("");
      if (name && !name.value.trim()) { error.textContent = self.t("need_name"); name.focus(); return; }
      if (!body) { error.textContent = self.t("need_body"); text.focus(); return; }
      var unanswered = disclose.missing();
      if (unanswered) { error.textContent = self.t("need_position"); unanswered.focus(); return; }
      if (form.busy) return;
      error.textContent = "";
      key = key || newKey(); // the same key on a retry, so a lost answer never posts twice
      var payload = { body: body, key: key, disclosure: disclose.value() };
      if (name) { payload.author_name = name.value.trim(); keep("localStorage", NAME_KEY, payload.author_name); }
      form.busy = true;
      submit.setAttribute("aria-busy", "true");
      opts.send(payload).then(function () {
        key = null;
        if (opts.draft) keep("sessionStorage", opts.draft, null);
        if (!opts.cancel) {
          text.value = "";
          disclose.reset();
          count();
          preview.hidden = true;
          previewBtn.setAttribute("aria-pressed", "false");
        }
      }, function (err) {
        fail(error, err, self);
        if (err.status === 401) self.signIn("expired");
        if (text.isConnected) text.focus();
      }).then(function () {
        form.busy = false;
        submit.removeAttribute("aria-busy");
      });
    });
    form.text = text;
    return form;
  };

  /** The server renders the preview exactly as it will render the comment. */
  P.preview = function (text, pane, button, error, quiet) {
    var on = quiet || button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(on));
    pane.hidden = !on;
    if (!on) return;
    var body = text.value.trim();
    if (!body) { pane.textContent = this.t("nothing_preview"); return; }
    var seq = pane.seq = (pane.seq || 0) + 1;
    this.call("POST", "/preview", { body: body }).then(function (r) {
      if (seq === pane.seq) pane.innerHTML = r.data.body_html; // sanitised by the server
    }, function (err) { if (seq === pane.seq) fail(error, err, this); }.bind(this));
  };

  P.post = function (payload, parent) {
    var self = this;
    var body = { body: payload.body };
    if (parent) body.parent_id = parent.data.id;
    if (payload.author_name) body.author_name = payload.author_name;
    if (payload.disclosure) body.disclosure = payload.disclosure;
    return this.call("POST", "/articles/" + enc(this.articleId) + "/comments", body, { "Idempotency-Key": payload.key })
      .then(function (r) {
        var c = r.data;
        if (c.edit_token) keepEditToken(c.id, c.edit_token, self.config.edit_window_seconds || 0);
        if (parent) self.closeReply(parent);
        var node = self.attach(c, { place: !parent, fallback: parent });
        if (c.status === "published") {
          if (node.root !== node) node.root.data.reply_count = (node.root.data.reply_count || 0) + 1;
          if (parent) self.fillBar(parent);
          self.setCount((self.total || 0) + 1);
        } else {
          self.setCount(self.total || 0);
        }
        self.say(self.t(c.status === "pending" ? "posted_held" : "posted"));
        self.emit("posted", { comment: c });
        node.art.focus();
      }, function (err) {
        // Banned: say so where the composer was (the draft stays in sessionStorage).
        if (err.type === "banned" && self.me) {
          keep("sessionStorage", "comments-widget:banned:" + self.api + "|" + self.me.id, err.message);
          if (!parent) {
            self.renderComposer();
            self.composer.firstChild.focus();
          }
        }
        throw err;
      });
  };

  P.openReply = function (node, quiet) {
    if (node.replyForm) { node.replyForm.text.focus(); return; }
    var self = this;
    node.replyForm = this.form({
      label: this.t("reply_to", 0, { name: node.data.author.name }), submit: this.t("post_reply"), rows: 2,
      draft: this.draftKey(node.data.id),
      send: function (payload) { return self.post(payload, node); },
      cancel: function () {
        keep("sessionStorage", self.draftKey(node.data.id), null);
        self.closeReply(node, true);
      },
    });
    node.replyForm.classList.add("cw-reply-form");
    node.art.after(node.replyForm);
    if (quiet !== true) node.replyForm.text.focus();
  };

  P.closeReply = function (node, refocus) {
    if (!node.replyForm) return;
    node.replyForm.remove();
    node.replyForm = null;
    var reply = node.bar.querySelector('[data-k="reply"]');
    if (refocus && reply) reply.focus();
  };

  P.headersFor = function (c) {
    var token = c.author && c.author.is_guest ? editToken(c.id) : null;
    return token ? { "X-Edit-Token": token } : {};
  };

  P.openEdit = function (node) {
    if (node.editForm) { node.editForm.text.focus(); return; }
    var self = this;
    var close = function () {
      node.editForm.remove();
      node.editForm = null;
      node.art.hidden = false;
    };
    node.editForm = this.form({
      label: this.t("edit_yours"), submit: this.t("save"), initial: node.data.body, disclosure: node.data.disclosure,
      send: function (payload) {
        var change = { body: payload.body, disclosure: payload.disclosure };
        return self.call("PATCH", "/comments/" + node.data.id, change, self.headersFor(node.data))
          .then(function (r) {
            r.data.replies = [];
            node.data = r.data;
            close();
            self.fill(node);
            self.say(self.t("saved"));
            node.art.focus();
          });
      },
      cancel: function () {
        close();
        var edit = node.bar.querySelector('[data-k="edit"]');
        if (edit) edit.focus();
      },
    });
    node.editForm.classList.add("cw-edit-form");
    node.art.hidden = true;
    node.art.after(node.editForm);
    node.editForm.text.focus();
  };

  P.confirmDelete = function (node, button) {
    var self = this;
    var own = this.mine(node.data);
    var bar = node.bar;
    var yes = btn("cw-btn cw-danger", this.t(own ? "yes_delete" : "yes_remove"));
    var no = btn("cw-btn", this.t("keep"));
    var question = el("div", { class: "cw-confirm", role: "group", "aria-label": this.t(own ? "ask_delete" : "ask_remove") }, [
      el("span", { text: this.t(own ? "ask_delete" : "ask_remove") }), yes, no,
    ]);
    var back = function () {
      question.remove();
      bar.hidden = false;
      var again = bar.querySelector('[data-k="delete"]');
      if (again) again.focus();
    };
    bar.hidden = true;
    bar.after(question);
    no.addEventListener("click", back);
    question.addEventListener("keydown", function (e) { if (e.key === "Escape") back(); });
    yes.addEventListener("click", function () {
      if (yes.getAttribute("aria-busy")) return;
      yes.setAttribute("aria-busy", "true");
      self.call("DELETE", "/comments/" + node.data.id, undefined, self.headersFor(node.data))
        .then(function () { self.removed(node, own ? "deleted" : "removed"); }, function (err) {
          back();
          fail(node.msg, err, self);
        });
    });
    yes.focus();
  };

  // --- moderators, in context (the same admin API as the console)

  P.pin = function (node) {
    var self = this;
    var action = node.data.pinned ? "unpin" : "pin";
    this.call("POST", "/admin/comments/" + node.data.id + "/actions", { action: action }).then(function (r) {
      node.data = Object.assign(node.data, { pinned: r.data.pinned });
      self.fill(node);
      self.say(self.t(action === "pin" ? "was_pinned" : "was_unpinned"));
    }, function (err) { fail(node.msg, err, self); }).then(function () {
      var again = node.bar.querySelector('[data-k="pin"]');
      if (again) again.focus();
    });
  };

  P.confirmBan = function (node) {
    var self = this;
    var bar = node.bar;
    var name = node.data.author.name;
    var id = "cw" + this.n + "-ban-" + node.data.id;
    var reason = el("input", { id: id, type: "text", maxlength: 500 });
    var yes = el("button", { type: "submit", class: "cw-btn cw-danger", text: this.t("yes_ban") });
    var form = el("form", { class: "cw-confirm", "aria-label": this.t("ask_ban", 0, { name: name }) }, [
      el("span", { text: this.t("ask_ban", 0, { name: name }) }),
      el("label", { for: id, text: this.t("ban_reason") }), reason, yes,
      btn("cw-btn", this.t("cancel"), function () { back(); }),
    ]);
    var back = function () {
      form.remove();
      bar.hidden = false;
      var again = bar.querySelector('[data-k="ban"]');
      if (again) again.focus();
    };
    form.addEventListener("keydown", function (e) { if (e.key === "Escape") back(); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (yes.getAttribute("aria-busy")) return;
      yes.setAttribute("aria-busy", "true");
      var body = { reason: reason.value.trim() || self.t("ban"), shadow: false };
      self.call("PUT", "/admin/bans/" + enc(node.data.author.id), body).then(function () {
        back();
        self.say(self.t("was_banned", 0, { name: name }));
      }, function (err) {
        yes.removeAttribute("aria-busy");
        fail(node.msg, err, self);
      });
    });
    bar.hidden = true;
    bar.after(form);
    reason.focus();
  };

  P.removed = function (node, status) {
    var counted = node.data.status === "published";
    var parent = node.data.parent_id ? this.nodes.get(node.data.parent_id) : null;
    if (node.replies.children.length) {
      node.data = Object.assign(node.data, { status: status, body: null, body_html: null, author: null });
      this.fill(node);
      node.art.focus();
    } else {
      node.li.remove();
      this.nodes.delete(node.data.id);
      if (parent) this.fillBar(parent);
      (parent ? parent.art : this.title).focus();
    }
    if (counted && node.root !== node) node.root.data.reply_count -= 1;
    this.setCount((this.total || 0) - (counted ? 1 : 0));
    this.say(this.t(status === "deleted" ? "was_deleted" : "was_removed"));
  };

  // --- reporting

  P.flagDialog = function () {
    if (this.dialog) return this.dialog;
    var self = this;
    var id = "cw" + this.n + "-flag";
    var fieldset = el("fieldset", { class: "cw-reasons" }, [el("legend", { text: this.t("why") })]);
    (this.config.flag_reasons || ["spam", "abuse", "harassment", "hate", "misinformation", "off_topic", "other"]).forEach(function (reason) {
      fieldset.append(el("label", { class: "cw-choice" }, [el("input", { type: "radio", name: "reason", value: reason }), " " + self.t(reason)]));
    });
    var note = el("textarea", { id: id + "-note", name: "note", rows: 2, maxlength: 500 });
    var error = el("p", { class: "cw-error", role: "alert" });
    var send = el("button", { type: "submit", class: "cw-btn cw-primary", text: this.t("send") });
    var form = el("form", { class: "cw-form", novalidate: true }, [
      fieldset,
      el("div", { class: "cw-field" }, [el("label", { for: id + "-note", text: this.t("note") }), note]),
      error,
      el("div", { class: "cw-form-actions" }, [send, btn("cw-btn", this.t("cancel"), function () { dialog.close(); })]),
    ]);
    var dialog = el("dialog", { class: "cw-dialog", "aria-labelledby": id + "-title" }, [
      el("h2", { id: id + "-title", class: "cw-dialog-title", text: this.t("report_title") }), form,
    ]);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var chosen = form.querySelector("input[name=reason]:checked");
      if (!chosen) { error.textContent = self.t("choose"); fieldset.querySelector("input").focus(); return; }
      var payload = { reason: chosen.value };
      if (note.value.trim()) payload.note = note.value.trim();
      if (send.getAttribute("aria-busy")) return;
      send.setAttribute("aria-busy", "true");
      self.call("POST", "/comments/" + dialog.target.data.id + "/flags", payload).then(function (r) {
        dialog.close();
        self.say(self.t(r.status === 201 ? "reported" : "reported_again"));
      }, function (err) { fail(error, err, self); })
        .then(function () { send.removeAttribute("aria-busy"); });
    });
    dialog.addEventListener("close", function () {
      if (dialog.opener && dialog.opener.isConnected) dialog.opener.focus();
    });
    this.root.append(dialog);
    dialog.form = form;
    dialog.error = error;
    this.dialog = dialog;
    return dialog;
  };

  P.openFlag = function (node, button) {
    if (!this.me) {
      this.note(node, this.t("signin_report"));
      this.signIn("report");
      return;
    }
    var dialog = this.flagDialog();
    dialog.form.reset();
    dialog.error.textContent = "";
    dialog.target = node;
    dialog.opener = button;
    dialog.showModal();
    dialog.querySelector("input[name=reason]").focus();
  };

  P.tick = function () {
    var self = this;
    if (!this.root) return;
    this.root.querySelectorAll("time.cw-time").forEach(function (t) {
      t.firstChild.textContent = self.ago(t.getAttribute("datetime"));
    });
  };

  // --- notifications (#15): the bell and its panel, following the thread, muting people

  var BELL = "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z";

  function icon(path) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var p = document.createElementNS("http://www.w3.org/2000/svg", "path");
    p.setAttribute("d", path);
    svg.append(p);
    return svg;
  }

  /** The signed-in reader's tools beside the title: "Follow thread" and the bell (hidden
   *  until GET /me answers). The panel itself sits under the header. */
  P.buildTools = function (id) {
    var self = this;
    this.followBtn = btn("cw-btn cw-follow", this.t("follow"), function () { self.toggleFollow(); }, { "aria-pressed": "false", hidden: true });
    this.bellCount = el("span", { class: "cw-bell-count", "aria-hidden": "true" });
    this.bell = btn("cw-btn cw-bell", "", function () { self.toggleNotes(); }, { "aria-expanded": "false", "aria-controls": id + "-notes", hidden: true });
    this.bellName = el("span", { class: "cw-sr" });
    this.bell.append(icon(BELL), this.bellName, this.bellCount);
    this.noteList = el("ul", { class: "cw-note-list" });
    this.noteMore = btn("cw-btn cw-note-more", this.t("more_notes"), function () { self.loadNotes(true); }, { hidden: true });
    this.noteSettings = el("div", { class: "cw-note-settings" });
    this.notes = el("section", { class: "cw-notes", id: id + "-notes", "aria-labelledby": id + "-notes-title", hidden: true, part: "notifications" }, [
      el("div", { class: "cw-notes-head" }, [
        el("h3", { class: "cw-notes-title", id: id + "-notes-title", tabindex: "-1", text: this.t("notifications") }),
        btn("cw-link cw-mark-all", this.t("mark_all"), function () { self.markAll(); }),
        btn("cw-link cw-notes-close", this.t("close"), function () { self.closeNotes(true); }),
      ]),
      this.noteList, this.noteMore, this.noteSettings,
    ]);
    this.notes.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); self.closeNotes(true); }
    });
    return el("div", { class: "cw-tools" }, [this.followBtn, this.bell]);
  };

  /** GET /me for a signed-in reader (null otherwise, or when it fails for another reason
   *  than a bad token: the thread must still show). */
  P.fetchMe = function () {
    var self = this;
    return this.token().then(function (token) {
      if (!token) return null;
      return self.call("GET", "/me").then(function (r) { return r.data; }, function (err) {
        if (err.status === 401) throw err;
        return null;
      });
    });
  };

  P.renderTools = function () {
    var on = !!(this.me && this.profile);
    this.bell.hidden = this.followBtn.hidden = !on;
    if (!on) { this.notes.hidden = true; return; }
    this.setUnread(this.profile.unread_notifications);
    var following = !!(this.article && this.article.subscribed);
    this.followBtn.setAttribute("aria-pressed", String(following));
    this.followBtn.textContent = this.t(following ? "following" : "follow");
    this.renderSettings();
  };

  P.setUnread = function (n) {
    this.unread = Math.max(0, n || 0);
    this.bellCount.textContent = this.unread ? (this.unread > 99 ? "99+" : this.num.format(this.unread)) : "";
    // The name is text, not aria-label: the visible count stays part of what it says.
    this.bellName.textContent = this.unread ? this.t("bell", this.unread) : this.t("notifications");
    this.bell.classList.toggle("cw-has-unread", this.unread > 0);
  };

  /** Why a banned reader cannot comment, from GET /me (never a shadow ban). */
  P.banText = function () {
    var ban = this.profile && this.profile.ban;
    if (!ban) return null;
    var parts = [];
    if (ban.reason) parts.push(this.t("banned_why", 0, { reason: ban.reason }));
    if (ban.expires_at) parts.push(this.t("banned_until", 0, { date: this.dates.format(new Date(ban.expires_at)) }));
    return parts.join(" ") || this.t("banned");
  };

  P.toggleFollow = function () {
    var self = this;
    var b = this.followBtn;
    if (b.getAttribute("aria-busy")) return;
    var on = b.getAttribute("aria-pressed") !== "true";
    b.setAttribute("aria-busy", "true");
    this.call(on ? "PUT" : "DELETE", "/articles/" + enc(this.articleId) + "/subscription").then(function () {
      self.article.subscribed = on;
      self.renderTools();
      self.say(self.t(on ? "followed" : "unfollowed"));
    }, function (err) { fail(self.alert, err, self); })
      .then(function () { b.removeAttribute("aria-busy"); });
  };

  P.toggleNotes = function () {
    if (!this.notes.hidden) return this.closeNotes(true);
    this.notes.hidden = false;
    this.bell.setAttribute("aria-expanded", "true");
    this.loadNotes(false);
    this.notes.querySelector(".cw-notes-title").focus();
  };

  P.closeNotes = function (refocus) {
    this.notes.hidden = true;
    this.bell.setAttribute("aria-expanded", "false");
    if (refocus) this.bell.focus();
  };

  P.loadNotes = function (more) {
    var self = this;
    if (this.notesBusy) return;
    this.notesBusy = true;
    this.noteList.setAttribute("aria-busy", "true");
    var q = "?limit=10" + (more && this.noteCursor ? "&cursor=" + enc(this.noteCursor) : "");
    this.call("GET", "/me/notifications" + q).then(function (r) {
      if (!more) self.noteList.replaceChildren();
      var first = null;
      r.data.items.forEach(function (n) {
        var li = self.noteItem(n);
        first = first || li;
        self.noteList.append(li);
      });
      if (!self.noteList.children.length) self.noteList.append(el("li", { class: "cw-note-empty", text: self.t("no_notes") }));
      self.noteCursor = r.data.next_cursor;
      self.noteMore.hidden = !self.noteCursor;
      self.setUnread(r.data.unread);
      if (more && first) first.querySelector("a").focus();
    }, function (err) { fail(self.alert, err, self); })
      .then(function () { self.notesBusy = false; self.noteList.removeAttribute("aria-busy"); });
  };

  P.noteText = function (n) {
    if (n.kind === "moderation") return this.t(n.outcome === "removed" ? "n_removed" : "n_approved");
    return this.t("n_" + n.kind, 0, { name: n.actor ? n.actor.name : "" });
  };

  /** One notification: a link to the comment (#comment-{id}); following it marks it read. */
  P.noteItem = function (n) {
    var self = this;
    var here = n.article_id === this.articleId;
    var href = here || !n.url ? "#comment-" + n.comment_id : n.url;
    var link = el("a", { class: "cw-note" + (n.read ? "" : " cw-unread"), href: href, part: "notification" }, [
      n.read ? null : el("span", { class: "cw-sr", text: this.t("unread_mark") + ": " }),
      el("span", { class: "cw-note-what", text: this.noteText(n) }),
      el("span", { class: "cw-note-excerpt", text: n.excerpt === null ? this.t("n_gone") : "\u201C" + n.excerpt + "\u201D" }),
      this.timeEl(n.created_at),
    ]);
    link.addEventListener("click", function (e) {
      if (!n.read) {
        n.read = true;
        link.classList.remove("cw-unread");
        if (link.firstChild.classList.contains("cw-sr")) link.firstChild.remove();
        self.call("POST", "/me/notifications/read", { ids: [n.id] }).then(function (r) { self.setUnread(r.data.unread); }, function () {});
      }
      if (!here) return; // another article's page: the link goes there
      e.preventDefault();
      self.closeNotes(false);
      self.goTo(n.comment_id);
    });
    return el("li", {}, [link]);
  };

  P.markAll = function () {
    var self = this;
    var first = this.noteList.querySelector("a");
    if (!this.unread) return;
    this.call("POST", "/me/notifications/read", { up_to: 2147483647 }).then(function (r) {
      self.setUnread(r.data.unread);
      self.noteList.querySelectorAll(".cw-unread").forEach(function (a) {
        a.classList.remove("cw-unread");
        if (a.firstChild.classList.contains("cw-sr")) a.firstChild.remove();
      });
      if (first) first.focus();
    }, function (err) { fail(self.alert, err, self); });
  };

  P.renderSettings = function () {
    var self = this;
    var s = this.profile.settings;
    var box = this.noteSettings;
    box.replaceChildren();
    var id = "cw" + this.n + "-set-";
    var check = function (key, label, checked, save) {
      var input = el("input", { type: "checkbox", id: id + key, checked: checked });
      input.addEventListener("change", function () {
        input.disabled = true;
        self.call("PATCH", "/me/settings", save(input.checked)).then(function (r) {
          self.profile = r.data;
          self.say(self.t("saved_settings"));
        }, function (err) {
          input.checked = !input.checked;
          fail(self.alert, err, self);
        }).then(function () { input.disabled = false; input.focus(); });
      });
      return el("div", { class: "cw-check" }, [input, el("label", { for: id + key, text: label })]);
    };
    var items = [check("follow", this.t("set_follow"), s.follow_on_post, function (v) { return { follow_on_post: v }; })];
    if (this.profile.email_available) {
      items.push(check("email", this.t("set_email"), s.email === "instant", function (v) { return { email: v ? "instant" : "off" }; }));
    }
    box.append(el("fieldset", { class: "cw-note-fields" }, [el("legend", { text: this.t("settings") })].concat(items)));
  };

  /** A muted person's comment: one line saying so, and a button that shows it this once. */
  P.fillMuted = function (node, nameId) {
    var self = this;
    var c = node.data;
    node.art.classList.add("cw-collapsed");
    node.art.append(el("p", { class: "cw-muted-note" }, [
      this.t("muted_note", 0, { name: c.author.name }) + " ",
      btn("cw-link cw-show", this.t("show_comment"), function () {
        node.shown = true;
        self.fill(node);
        var body = node.art.querySelector(".cw-body");
        if (body) { body.tabIndex = -1; body.focus(); }
      }, { "aria-describedby": nameId }),
    ]));
    node.bar = el("div", { class: "cw-actions", role: "toolbar", "aria-label": this.t("actions", 0, { name: c.author.name }), part: "toolbar" });
    node.msg = el("p", { class: "cw-error", role: "alert" });
    rove(node.bar);
    node.art.append(node.bar, node.msg);
    this.fillBar(node);
  };

  P.mute = function (node) {
    var self = this;
    var author = node.data.author;
    var on = !node.data.muted;
    this.call(on ? "PUT" : "DELETE", "/me/muted/" + enc(author.id)).then(function () {
      self.nodes.forEach(function (other) {
        if (!other.data.author || other.data.author.id !== author.id) return;
        other.data.muted = on;
        other.shown = false;
        self.fill(other);
      });
      self.say(self.t(on ? "was_muted" : "was_unmuted", 0, { name: author.name }));
      var again = node.bar && node.bar.querySelector('[data-k="mute"]');
      if (again) again.focus();
    }, function (err) { fail(node.msg, err, self); });
  };

  // --- live updates, links, "new" since the last visit (issue #16)
  // The stream (GET /articles/{id}/events) carries only what anonymous readers may see.
  // Comments from others wait behind a polite "3 new comments · Show" bar rather than
  // moving the thread under the reader's eyes; edits, removals and counts apply in place.
  // Events wait in a queue while a page loads or the reader's own post is on its way, so
  // their own comment is never taken for someone else's.

  P.buildLive = function () {
    var self = this;
    this.newText = el("span", { id: "cw" + this.n + "-new" });
    this.newBox = el("div", { class: "cw-new", hidden: true, part: "new" }, [
      this.newText, el("span", { "aria-hidden": "true", text: "\u00B7" }),
      btn("cw-link cw-show-new", this.t("show_new"), function () { self.showNew(); }, { "aria-describedby": "cw" + this.n + "-new" }),
    ]);
    this.news = el("p", { class: "cw-sr", role: "status" });
    this.list.before(this.newBox, this.news);
    if (this.seenFor !== this.articleId) { // a first build, or another article
      var seen = store("localStorage", SEEN_KEY, {})[this.seenKey()];
      this.seenFor = this.articleId;
      this.seenBefore = seen ? seen[0] : Infinity; // a first visit marks nothing
      this.queue = [];
      this.fresh = new Map();
      this.linkDone = false;
    }
  };

  P.seenKey = function () { return this.api + "|" + this.articleId; };

  P.isNew = function (c) { return c.id > this.seenBefore && !this.mine(c); };

  /** Remember the newest comment shown, per article (the SEEN_MAX most recent articles). */
  P.remember = function () {
    var max = 0;
    this.nodes.forEach(function (node, id) { if (id > max) max = id; });
    var seen = store("localStorage", SEEN_KEY, {});
    var key = this.seenKey();
    if (!max || (seen[key] && seen[key][0] >= max)) return;
    seen[key] = [max, Date.now()];
    Object.keys(seen).sort(function (a, b) { return seen[b][1] - seen[a][1]; }).slice(SEEN_MAX)
      .forEach(function (k) { delete seen[k]; });
    keep("localStorage", SEEN_KEY, seen);
  };

  P.afterLoad = function () {
    this.ready = true;
    this.newBar();
    this.remember();
    this.drain();
    if (!this.linkDone) this.goTo(linked()); // once: a reload after signing in stays put
    this.linkDone = true;
  };

  P.live = function () {
    var self = this;
    var url = this.api + "/articles/" + enc(this.articleId) + "/events";
    if (this.source && this.source.url !== url) this.stopLive();
    if (!window.EventSource || this.source || !this.host.isConnected) return;
    var source = this.source = new EventSource(url);
    ["comment.created", "comment.updated", "comment.removed", "reactions", "article", "reset"].forEach(function (type) {
      source.addEventListener(type, function (e) {
        var data;
        try { data = JSON.parse(e.data || "{}"); } catch (err) { return; }
        self.queue.push([type, data]);
        if (self.queue.length > 500) self.queue = [["reset", {}]];
        self.drain();
      });
    });
    source.addEventListener("open", function () {
      self.failures = 0;
      if (self.behind) { self.behind = false; self.resync(); }
    });
    source.addEventListener("error", function () {
      if (source.readyState !== 2) return; // EventSource reconnects by itself, with Last-Event-ID
      // Refused (an error status, the per-IP cap): try again later, then catch up.
      self.stopLive();
      self.behind = true;
      var n = self.failures = (self.failures || 0) + 1;
      if (n <= 6) self.retry = setTimeout(function () { self.live(); }, Math.min(300, 15 * Math.pow(2, n)) * 1000);
    });
  };

  P.stopLive = function () {
    clearTimeout(this.retry);
    clearTimeout(this.idle);
    if (this.source) this.source.close();
    this.source = null;
  };

  /** Reopen a stream closed while the page was hidden or the element detached, and catch up. */
  P.wake = function () {
    if (this.source || !this.ready || !this.host.isConnected) return;
    this.behind = false;
    this.live();
    this.resync();
  };

  P.drain = function () {
    if (!this.ready || this.posting) return;
    var queue = this.queue;
    this.queue = [];
    for (var i = 0; i < queue.length; i++) this.apply(queue[i][0], queue[i][1]);
  };

  P.apply = function (type, d) {
    var self = this;
    var fresh = this.fresh;
    if (type === "reset") return this.resync();
    if (type === "article") {
      var was = this.closed();
      this.article = Object.assign(this.article || {}, { status: d.status });
      if (this.closed() !== was) {
        this.renderComposer();
        this.nodes.forEach(function (node) { self.fillBar(node); });
      }
      return this.setCount(d.comment_count || 0);
    }
    var id = type === "reactions" ? d.comment_id : d.id;
    var node = this.nodes.get(id);
    if (type === "reactions") {
      var target = node ? node.data : fresh.get(id);
      if (!target) return;
      target.reactions = d.reactions || {};
      target.score = d.score;
      if (node) this.fillBar(node);
    } else if (type === "comment.removed") {
      if (fresh.delete(id)) this.newBar();
      if (node) this.drop(node);
    } else if (node) {
      this.update(node, d);
    } else if (fresh.has(id)) {
      fresh.set(id, d);
    } else if (type === "comment.created" && d.status === "published") {
      var placed = !d.parent_id || this.nodes.has(d.parent_id) || fresh.has(d.parent_id);
      this.setCount((this.total || 0) + 1);
      // The reader's own comment from another tab goes straight in; others' wait for "Show".
      if (placed && this.mine(d)) this.attach(d, { place: !d.parent_id });
      else if (placed) fresh.set(id, Object.assign(d, { replies: [] }));
      this.newBar();
    }
  };

  /** A comment changed (edit, pin, tombstone, approval): redraw it where it is. */
  P.update = function (node, d, own) {
    if (node.editForm) return; // the reader is editing it: their save decides
    var had = node.art.contains(this.shadow.activeElement);
    var counted = node.data.status === "published";
    if (!own) d.my_reactions = node.data.my_reactions; // the stream is anonymous
    d.replies = [];
    node.data = d;
    this.fill(node);
    if (had && !node.art.contains(this.shadow.activeElement)) node.art.focus();
    this.setCount((this.total || 0) + (d.status === "published") - counted);
  };

  /** A comment gone from the public thread: out of the page, or a tombstone while its replies
   *  are shown. Focus inside it goes to its parent (or the heading). */
  P.drop = function (node) {
    var c = node.data;
    if (node.replies.children.length) {
      return this.update(node, Object.assign({}, c, { status: "removed", body: null, body_html: null, author: null }));
    }
    var had = node.li.contains(this.shadow.activeElement);
    var parent = c.parent_id ? this.nodes.get(c.parent_id) : null;
    node.li.remove();
    this.nodes.delete(c.id);
    if (parent) this.fillBar(parent);
    if (had) (parent ? parent.art : this.title).focus();
    if (c.status === "published") {
      if (node.root !== node) node.root.data.reply_count -= 1;
      this.setCount((this.total || 0) - 1);
    }
  };

  /** After a gap in the stream ("reset", a reopened stream): the first page again, merged. */
  P.resync = function () {
    var self = this;
    Promise.all([this.call("GET", "/articles/" + enc(this.articleId)), this.fetchPage(null)]).then(function (r) {
      var walk = function (c) {
        var node = self.nodes.get(c.id);
        var replies = c.replies || [];
        if (node) self.update(node, c, true);
        else if (!self.fresh.has(c.id) && c.status === "published" && !self.mine(c) &&
          (!c.parent_id || self.nodes.has(c.parent_id) || self.fresh.has(c.parent_id))) {
          self.fresh.set(c.id, Object.assign({}, c, { replies: [] }));
        }
        replies.forEach(walk);
      };
      r[1].data.items.forEach(walk);
      self.apply("article", r[0].data);
      self.newBar();
    }, function () { /* the next event or reopening tries again */ });
  };

  P.newBar = function () {
    var self = this;
    var fresh = this.fresh;
    fresh.forEach(function (c, id) { if (self.nodes.has(id)) fresh.delete(id); });
    var n = fresh.size;
    this.newBox.hidden = !n;
    this.newText.textContent = n ? this.t("new_comments", n) : "";
    // One polite announcement for a burst, not one per comment.
    clearTimeout(this.newTimer);
    this.newTimer = setTimeout(function () {
      if (n !== self.said) self.news.textContent = n ? self.t("new_comments", n) : "";
      self.said = n;
    }, 1500);
  };

  /** "Show": the waiting comments go where a reload would put them, each marked new; focus
   *  moves to the first of them on the page. */
  P.showNew = function () {
    var self = this;
    var first = null;
    var waiting = Array.from(this.fresh.values()).sort(function (a, b) { return a.id - b.id; });
    this.fresh.clear();
    waiting.forEach(function (c) {
      var parent = c.parent_id ? self.nodes.get(c.parent_id) : null;
      if (c.parent_id && !parent) return;
      var node = self.attach(c, { place: !parent });
      node.isNew = true;
      self.fill(node);
      if (node.root !== node) {
        node.root.data.reply_count = (node.root.data.reply_count || 0) + 1;
        self.updateMoreReplies(node.root);
      }
      if (!first || node.li.compareDocumentPosition(first.li) & Node.DOCUMENT_POSITION_FOLLOWING) first = node;
    });
    this.newBar();
    this.remember();
    if (first) {
      first.art.focus({ preventScroll: true });
      first.li.scrollIntoView({ block: "nearest" });
    } else {
      this.title.focus();
    }
  };

  /** #comment-{id}: scroll to it (fetching its branch when it is not on the page), highlight
   *  it briefly, focus it. */
  P.goTo = function (id) {
    var self = this;
    if (!id || !this.ready) return;
    var found = this.nodes.has(id) ? Promise.resolve() : this.call("GET", "/comments/" + id + "/context").then(function (r) {
      var root = r.data.root;
      if (root.article_id !== self.articleId) return;
      var merge = function (c) {
        if (!self.nodes.has(c.id)) return self.attach(c);
        (c.replies || []).forEach(merge);
      };
      merge(root);
      var top = self.nodes.get(root.id);
      if (top) self.updateMoreReplies(top);
    });
    found.then(function () {
      var node = self.nodes.get(id);
      if (!node) return;
      for (var up = self.nodes.get(node.data.parent_id); up; up = self.nodes.get(up.data.parent_id)) {
        if (up.folded) self.fold(up);
      }
      var show = function () {
        if (self.root.hidden) return setTimeout(show, 50); // its stylesheet is still on its way
        node.li.scrollIntoView({ block: "center" });
        node.art.focus({ preventScroll: true });
        try { history.replaceState(history.state, "", "#comment-" + id); } catch (e) { /* sandboxed */ }
        node.art.classList.remove("cw-target");
        void node.art.offsetWidth; // restart the highlight
        node.art.classList.add("cw-target");
        setTimeout(function () { node.art.classList.remove("cw-target"); }, 4000);
      };
      show();
    }, function (err) {
      if (err.status === 404) self.say(self.t("link_gone"), true);
      else fail(self.alert, err, self);
    });
  };

  /** "Copy link": this page's address with #comment-{id}; without the Clipboard API, the
   *  older copy command; failing both, the link is shown to copy by hand. */
  P.copyLink = function (node, button) {
    var self = this;
    var url = location.href.split("#")[0] + "#comment-" + node.data.id;
    var fallback = function () {
      var area = el("textarea", { class: "cw-sr", readonly: true, "aria-hidden": "true", tabindex: "-1" });
      area.value = url;
      self.root.append(area);
      area.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { /* not allowed here */ }
      area.remove();
      button.focus();
      if (!copied) throw new Error("no clipboard");
    };
    var write = navigator.clipboard && navigator.clipboard.writeText
      ? navigator.clipboard.writeText(url) : Promise.reject(new Error("no Clipboard API"));
    write.catch(fallback).then(function () {
      self.note(node, "");
      self.say(self.t("link_copied"));
    }, function () { self.note(node, self.t("copy_this") + " " + url); });
  };

  /** The comment id in the page's address (#comment-17), or null. */
  function linked() {
    var m = /^#comment-(\d{1,10})$/.exec(location.hash);
    return m ? parseInt(m[1], 10) : null;
  }

  // The reader's own post: events wait until its answer is in (see drain).
  var post = P.post;
  P.post = function (payload, parent) {
    var self = this;
    var done = function () { self.posting--; self.drain(); };
    this.posting = (this.posting || 0) + 1;
    return post.call(this, payload, parent).then(function (r) { done(); return r; }, function (err) { done(); throw err; });
  };

  // --- mounting

  class ThreadElement extends HTMLElement {
    static get observedAttributes() { return ["theme", "lang", "article-id", "api", "token", "sort"]; }

    connectedCallback() {
      if (!this.cw) this.cw = new Widget(this);
      else this.cw.wake();
    }

    disconnectedCallback() {
      if (this.cw) this.cw.stopLive();
    }

    attributeChangedCallback(name, was, now) {
      if (!this.cw || was === now || !this.cw.root) return;
      if (name === "theme") return this.cw.applyTheme();
      this.cw.dirty = true;
      this.cw.anon = this.cw.tokenFailed = false;
      this.cw.load();
    }
  }

  /** The older markup, <div data-comments-article="ID" data-…>, gets an element inside. */
  function mountAll() {
    document.querySelectorAll("[data-comments-article]:not([data-comments-mounted]):not(comments-thread)").forEach(function (host) {
      var thread = document.createElement("comments-thread");
      ["api", "token", "sort", "page-size", "theme"].forEach(function (name) {
        var value = host.getAttribute("data-" + name);
        if (value) thread.setAttribute(name, value);
      });
      thread.setAttribute("article-id", host.getAttribute("data-comments-article"));
      host.setAttribute("data-comments-mounted", "");
      host.replaceChildren(thread);
    });
  }

  function refresh() {
    widgets = widgets.filter(function (w) { return w.host.isConnected; });
    return Promise.all(widgets.map(function (w) {
      w.anon = w.tokenFailed = false;
      return w.load();
    }));
  }

  window.CommentsWidget = {
    mountAll: mountAll,
    refresh: refresh,
    /** Called by i18n/<lang>.js: adds a catalogue (missing keys fall back to English). */
    catalogue: function (lang, strings) { CATALOGUES[lang] = strings; },
  };
  customElements.define("comments-thread", ThreadElement);
  document.addEventListener("comments:auth-changed", refresh);
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () {
    widgets.forEach(function (w) { if (w.root) w.applyTheme(); });
  });
  setInterval(function () { widgets.forEach(function (w) { w.tick(); }); }, 60000);
  // A page hidden for long closes its streams; shown again, they reopen and catch up.
  document.addEventListener("visibilitychange", function () {
    widgets.forEach(function (w) {
      clearTimeout(w.idle);
      if (!document.hidden) w.wake();
      else if (w.source) w.idle = setTimeout(function () { w.stopLive(); }, LIVE_IDLE_MS);
    });
  });
  window.addEventListener("hashchange", function () {
    widgets.forEach(function (w) { w.goTo(linked()); });
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
