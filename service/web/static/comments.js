/*
 * Comments widget. A host page adds
 *   <div data-comments-article="ARTICLE_ID"></div>
 *   <script src="https://COMMENTS-SERVICE/embed/comments.js" defer></script>
 * and, for signed-in readers, a data-token attribute or window.CommentsAuth.getToken().
 * Plain JavaScript, no dependencies. Only body_html (sanitised by the server) is inserted
 * as HTML; every other string goes through textContent. See docs/widget.md.
 */
(function () {
  "use strict";

  if (window.CommentsWidget) {
    window.CommentsWidget.mountAll();
    return;
  }

  var SCRIPT = document.currentScript;
  var SCRIPT_ORIGIN = SCRIPT && SCRIPT.src ? new URL(SCRIPT.src, location.href).origin : location.origin;
  var SORTS = [["newest", "Newest"], ["oldest", "Oldest"], ["top", "Top"], ["best", "Best"]];
  var REACTIONS = {
    like: ["\uD83D\uDC4D", "Like"], dislike: ["\uD83D\uDC4E", "Dislike"],
    insightful: ["\uD83D\uDCA1", "Insightful"], funny: ["\uD83E\uDD23", "Funny"],
    agree: ["\u2705", "Agree"], disagree: ["\u274C", "Disagree"],
  };
  var REASONS = {
    spam: "Spam or advertising", abuse: "Abusive or insulting", harassment: "Harassment of a person",
    hate: "Hate speech", misinformation: "False or misleading", off_topic: "Off topic",
    other: "Something else",
  };
  var GONE = {
    deleted: "This comment was deleted by its author.",
    removed: "This comment was removed by a moderator.",
  };
  var TOKENS_KEY = "comments-widget:edit-tokens";
  var NAME_KEY = "comments-widget:guest-name";
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
      if (child === null || child === undefined) return;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var enc = encodeURIComponent;

  function store(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }

  function keep(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }

  function editToken(id) { return store(TOKENS_KEY, {})[id] || null; }

  function keepEditToken(id, token) {
    var tokens = store(TOKENS_KEY, {});
    tokens[id] = token;
    keep(TOKENS_KEY, tokens);
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
      var bytes = Uint8Array.from(atob(part), function (ch) { return ch.charCodeAt(0); });
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      return null;
    }
  }

  function identity(token) {
    if (!token) return null;
    var c = claims(token) || {};
    var roles = Array.isArray(c.roles) ? c.roles : (c.roles ? [c.roles] : []);
    return {
      id: c.sub || null,
      name: c.name || c.sub || "you",
      moderator: roles.indexOf("moderator") >= 0 || roles.indexOf("admin") >= 0,
    };
  }

  var RTF = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat("en", { numeric: "auto" }) : null;
  var STEPS = [[60, "second"], [3600, "minute", 60], [86400, "hour", 3600], [604800, "day", 86400],
    [2629800, "week", 604800], [31557600, "month", 2629800], [Infinity, "year", 31557600]];

  function ago(iso) {
    var seconds = (Date.now() - Date.parse(iso)) / 1000;
    if (seconds < 45) return "just now";
    for (var i = 1; i < STEPS.length; i++) {
      if (seconds < STEPS[i][0]) {
        var n = Math.round(seconds / STEPS[i][2]);
        return RTF ? RTF.format(-n, STEPS[i][1]) : n + " " + STEPS[i][1] + (n === 1 ? "" : "s") + " ago";
      }
    }
    return iso;
  }

  function longDate(iso) {
    return new Date(iso).toLocaleString("en", { dateStyle: "medium", timeStyle: "short" });
  }

  function timeEl(iso) {
    return el("time", { class: "cw-time", datetime: iso, title: longDate(iso), text: ago(iso) });
  }

  function ApiError(status, message, retryAfter) {
    this.status = status;
    this.message = message;
    this.retryAfter = retryAfter;
  }

  /** What to tell the reader: the problem's detail, or a plain sentence for a 429. */
  function explain(err, noun) {
    if (!(err instanceof ApiError)) return "Something went wrong in the comments widget. Reload the page and try again.";
    if (err.status === 429) {
      var what = noun ? "Too many " + noun : "Too many requests";
      return err.retryAfter > 0 ? what + ", try again in " + err.retryAfter + " s." : what + ", try again shortly.";
    }
    return err.message;
  }

  // --- one widget per host element

  function Widget(host) {
    this.host = host;
    this.n = ++counter;
    this.articleId = host.getAttribute("data-comments-article");
    var api = host.getAttribute("data-api") || (SCRIPT && SCRIPT.getAttribute("data-api")) || SCRIPT_ORIGIN;
    this.api = api.replace(/\/+$/, "").replace(/\/api\/v1$/, "") + "/api/v1";
    this.sort = host.getAttribute("data-sort") || "newest";
    this.pageSize = Math.min(100, Math.max(1, parseInt(host.getAttribute("data-page-size"), 10) || 20));
    this.nodes = new Map();
    this.build();
    this.load();
  }

  var P = Widget.prototype;

  P.token = function () {
    var fixed = this.host.getAttribute("data-token") || (SCRIPT && SCRIPT.getAttribute("data-token"));
    if (fixed) return Promise.resolve(fixed);
    var auth = window.CommentsAuth;
    if (!auth || typeof auth.getToken !== "function") return Promise.resolve(null);
    return Promise.resolve().then(function () { return auth.getToken(); })
      .then(function (t) { return t || null; }, function () { return null; });
  };

  /** One API call: resolves {status, data}; rejects with an ApiError carrying the detail. */
  P.call = function (method, path, body, headers) {
    var self = this;
    return this.token().then(function (token) {
      var h = Object.assign({ Accept: "application/json" }, headers || {});
      if (token) h.Authorization = "Bearer " + token;
      var init = { method: method, headers: h, cache: "no-store", credentials: "omit" };
      if (body !== undefined) {
        h["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return fetch(self.api + path, init).catch(function () {
        throw new ApiError(0, "Could not reach the comments service. Check your connection and try again.");
      });
    }).then(function (res) {
      var parse = res.status === 204 ? Promise.resolve(null) : res.json().catch(function () { return null; });
      return parse.then(function (data) {
        if (res.ok) return { status: res.status, data: data };
        var detail = data && (data.detail || data.title);
        throw new ApiError(res.status, detail || "The comments service answered " + res.status + ".",
          parseInt(res.headers.get("Retry-After"), 10));
      });
    });
  };

  P.getConfig = function () {
    if (!configs[this.api]) {
      var self = this;
      configs[this.api] = this.call("GET", "/config").then(function (r) { return r.data; }, function (err) {
        delete configs[self.api];
        throw err;
      });
    }
    return configs[this.api];
  };

  P.build = function () {
    var id = "cw" + this.n;
    var self = this;
    this.countEl = el("span", { class: "cw-count" });
    this.title = el("h2", { class: "cw-title", id: id + "-title", tabindex: "-1" }, ["Comments ", this.countEl]);
    this.sortBar = el("div", { class: "cw-sort", role: "group", "aria-label": "Sort comments" });
    SORTS.forEach(function (s) {
      self.sortBar.append(el("button", {
        type: "button", class: "cw-sort-btn", "data-sort": s[0], "aria-pressed": String(s[0] === self.sort),
        text: s[1], onclick: function () { self.setSort(s[0]); },
      }));
    });
    this.status = el("p", { class: "cw-status", role: "status", "aria-live": "polite" });
    this.alert = el("p", { class: "cw-alert", role: "alert" });
    this.composer = el("div", { class: "cw-composer" });
    this.empty = el("p", { class: "cw-empty", hidden: true });
    this.list = el("ol", { class: "cw-list", "aria-labelledby": id + "-title" });
    this.moreBtn = el("button", {
      type: "button", class: "cw-btn cw-load-more", hidden: true, text: "Load more comments",
      onclick: function () { self.loadMore(); },
    });
    this.root = el("section", { class: "cw", "aria-labelledby": id + "-title" }, [
      el("header", { class: "cw-head" }, [this.title, this.sortBar]),
      this.composer, this.status, this.alert, this.empty, this.list, this.moreBtn,
    ]);
    this.host.replaceChildren(this.root);
    this.host.setAttribute("data-comments-mounted", "");
  };

  P.say = function (text, isError) {
    this.status.textContent = isError ? "" : text;
    this.alert.textContent = isError ? text : "";
  };

  P.load = function () {
    var self = this;
    this.list.setAttribute("aria-busy", "true");
    var article = this.call("GET", "/articles/" + enc(this.articleId));
    return Promise.all([this.getConfig(), this.token(), article, this.fetchPage(null)])
      .then(function (r) {
        self.config = r[0];
        self.me = identity(r[1]);
        self.article = r[2].data;
        self.reset();
        self.renderComposer();
        self.appendPage(r[3].data);
      })
      .catch(function (err) { self.say(explain(err), true); })
      .then(function () { self.list.removeAttribute("aria-busy"); });
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
    this.countEl.textContent = this.total ? "(" + this.total + ")" : "";
    var empty = this.nodes.size === 0;
    this.empty.hidden = !empty;
    if (empty) {
      this.empty.textContent = this.canPost()
        ? "Be the first to comment: what is your take on this story?"
        : this.closed() ? "No one commented before the discussion closed."
          : "Be the first to comment: sign in and share your take on this story.";
    }
  };

  P.closed = function () {
    return this.article && this.article.status !== "open";
  };

  P.canPost = function () {
    return !this.closed() && (!!this.me || !!(this.config && this.config.allow_guests));
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
    return first;
  };

  P.setSort = function (sort) {
    if (sort === this.sort) return;
    this.sort = sort;
    Array.prototype.forEach.call(this.sortBar.children, function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-sort") === sort));
    });
    var self = this;
    this.list.setAttribute("aria-busy", "true");
    this.fetchPage(null).then(function (r) {
      self.reset();
      self.appendPage(r.data);
    }, function (err) { self.say(explain(err), true); })
      .then(function () { self.list.removeAttribute("aria-busy"); });
  };

  P.loadMore = function () {
    var self = this;
    this.moreBtn.disabled = true;
    this.fetchPage(this.cursor).then(function (r) {
      var first = self.appendPage(r.data);
      if (first) first.art.focus();
    }, function (err) { self.say(explain(err), true); })
      .then(function () { self.moreBtn.disabled = false; });
  };

  // --- the thread

  /** Render a comment (and its nested replies) and place it under its parent, or at the top
   *  level; a reply whose parent is not on the page goes under ``fallback``. */
  P.attach = function (c, opts) {
    opts = opts || {};
    if (this.nodes.has(c.id)) return this.nodes.get(c.id);
    var parent = c.parent_id !== null && c.parent_id !== undefined
      ? this.nodes.get(c.parent_id) || opts.fallback : null;
    var node = {
      data: c,
      li: el("li", { class: "cw-item", id: "comment-" + c.id }),
      art: el("article", { class: "cw-comment", tabindex: "-1" }),
      replies: el("ol", { class: "cw-replies" }),
      root: parent ? parent.root : null,
    };
    node.root = node.root || node;
    node.li.cwNode = node;
    node.li.append(node.art, node.replies);
    this.nodes.set(c.id, node);
    var list = parent ? parent.replies : this.list;
    if (opts.prepend) list.prepend(node.li);
    else list.append(node.li);
    this.fill(node);
    var self = this;
    (c.replies || []).forEach(function (r) { self.attach(r, { fallback: node }); });
    c.replies = [];
    if (node.root === node) this.updateMoreReplies(node);
    return node;
  };

  P.mine = function (c) {
    if (!c.author) return false;
    if (c.author.is_guest) return !!editToken(c.id);
    return !!(this.me && this.me.id && c.author.id === this.me.id);
  };

  P.fill = function (node) {
    var c = node.data;
    var art = node.art;
    var self = this;
    art.replaceChildren();
    art.className = "cw-comment cw-" + c.status + (c.pinned ? " cw-pinned" : "");
    if (GONE[c.status]) {
      art.setAttribute("aria-label", "Comment " + c.status);
      art.append(el("p", { class: "cw-tombstone", text: GONE[c.status] }));
      return;
    }
    var nameId = "cw" + this.n + "-author-" + c.id;
    art.setAttribute("aria-labelledby", nameId);
    art.removeAttribute("aria-label");
    var meta = el("p", { class: "cw-meta" }, [
      el("span", { class: "cw-author", id: nameId, text: c.author.name }),
      c.author.is_moderator ? el("span", { class: "cw-badge", text: "Moderator" }) : null,
      c.author.is_guest ? el("span", { class: "cw-badge cw-badge-quiet", text: "Guest" }) : null,
      c.pinned ? el("span", { class: "cw-badge cw-badge-pin", text: "Pinned" }) : null,
      el("span", { class: "cw-dot", "aria-hidden": "true", text: "\u00B7" }),
      timeEl(c.created_at),
      c.edited_at ? el("span", { class: "cw-edited", title: "Edited " + longDate(c.edited_at), text: "(edited)" }) : null,
    ]);
    art.append(meta);
    if (c.status === "pending") {
      art.append(el("p", {
        class: "cw-notice",
        text: "Held for review: only you can see this comment until a moderator approves it.",
      }));
    }
    var body = el("div", { class: "cw-body" });
    body.innerHTML = c.body_html || ""; // sanitised by the server; the only HTML we insert
    art.append(body);
    art.append(this.reactionBar(node));
    var actions = el("div", { class: "cw-actions" });
    var add = function (label, cls, fn) {
      var b = el("button", { type: "button", class: "cw-link " + cls, text: label });
      b.addEventListener("click", function () { fn.call(self, node, b); });
      actions.append(b);
    };
    var windowMs = (this.config.edit_window_seconds || 0) * 1000;
    var own = this.mine(c);
    if (c.status === "published" && this.canPost()) add("Reply", "cw-reply", this.openReply);
    if (own && Date.now() - Date.parse(c.created_at) < windowMs) add("Edit", "cw-edit", this.openEdit);
    if (own || (this.me && this.me.moderator)) add(own ? "Delete" : "Remove", "cw-delete", this.confirmDelete);
    if (!own && c.status === "published") add("Report", "cw-report", this.openFlag);
    art.append(actions);
  };

  P.reactionBar = function (node) {
    var c = node.data;
    var self = this;
    var bar = el("div", { class: "cw-reactions", role: "group", "aria-label": "Reactions" });
    (this.config.reaction_kinds || []).forEach(function (kind) {
      var b = el("button", { type: "button", class: "cw-react", "data-kind": kind }, [
        el("span", { class: "cw-react-icon", "aria-hidden": "true", text: (REACTIONS[kind] || [kind])[0] }),
        el("span", { class: "cw-react-count", "aria-hidden": "true" }),
      ]);
      b.addEventListener("click", function () { self.toggleReaction(node, kind, b); });
      bar.append(b);
    });
    this.showReactions(c, bar);
    return bar;
  };

  P.showReactions = function (c, bar) {
    var mine = c.my_reactions || [];
    Array.prototype.forEach.call(bar.children, function (b) {
      var kind = b.getAttribute("data-kind");
      var label = (REACTIONS[kind] || [kind, kind])[1];
      var n = (c.reactions || {})[kind] || 0;
      b.setAttribute("aria-pressed", String(mine.indexOf(kind) >= 0));
      b.setAttribute("aria-label", label + " (" + n + ")");
      b.title = label;
      b.classList.toggle("cw-zero", !n);
      b.lastChild.textContent = n ? String(n) : "";
    });
  };

  P.toggleReaction = function (node, kind, button) {
    if (!this.me) {
      this.say("Sign in to react to comments.", true);
      return;
    }
    var self = this;
    var on = button.getAttribute("aria-pressed") === "true";
    button.disabled = true;
    this.call(on ? "DELETE" : "PUT", "/comments/" + node.data.id + "/reactions/" + enc(kind))
      .then(function (r) {
        node.data.reactions = r.data.reactions;
        node.data.my_reactions = r.data.my_reactions;
        self.showReactions(node.data, button.parentNode);
        self.say("");
      }, function (err) { self.say(explain(err, "reactions"), true); })
      .then(function () { button.disabled = false; });
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
      root.moreReplies = el("button", {
        type: "button", class: "cw-link cw-more-replies",
        onclick: function () { self.loadReplies(root); },
      });
      root.li.append(root.moreReplies);
    }
    root.moreReplies.hidden = false;
    root.moreReplies.textContent = "Show " + remaining + " more " + (remaining === 1 ? "reply" : "replies");
  };

  P.loadReplies = function (root) {
    var self = this;
    var first = null;
    var button = root.moreReplies;
    button.disabled = true;
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
        if (!first && root.replyCursor) return step();
        return null;
      });
    };
    step().then(function () {
      self.updateMoreReplies(root);
      if (first) first.art.focus();
    }, function (err) { self.say(explain(err), true); })
      .then(function () { button.disabled = false; });
  };

  // --- writing

  P.renderComposer = function () {
    var self = this;
    this.composer.replaceChildren();
    if (this.closed()) {
      this.composer.append(el("p", { class: "cw-closed", text: "Comments on this article are closed." }));
    } else if (this.canPost()) {
      this.composer.append(this.form({
        label: "Your comment", submit: "Post comment",
        send: function (payload) { return self.post(payload, null); },
      }));
    } else {
      var auth = window.CommentsAuth;
      this.composer.append(el("p", { class: "cw-signin" }, [
        "Sign in to join the conversation. ",
        auth && typeof auth.signIn === "function"
          ? el("button", { type: "button", class: "cw-btn", text: "Sign in", onclick: function () { auth.signIn(); } })
          : null,
      ]));
    }
  };

  /** A comment form: textarea (and a guest's name), an error line, submit and cancel. */
  P.form = function (opts) {
    var id = "cw" + this.n + "-f" + (++counter);
    var self = this;
    var guest = !this.me;
    var max = this.config.max_body_length || 10000;
    var text = el("textarea", { id: id + "-body", name: "body", rows: opts.rows || 3, maxlength: max, required: true, "aria-describedby": id + "-hint" });
    text.value = opts.initial || "";
    var name = guest ? el("input", { id: id + "-name", name: "author_name", type: "text", maxlength: 80, required: true, autocomplete: "nickname" }) : null;
    if (name) name.value = store(NAME_KEY, "");
    var error = el("p", { class: "cw-error", role: "alert" });
    var submit = el("button", { type: "submit", class: "cw-btn cw-primary", text: opts.submit });
    var key = null;
    var form = el("form", { class: "cw-form", novalidate: true }, [
      name ? el("div", { class: "cw-field" }, [el("label", { for: id + "-name", text: "Your name" }), name]) : null,
      el("div", { class: "cw-field" }, [
        el("label", { for: id + "-body", text: opts.label }),
        text,
        el("p", { class: "cw-hint", id: id + "-hint", text: guest && !opts.initial
          ? "Posting as a guest. Markdown works: **bold**, _italic_, [links](https://example.com)."
          : "Markdown works: **bold**, _italic_, [links](https://example.com)." }),
      ]),
      error,
      el("div", { class: "cw-form-actions" }, [
        submit,
        opts.cancel ? el("button", { type: "button", class: "cw-btn", text: "Cancel", onclick: opts.cancel }) : null,
      ]),
    ]);
    text.addEventListener("input", function () { key = null; });
    form.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && opts.cancel) { e.preventDefault(); opts.cancel(); }
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = text.value.trim();
      if (name && !name.value.trim()) { error.textContent = "Give your name."; name.focus(); return; }
      if (!body) { error.textContent = "Write something first."; text.focus(); return; }
      error.textContent = "";
      key = key || newKey(); // the same key on a retry, so a lost answer never posts twice
      var payload = { body: body, key: key };
      if (name) { payload.author_name = name.value.trim(); keep(NAME_KEY, payload.author_name); }
      submit.disabled = true;
      opts.send(payload).then(function () {
        key = null;
        if (!opts.cancel) text.value = "";
      }, function (err) {
        error.textContent = explain(err, opts.noun || "comments");
        text.focus();
      }).then(function () { submit.disabled = false; });
    });
    form.text = text;
    return form;
  };

  P.post = function (payload, parent) {
    var self = this;
    var body = { body: payload.body };
    if (parent) body.parent_id = parent.data.id;
    if (payload.author_name) body.author_name = payload.author_name;
    return this.call("POST", "/articles/" + enc(this.articleId) + "/comments", body, { "Idempotency-Key": payload.key })
      .then(function (r) {
        var c = r.data;
        if (c.edit_token) keepEditToken(c.id, c.edit_token);
        if (parent) self.closeReply(parent);
        var node = self.attach(c, { prepend: !parent, fallback: parent });
        if (c.status === "published") {
          if (node.root !== node) node.root.data.reply_count = (node.root.data.reply_count || 0) + 1;
          self.setCount((self.total || 0) + 1);
        } else {
          self.setCount(self.total || 0);
        }
        self.say(c.status === "pending"
          ? "Thanks. Your comment is held for review and will appear once a moderator approves it."
          : "Your comment was posted.");
        node.art.focus();
      });
  };

  P.openReply = function (node) {
    if (node.replyForm) { node.replyForm.text.focus(); return; }
    var self = this;
    node.replyForm = this.form({
      label: "Reply to " + node.data.author.name, submit: "Post reply", rows: 2,
      send: function (payload) { return self.post(payload, node); },
      cancel: function () { self.closeReply(node, true); },
    });
    node.replyForm.classList.add("cw-reply-form");
    node.art.after(node.replyForm);
    node.replyForm.text.focus();
  };

  P.closeReply = function (node, refocus) {
    if (!node.replyForm) return;
    node.replyForm.remove();
    node.replyForm = null;
    var reply = node.art.querySelector(".cw-reply");
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
      label: "Edit your comment", submit: "Save changes", initial: node.data.body, noun: "edits",
      send: function (payload) {
        return self.call("PATCH", "/comments/" + node.data.id, { body: payload.body }, self.headersFor(node.data))
          .then(function (r) {
            r.data.replies = [];
            node.data = r.data;
            close();
            self.fill(node);
            self.say("Your changes were saved.");
            node.art.focus();
          });
      },
      cancel: function () {
        close();
        var edit = node.art.querySelector(".cw-edit");
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
    var actions = button.parentNode;
    var own = this.mine(node.data);
    var question = el("span", { class: "cw-confirm", role: "group", "aria-label": "Confirm" }, [
      el("span", { text: own ? "Delete this comment?" : "Remove this comment as a moderator?" }),
    ]);
    var yes = el("button", { type: "button", class: "cw-btn cw-danger", text: own ? "Yes, delete" : "Yes, remove" });
    var no = el("button", { type: "button", class: "cw-btn", text: "Keep it" });
    question.append(yes, no);
    actions.hidden = true;
    actions.after(question);
    no.addEventListener("click", function () {
      question.remove();
      actions.hidden = false;
      button.focus();
    });
    yes.addEventListener("click", function () {
      yes.disabled = true;
      self.call("DELETE", "/comments/" + node.data.id, undefined, self.headersFor(node.data))
        .then(function () { self.removed(node, own ? "deleted" : "removed"); }, function (err) {
          self.say(explain(err, "requests"), true);
          question.remove();
          actions.hidden = false;
          button.focus();
        });
    });
    yes.focus();
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
      (parent ? parent.art : this.title).focus();
    }
    if (counted && node.root !== node) node.root.data.reply_count -= 1;
    this.setCount((this.total || 0) - (counted ? 1 : 0));
    this.say(status === "deleted" ? "Your comment was deleted." : "The comment was removed.");
  };

  // --- reporting

  P.flagDialog = function () {
    if (this.dialog) return this.dialog;
    var self = this;
    var id = "cw" + this.n + "-flag";
    var reasons = this.config.flag_reasons || Object.keys(REASONS);
    var fieldset = el("fieldset", { class: "cw-reasons" }, [el("legend", { text: "Why should a moderator look at it?" })]);
    reasons.forEach(function (reason, i) {
      fieldset.append(el("label", { class: "cw-choice" }, [
        el("input", { type: "radio", name: "reason", value: reason, required: i === 0 }),
        " " + (REASONS[reason] || reason),
      ]));
    });
    var note = el("textarea", { id: id + "-note", name: "note", rows: 2, maxlength: 500 });
    var error = el("p", { class: "cw-error", role: "alert" });
    var send = el("button", { type: "submit", class: "cw-btn cw-primary", text: "Send report" });
    var form = el("form", { class: "cw-form", novalidate: true }, [
      fieldset,
      el("div", { class: "cw-field" }, [el("label", { for: id + "-note", text: "Anything else a moderator should know? (optional)" }), note]),
      error,
      el("div", { class: "cw-form-actions" }, [
        send,
        el("button", { type: "button", class: "cw-btn", text: "Cancel", onclick: function () { dialog.close(); } }),
      ]),
    ]);
    var dialog = el("dialog", { class: "cw-dialog", "aria-labelledby": id + "-title" }, [
      el("h2", { id: id + "-title", class: "cw-dialog-title", text: "Report this comment" }),
      form,
    ]);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var chosen = form.querySelector("input[name=reason]:checked");
      if (!chosen) { error.textContent = "Choose a reason."; fieldset.querySelector("input").focus(); return; }
      var payload = { reason: chosen.value };
      if (note.value.trim()) payload.note = note.value.trim();
      send.disabled = true;
      self.call("POST", "/comments/" + dialog.target.data.id + "/flags", payload).then(function (r) {
        dialog.close();
        self.say(r.status === 201
          ? "Thank you. A moderator will review this comment."
          : "You had already reported this comment; a moderator will review it.");
      }, function (err) { error.textContent = explain(err, "reports"); })
        .then(function () { send.disabled = false; });
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
      this.say("Sign in to report a comment.", true);
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
    this.root.querySelectorAll("time.cw-time").forEach(function (t) {
      t.textContent = ago(t.getAttribute("datetime"));
    });
  };

  // --- mounting

  function mountAll() {
    document.querySelectorAll("[data-comments-article]:not([data-comments-mounted])").forEach(function (host) {
      widgets.push(new Widget(host));
    });
  }

  function refresh() {
    widgets = widgets.filter(function (w) { return w.host.isConnected; });
    return Promise.all(widgets.map(function (w) { return w.load(); }));
  }

  window.CommentsWidget = { mountAll: mountAll, refresh: refresh };
  document.addEventListener("comments:auth-changed", refresh);
  setInterval(function () { widgets.forEach(function (w) { w.tick(); }); }, 60000);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
