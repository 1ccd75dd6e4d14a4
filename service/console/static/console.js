/*
 * Moderator console (/admin). Plain JavaScript, no dependencies; talks only to the service's
 * own API with the moderator's bearer token. The token comes from
 * window.CommentsAuth.getToken() when the host defines it, else from the sign-in field
 * (kept in sessionStorage), or in demo mode from POST /demo/token {"persona": "moderator"}.
 * Only body_html (sanitised by the server) is inserted as HTML; every other string goes
 * through textContent. See docs/console.md.
 */
(function () {
  "use strict";

  var API = "/api/v1/admin";
  var PUBLIC = "/api/v1";
  var TOKEN_KEY = "comments-console:token";
  var THEME_KEY = "comments-console:theme";
  var PAGE = 20;
  var DAYS = 30;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var REASONS = {
    spam: "Spam", abuse: "Abuse", harassment: "Harassment", hate: "Hate",
    misinformation: "Misinformation", off_topic: "Off topic", other: "Other",
  };
  var HELD = {
    flags: "Hidden automatically: readers' flags reached the threshold",
    blocked_term: "Held: contains a blocked term",
    links: "Held: too many links",
    premoderation: "Held for premoderation",
    spam_score: "Held: the spam model scored it as likely spam",
  };
  // One button per outcome: approving publishes the comment and clears its flags, so the
  // API's dismiss_flags (the same outcome on a published comment) has no button of its own.
  var ACTIONS = {
    approve: ["Approve", "approved"], remove: ["Remove", "removed"], restore: ["Restore", "restored"],
    pin: ["Pin", "pinned"], unpin: ["Unpin", "unpinned"],
  };

  var body = document.body;
  var DEMO = body.getAttribute("data-demo") === "true";
  var $ = function (id) { return document.getElementById(id); };
  var enc = encodeURIComponent;

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
      if (child === null || child === undefined || child === false) return;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, String(attrs[key]));
    });
    (children || []).forEach(function (child) { node.append(child); });
    return node;
  }

  function when(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d)) return iso;
    return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric",
                                         hour: "2-digit", minute: "2-digit" });
  }

  function timeEl(iso) { return el("time", { datetime: iso, text: when(iso) }); }

  // The value a datetime-local input shows for an ISO instant, in the moderator's time zone.
  function localInput(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d)) return "";
    var pad = function (n) { return ("0" + n).slice(-2); };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  function show(node, visible) { node.hidden = !visible; }

  function say(node, text) { node.textContent = text || ""; show(node, !!text); }

  // Polite announcements for results that have no visible place of their own.
  function announce(text) {
    var live = $("announce");
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 30);
  }

  function focusable(node) {
    if (node && !node.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(node.tagName)) {
      node.tabIndex = -1;
    }
    return node;
  }

  function claims(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var json = decodeURIComponent(atob(part).split("").map(function (c) {
        return "%" + ("00" + c.charCodeAt(0).toString(16)).slice(-2);
      }).join(""));
      return JSON.parse(json);
    } catch (e) { return null; }
  }

  // --- theme: auto follows prefers-color-scheme; light and dark are kept for this browser

  var themePick = $("theme");
  function applyTheme(value) {
    if (value === "light" || value === "dark") document.documentElement.setAttribute("data-theme", value);
    else document.documentElement.removeAttribute("data-theme");
  }
  (function () {
    var saved = null;
    try { saved = localStorage.getItem(THEME_KEY); } catch (e) { saved = null; }
    themePick.value = saved === "light" || saved === "dark" ? saved : "auto";
    applyTheme(themePick.value);
    themePick.addEventListener("change", function () {
      applyTheme(themePick.value);
      try { localStorage.setItem(THEME_KEY, themePick.value); } catch (e) { /* not kept */ }
    });
  })();

  // --- the token, the caller's roles and API calls

  function hostAuth() {
    return window.CommentsAuth && typeof window.CommentsAuth.getToken === "function";
  }

  function storedToken() {
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  var memoryToken = null;

  function keepToken(token) {
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token lives as long as the page */ }
    memoryToken = token;
  }

  // The host's callback first; a token pasted here (or the demo moderator's) otherwise.
  function getToken() {
    var own = function () { return storedToken() || memoryToken || null; };
    if (hostAuth()) {
      return Promise.resolve().then(function () { return window.CommentsAuth.getToken(); })
        .then(function (t) { return t || own(); });
    }
    return Promise.resolve(own());
  }

  // What the token says the caller may do. The server decides; this only hides what it
  // would refuse (erasure needs the admin role).
  var roles = [];
  function isModerator() { return roles.indexOf("moderator") >= 0 || roles.indexOf("admin") >= 0; }
  function isAdmin() { return roles.indexOf("admin") >= 0; }

  function ApiError(status, detail) {
    this.status = status;
    this.message = detail;
  }

  function request(method, path, payload) {
    return getToken().then(function (token) {
      if (!token) throw new ApiError(401, "Sign in to use the console.");
      var init = { method: method, credentials: "omit",
                   headers: { Authorization: "Bearer " + token, Accept: "application/json" } };
      if (payload !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(payload);
      }
      return fetch(path, init).then(function (r) {
        return r.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (r.ok) return data;
          var detail = (data && (data.detail || data.title)) || ("The service answered " + r.status + ".");
          if (data && data.errors) {
            var fields = Object.keys(data.errors).map(function (k) {
              return k + ": " + [].concat(data.errors[k]).join(" ");
            });
            if (fields.length) detail += " (" + fields.join("; ") + ")";
          }
          throw new ApiError(r.status, detail);
        });
      }, function () {
        throw new ApiError(0, "The comments service cannot be reached. Check the connection and try again.");
      });
    }).catch(function (err) {
      // 401: the token is no good. 403 for someone who is not a moderator at all: this
      // console is not for them. 403 for a moderator: one action needs more (the admin
      // role); it is reported where it was asked for, and the moderator stays signed in.
      if (err instanceof ApiError && (err.status === 401 || (err.status === 403 && !isModerator()))) {
        keepToken(null);  // a rejected token is not offered again
        signedOut(err);
      } else if (err instanceof ApiError && err.status === 403) {
        err.message = "You may not do this: " + err.message +
          (isAdmin() ? "" : " It needs the admin role; ask an administrator.");
      }
      throw err;
    });
  }

  function quiet(err) { return err.status === 401 || (err.status === 403 && !isModerator()); }

  // --- signing in and out

  var notice = $("notice");
  var signin = $("signin");
  var consoleEl = $("console");
  var started = false;

  function signedOut(err) {
    var text;
    if (err && err.status === 403) {
      text = "You are signed in, but not as a moderator: this console needs the moderator or admin role. " +
             "Sign in with a moderator's token.";
    } else if (err && err.message && err.status === 401 && err.message !== "Sign in to use the console.") {
      text = "Your sign-in was not accepted: " + err.message + " Sign in again.";
    } else {
      text = "";
    }
    roles = [];
    say(notice, text);
    show(consoleEl, false);
    show(signin, true);
    show($("who"), false);
    show($("sign-out"), !!(storedToken() || memoryToken));
    started = false;
  }

  function signedIn() {
    getToken().then(function (token) {
      var c = token ? claims(token) : null;
      // A token that is not a readable JWT: the server will say what it may do.
      roles = !c ? ["moderator"] : Array.isArray(c.roles) ? c.roles.map(String) : [];
      var who = $("who");
      if (c) {
        who.textContent = "Signed in as " + (c.name || c.sub || "a moderator") +
          (c.name && c.sub ? " (" + c.sub + ")" : "");
        show(who, true);
      }
      show($("sign-out"), !!(storedToken() || memoryToken));
      say(notice, "");
      show(signin, false);
      show(consoleEl, true);
      if (!started) {
        started = true;
        loaded = {};
        loadQueue(false);
        route(false);
      }
    });
  }

  $("signin-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = $("token");
    var token = input.value.trim().replace(/^Bearer\s+/i, "");
    if (!token) {
      say(notice, "Paste a token first.");
      input.focus();
      return;
    }
    keepToken(token);
    input.value = "";
    signedIn();
  });

  var demoButton = $("demo-signin");
  if (demoButton) {
    demoButton.addEventListener("click", function () {
      demoButton.disabled = true;
      fetch(body.getAttribute("data-demo-token"), {
        method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ persona: "moderator" }),
      }).then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok || !data.token) throw new Error(data.detail || "The demo moderator could not sign in.");
          keepToken(data.token);
          signedIn();
        });
      }).catch(function (err) { say(notice, err.message); })
        .then(function () { demoButton.disabled = false; });
    });
  }

  $("sign-out").addEventListener("click", function () {
    keepToken(null);
    signedOut(null);
    $("token").focus();
  });

  // --- tabs and addresses: /admin?article=ID#comment-N, /admin?comment=N, /admin?user=ID

  var TABS = ["queue", "thread", "bans", "user", "audit", "stats"];
  var currentTab = "queue";
  var loaded = {};

  function openTab(name, focus) {
    currentTab = name;
    TABS.forEach(function (t) {
      var tab = $("tab-" + t);
      var selected = t === name;
      tab.setAttribute("aria-selected", selected ? "true" : "false");
      tab.tabIndex = selected ? 0 : -1;
      show($("panel-" + t), selected);
    });
    if (focus) $("tab-" + name).focus();
    if (loaded[name]) return;
    loaded[name] = true;
    if (name === "audit") loadAudit(false);
    if (name === "stats") loadStats();
    if (name === "bans") loadBans(false);
  }

  TABS.forEach(function (t, i) {
    var tab = $("tab-" + t);
    tab.addEventListener("click", function () { openTab(t, false); });
    tab.addEventListener("keydown", function (e) {
      var next = null;
      if (e.key === "ArrowRight") next = TABS[(i + 1) % TABS.length];
      else if (e.key === "ArrowLeft") next = TABS[(i + TABS.length - 1) % TABS.length];
      else if (e.key === "Home") next = TABS[0];
      else if (e.key === "End") next = TABS[TABS.length - 1];
      if (next) {
        e.preventDefault();
        openTab(next, true);
      }
    });
  });

  function threadHref(articleId, commentId) {
    return "?article=" + enc(articleId) + (commentId ? "#comment-" + commentId : "");
  }
  function userHref(userId) { return "?user=" + enc(userId); }

  // A link inside the console: a real address (it opens in a new tab too), followed in place.
  function link(href, text, extra) {
    var a = el("a", Object.assign({ href: href, text: text }, extra || {}));
    a.addEventListener("click", function (e) {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      e.preventDefault();
      history.pushState(null, "", href);
      route(true);
    });
    return a;
  }

  function route(focus) {
    var params = new URLSearchParams(location.search);
    var hash = /^#comment-(\d+)$/.exec(location.hash);
    if (params.get("user")) {
      openTab("user", false);
      openUser(params.get("user"), focus);
    } else if (params.get("article")) {
      openTab("thread", false);
      openThread(params.get("article"), hash ? Number(hash[1]) : null, focus);
    } else if (params.get("comment") && /^\d+$/.test(params.get("comment"))) {
      openTab("thread", false);
      findComment(Number(params.get("comment")), focus);
    } else if (focus) {
      openTab("queue", true);
    }
  }

  window.addEventListener("popstate", function () { if (started) route(true); });

  // --- the queue

  var queue = { state: "all", article: "", cursor: null, busy: false };
  var queueList = $("queue-list");
  var queueStatus = $("queue-status");

  function stillWaiting(item) {
    var gone = item.status === "deleted" || item.status === "removed";
    var flagged = item.flag_count > 0 && !gone;
    var pending = item.status === "pending";
    var hidden = item.status === "hidden";
    return { flagged: flagged, pending: pending, hidden: hidden,
             all: flagged || pending || hidden }[queue.state];
  }

  function queueQuery() {
    var q = "?limit=" + PAGE + "&state=" + enc(queue.state);
    if (queue.article) q += "&article_id=" + enc(queue.article);
    if (queue.cursor) q += "&cursor=" + enc(queue.cursor);
    return q;
  }

  function queueSummary(total) {
    queueStatus.textContent = plural(total, "comment", "comments") + " waiting" +
      (queue.state === "all" ? "" : " (" + $("queue-state").selectedOptions[0].textContent.toLowerCase() + ")") +
      (queue.article ? " on " + queue.article : "") + "; showing " + queueList.children.length + ".";
  }

  function loadQueue(more) {
    if (queue.busy) return;
    queue.busy = true;
    if (!more) queue.cursor = null;
    queueStatus.textContent = "Loading…";
    request("GET", API + "/queue" + queueQuery()).then(function (data) {
      if (!more) queueList.replaceChildren();
      var first = null;
      data.items.forEach(function (item) {
        var li = renderItem(item);
        first = first || li;
        queueList.append(li);
      });
      queue.cursor = data.next_cursor;
      queue.total = data.total;
      show($("queue-more"), !!data.next_cursor);
      afterQueueChange();
      queueSummary(data.total);
      if (more && first) first.querySelector("h3").focus();
    }, function (err) {
      queueStatus.textContent = quiet(err) ? "" : err.message;
    }).then(function () { queue.busy = false; });
  }

  $("queue-filters").addEventListener("submit", function (e) {
    e.preventDefault();
    queue.state = $("queue-state").value;
    queue.article = $("queue-article").value.trim();
    loadQueue(false);
  });
  $("queue-more").addEventListener("click", function () { loadQueue(true); });

  function authorOf(item) {
    return item.author || (item.retained && item.retained.author) || null;
  }

  function renderItem(item) {
    var li = el("li", { class: "qi", id: "queue-" + item.id, "data-comment-id": item.id });
    fillItem(li, item);
    return li;
  }

  function bodyOf(item) {
    var bodyNode = el("div", { class: "body" });
    var html = item.body_html || (item.retained && item.retained.body_html);
    if (html) bodyNode.innerHTML = html;  // sanitised by the server
    else bodyNode.append(el("p", { class: "muted", text: "(The text was deleted by its author.)" }));
    return bodyNode;
  }

  function authorLink(author) {
    if (!author) return "unknown";
    if (author.id && !author.is_guest) return link(userHref(author.id), author.id, { class: "user-link" });
    return author.id ? author.id + " (guest)" : "guest";
  }

  // The spam model's score (issue #18): removing with reason "spam" or "abuse" teaches it
  // spam, approving teaches it the opposite.
  function spamScore(item) {
    if (item.spam_score === null || item.spam_score === undefined) return null;
    var pct = Math.round(item.spam_score * 100);
    return el("div", null, [el("dt", { text: "Spam score" }), el("dd", null, [
      el("span", { class: "spam-score" + (item.spam_score >= 0.9 ? " high" : item.spam_score >= 0.5 ? " mid" : ""),
                   text: pct + "%", title: "The spam model's estimate when the comment was posted" }),
    ])]);
  }

  function fillItem(li, item) {
    var author = authorOf(item);
    var headingId = "queue-" + item.id + "-title";
    var flagReasons = Object.keys(item.flags || {}).filter(function (k) { return item.flags[k] > 0; })
      .sort(function (a, b) { return item.flags[b] - item.flags[a] || (a < b ? -1 : 1); });  // most first
    var why = [];
    if (item.held_reason) why.push(HELD[item.held_reason] || "Held: " + item.held_reason);
    if (item.status === "published" && item.flag_count > 0) why.push("Published, flagged by readers");
    if (item.shadowed) why.push("Written under a shadow ban: only its author sees it");
    if (item.pinned) why.push("Pinned");

    var record = item.author_record;
    var reason = el("input", { type: "text", id: "reason-" + item.id, maxlength: 500,
                               class: "reason", autocomplete: "off" });
    var error = el("p", { class: "error act-error", role: "alert", hidden: true });
    var done = el("p", { class: "done act-done", role: "status" });
    var buttons = Object.keys(ACTIONS).filter(function (a) { return applicable(a, item); })
      .map(function (a) {
        return el("button", { type: "button", class: a === "remove" ? "danger" : a === "approve" ? "primary" : null,
                              "data-action": a, text: ACTIONS[a][0], "aria-keyshortcuts": a === "approve" ? "a" : a === "remove" ? "r" : null,
                              onclick: function (e) { act(li, item, a, reason.value.trim(), e.currentTarget, error); } });
      });
    var select = el("input", { type: "checkbox", class: "pick", id: "pick-" + item.id,
                               "aria-label": "Select comment #" + item.id, onchange: bulkCount });
    var notes = item.notes || [];

    li.replaceChildren(
      el("article", { "aria-labelledby": headingId }, [
        el("header", { class: "qi-head" }, [
          select,
          el("h3", { id: headingId, tabindex: -1 }, [
            (author ? author.name || author.id || "Guest" : "Unknown author"),
            el("span", { class: "sub", text: " on " + item.article_id }),
          ]),
          el("span", { class: "badge status-" + item.status, text: item.status }),
          el("span", { class: "sub" }, [
            link(threadHref(item.article_id, item.id), "#" + item.id, {
              class: "in-thread", "aria-label": "Comment #" + item.id + " in its thread" }),
            " · ", timeEl(item.created_at),
          ]),
        ]),
        el("dl", { class: "facts" }, [
          el("div", null, [el("dt", { text: "Author" }), el("dd", null, [
            authorLink(author),
            record ? el("span", { class: "record", text: " · " + plural(record.comments, "comment", "comments") +
                                                          ", " + record.removed + " removed" }) : null,
          ])]),
          el("div", null, [el("dt", { text: "Flags" }), el("dd", null, [
            el("span", { class: "flag-count", text: plural(item.flag_count, "flag", "flags") }),
            flagReasons.length ? el("ul", { class: "flags" }, flagReasons.map(function (k) {
              return el("li", { "data-reason": k, text: (REASONS[k] || k) + ": " + item.flags[k] });
            })) : null,
          ])]),
          why.length ? el("div", null, [el("dt", { text: "Why here" }), el("dd", { class: "why", text: why.join(" · ") })]) : null,
          spamScore(item),
        ]),
        notes.length ? el("div", { class: "notes" }, [
          el("p", { class: "notes-title", text: "What readers said" }),
          el("ul", null, notes.map(function (n) {
            return el("li", null, [
              el("span", { class: "note-reason", text: (REASONS[n.reason] || n.reason) + ": " }),
              el("q", { class: "note-text", text: n.note }), " ", el("span", { class: "sub" }, [timeEl(n.created_at)]),
            ]);
          })),
        ]) : null,
        item.parent ? el("p", { class: "parent" }, [
          el("span", { class: "label", text: "In reply to #" + item.parent.id + ": " }),
          item.parent.excerpt === null ? el("em", { text: "a " + item.parent.status + " comment" })
                                       : "“" + item.parent.excerpt + "”",
        ]) : null,
        bodyOf(item),
        el("div", { class: "decide" }, [
          el("div", { class: "field" }, [
            el("label", { for: "reason-" + item.id, text: "Reason (optional)" }), reason,
          ]),
          el("div", { class: "buttons" }, buttons),
        ]),
        author && author.id && !author.is_guest ? banForm("q" + item.id, author.id, author.name) : null,
        error, done,
      ]),
    );
  }

  function applicable(action, item) {
    var gone = item.status === "deleted" || item.status === "removed";
    switch (action) {
      case "approve": return item.status === "pending" || item.status === "hidden" ||
                             (item.status === "published" && item.flag_count > 0);
      case "remove": return !gone;
      case "restore": return item.status === "removed";
      case "pin": return item.status === "published" && !item.pinned && item.parent_id === null && !item.shadowed;
      case "unpin": return item.pinned;
    }
    return false;
  }

  function decide(item, action, reason) {
    var payload = { action: action };
    if (reason) payload.reason = reason;
    return request("POST", API + "/comments/" + item.id + "/actions", payload);
  }

  // After a card leaves: the next card (or the previous), else the filters, keeps the focus.
  function leave(li) {
    var next = li.nextElementSibling || li.previousElementSibling;
    var hadFocus = li.contains(document.activeElement) || document.activeElement === body;
    li.remove();
    if (hadFocus || !document.activeElement || document.activeElement === body) {
      if (next) next.querySelector("h3").focus();
      else $("queue-state").focus();
    }
  }

  function act(li, item, action, reason, button, error) {
    say(error, "");
    if (button) button.disabled = true;
    return decide(item, action, reason).then(function (after) {
      var message = "Comment #" + item.id + " " + ACTIONS[action][1];
      if (stillWaiting(after)) {
        fillItem(li, after);
        li.querySelector(".act-done").textContent = message + ".";
        li.querySelector("h3").focus();
      } else {
        leave(li);
        if (typeof queue.total === "number") queue.total = Math.max(0, queue.total - 1);
        queueStatus.textContent = message + "; it left the queue.";
        afterQueueChange();
      }
    }, function (err) {
      if (button) button.disabled = false;
      say(error, err.message);
      if (!li.contains(document.activeElement)) li.querySelector("h3").focus();
    });
  }

  // --- bulk decisions

  var bulk = $("bulk");
  var selectAll = $("select-all");

  function picked() {
    return Array.prototype.filter.call(queueList.querySelectorAll(".pick"), function (c) { return c.checked; });
  }

  function bulkCount() {
    var n = picked().length;
    var all = queueList.querySelectorAll(".pick").length;
    $("bulk-count").textContent = n ? plural(n, "comment", "comments") + " selected" : "None selected";
    $("bulk-approve").disabled = $("bulk-remove").disabled = n === 0;
    selectAll.checked = n > 0 && n === all;
    selectAll.indeterminate = n > 0 && n < all;
  }

  function afterQueueChange() {
    show($("queue-empty"), queueList.children.length === 0);
    show(bulk, queueList.children.length > 0);
    bulkCount();
  }

  selectAll.addEventListener("change", function () {
    queueList.querySelectorAll(".pick").forEach(function (c) { c.checked = selectAll.checked; });
    bulkCount();
  });

  function bulkAct(action) {
    var boxes = picked();
    var error = $("bulk-error");
    say(error, "");
    if (!boxes.length) return;
    var buttons = [$("bulk-approve"), $("bulk-remove")];
    buttons.forEach(function (b) { b.disabled = true; });
    var cards = boxes.map(function (c) { return c.closest(".qi"); });
    var failures = [];
    var left = 0;
    Promise.all(cards.map(function (li) {
      var id = Number(li.getAttribute("data-comment-id"));
      var item = { id: id };
      if (action === "approve" && !li.querySelector('[data-action="approve"]')) {
        failures.push("#" + id + ": there is nothing to approve");
        return null;
      }
      return decide(item, action, "").then(function (after) {
        if (stillWaiting(after)) fillItem(li, after);
        else { li.setAttribute("data-gone", "true"); left += 1; }
      }, function (err) { failures.push("#" + id + ": " + err.message); });
    })).then(function () {
      var firstLeft = null;
      cards.forEach(function (li) {
        if (li.getAttribute("data-gone") === "true") {
          var next = li.nextElementSibling;
          while (next && next.getAttribute("data-gone") === "true") next = next.nextElementSibling;
          firstLeft = firstLeft || next || li.previousElementSibling;
          li.remove();
        }
      });
      if (typeof queue.total === "number") queue.total = Math.max(0, queue.total - left);
      var verb = ACTIONS[action][1];
      var message = plural(cards.length - failures.length, "comment", "comments") + " " + verb +
        (failures.length ? "; " + failures.length + " could not be" : "") + ".";
      queueStatus.textContent = message;
      if (failures.length) say(error, failures.join(" "));
      afterQueueChange();
      if (!queueList.contains(document.activeElement)) {
        var target = firstLeft && firstLeft.isConnected ? firstLeft : queueList.querySelector(".qi");
        if (target) target.querySelector("h3").focus(); else $("queue-state").focus();
      }
    });
  }

  $("bulk-approve").addEventListener("click", function () { bulkAct("approve"); });
  $("bulk-remove").addEventListener("click", function () { bulkAct("remove"); });

  // --- keyboard shortcuts (queue): j/k move, a approve, r remove, x select, o open, ? help

  var dialog = $("shortcuts");
  var beforeDialog = null;

  function openShortcuts() {
    beforeDialog = document.activeElement;
    if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
    $("shortcuts-close").focus();
  }
  function closeShortcuts() {
    if (typeof dialog.close === "function") dialog.close(); else dialog.removeAttribute("open");
  }
  dialog.addEventListener("close", function () {
    if (beforeDialog && beforeDialog.isConnected) beforeDialog.focus();
    else $("shortcuts-open").focus();
  });
  $("shortcuts-open").addEventListener("click", openShortcuts);
  $("shortcuts-close").addEventListener("click", closeShortcuts);

  function currentCard() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("#queue-list > .qi") : null;
  }

  function moveCard(step) {
    var cards = Array.prototype.slice.call(queueList.children);
    if (!cards.length) return;
    var at = cards.indexOf(currentCard());
    var next = at < 0 ? (step > 0 ? 0 : cards.length - 1) : Math.min(cards.length - 1, Math.max(0, at + step));
    var h3 = cards[next].querySelector("h3");
    h3.focus();
    h3.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    var target = e.target;
    if (target && (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName))) return;
    if (!started || dialog.open) return;
    if (e.key === "?") { e.preventDefault(); openShortcuts(); return; }
    if (currentTab !== "queue") return;
    var card = currentCard();
    if (e.key === "j" || e.key === "k") { e.preventDefault(); moveCard(e.key === "j" ? 1 : -1); return; }
    if (!card) return;
    var button = null;
    if (e.key === "a") button = card.querySelector('[data-action="approve"]');
    else if (e.key === "r") button = card.querySelector('[data-action="remove"]');
    else if (e.key === "x") {
      e.preventDefault();
      var box = card.querySelector(".pick");
      box.checked = !box.checked;
      bulkCount();
      announce("Comment #" + card.getAttribute("data-comment-id") + (box.checked ? " selected." : " unselected."));
      return;
    } else if (e.key === "o") {
      e.preventDefault();
      card.querySelector(".in-thread").click();
      return;
    } else return;
    e.preventDefault();
    if (button && !button.disabled) button.click();
    else announce(e.key === "a" ? "This comment cannot be approved." : "This comment cannot be removed.");
  });

  // --- bans

  function banPayload(reason, expires, shadow, error) {
    if (!reason.value.trim()) {
      say(error, "Say why the author is banned.");
      reason.focus();
      return null;
    }
    var payload = { reason: reason.value.trim(), shadow: shadow.checked };
    if (expires.value) {
      var at = new Date(expires.value);
      if (isNaN(at)) { say(error, "The end date is not a valid date."); expires.focus(); return null; }
      payload.expires_at = at.toISOString();
    }
    return payload;
  }

  function banned(ban) {
    return (ban.shadow ? "Shadow-banned " : "Banned ") + ban.user_id +
      (ban.expires_at ? " until " + when(ban.expires_at) : "") + ".";
  }

  // A ban form for one known person (queue cards, threads, people).
  function banForm(key, userId, name, onDone) {
    var id = "ban-" + key;
    var reason = el("input", { type: "text", id: id + "-reason", maxlength: 500, required: true, autocomplete: "off" });
    var expires = el("input", { type: "datetime-local", id: id + "-expires" });
    var shadow = el("input", { type: "checkbox", id: id + "-shadow" });
    var error = el("p", { class: "error ban-error", role: "alert", hidden: true });
    var done = el("p", { class: "done ban-done", role: "status" });
    var submit = el("button", { type: "submit", class: "danger", text: "Ban " + (name || userId) });
    var form = el("form", { class: "ban", novalidate: true }, [
      el("div", { class: "field" }, [el("label", { for: id + "-reason", text: "Reason for the ban" }), reason]),
      el("div", { class: "field" }, [el("label", { for: id + "-expires", text: "Until (optional, your time zone)" }), expires]),
      el("div", { class: "field check" }, [shadow, el("label", { for: id + "-shadow",
        text: "Shadow ban (their new comments are shown to them alone)" })]),
      submit, error, done,
    ]);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      say(error, "");
      done.textContent = "";
      var payload = banPayload(reason, expires, shadow, error);
      if (!payload) return;
      submit.disabled = true;
      request("PUT", API + "/bans/" + enc(userId), payload).then(function (ban) {
        done.textContent = banned(ban);
        loaded.bans = false;
        if (onDone) onDone(ban);
      }, function (err) { say(error, err.message); })
        .then(function () { submit.disabled = false; });
    });
    return el("details", { class: "ban-box" }, [el("summary", { text: "Ban the author…" }), form]);
  }

  var bans = { cursor: null, busy: false };
  var banRows = $("bans-rows");

  function loadBans(more) {
    if (bans.busy) return;
    bans.busy = true;
    if (!more) bans.cursor = null;
    var status = $("bans-status");
    status.textContent = "Loading…";
    var q = "?limit=" + PAGE + (bans.cursor ? "&cursor=" + enc(bans.cursor) : "");
    request("GET", API + "/bans" + q).then(function (data) {
      if (!more) banRows.replaceChildren();
      data.items.forEach(function (ban) { banRows.append(banRow(ban)); });
      bans.cursor = data.next_cursor;
      show($("bans-more"), !!data.next_cursor);
      show($("bans-empty"), banRows.children.length === 0);
      status.textContent = plural(banRows.children.length, "ban", "bans") + " in force" +
        (data.next_cursor ? " shown; more follow." : ".");
    }, function (err) {
      loaded.bans = false;
      status.textContent = quiet(err) ? "" : err.message;
    }).then(function () { bans.busy = false; });
  }

  function banRow(ban) {
    var key = "b-" + ban.user_id.replace(/[^A-Za-z0-9_-]/g, "_");
    var row = el("tr", { "data-user": ban.user_id });
    var error = el("p", { class: "error", role: "alert", hidden: true });
    var until = el("td", { class: "until", "data-label": "Until" }, [ban.expires_at ? timeEl(ban.expires_at) : "no end"]);
    var edit = el("button", { type: "button", class: "edit-end", text: "Change end", "aria-label": "Change end of " + ban.user_id + "'s ban" });
    var unban = el("button", { type: "button", class: "danger", text: "Unban", "aria-label": "Unban " + ban.user_id });
    var editor = el("form", { class: "inline-edit", hidden: true, novalidate: true });
    var input = el("input", { type: "datetime-local", id: key + "-until", value: localInput(ban.expires_at) });
    var save = el("button", { type: "submit", class: "primary", text: "Save" });
    var cancel = el("button", { type: "button", text: "Cancel" });
    editor.append(el("label", { for: key + "-until", text: "Ends (empty: never)" }), input, save, cancel);
    until.append(editor);
    edit.addEventListener("click", function () { show(editor, true); show(edit, false); input.focus(); });
    cancel.addEventListener("click", function () { show(editor, false); show(edit, true); edit.focus(); });
    editor.addEventListener("submit", function (e) {
      e.preventDefault();
      say(error, "");
      var expires = null;
      if (input.value) {
        var at = new Date(input.value);
        if (isNaN(at)) { say(error, "The end date is not a valid date."); input.focus(); return; }
        expires = at.toISOString();
      }
      save.disabled = true;
      request("PUT", API + "/bans/" + enc(ban.user_id),
              { reason: ban.reason || "(no reason given)", shadow: ban.shadow, expires_at: expires })
        .then(function (after) {
          var fresh = banRow(after);
          row.replaceWith(fresh);
          fresh.querySelector(".edit-end").focus();
          announce(banned(after));
        }, function (err) { save.disabled = false; say(error, err.message); input.focus(); });
    });
    unban.addEventListener("click", function () {
      say(error, "");
      unban.disabled = true;
      request("DELETE", API + "/bans/" + enc(ban.user_id)).then(function () {
        var next = row.nextElementSibling || row.previousElementSibling;
        row.remove();
        show($("bans-empty"), banRows.children.length === 0);
        $("bans-status").textContent = "Lifted the ban on " + ban.user_id + ".";
        if (next) next.querySelector(".edit-end").focus(); else $("bans-title").focus();
      }, function (err) { unban.disabled = false; say(error, err.message); });
    });
    row.append(
      el("td", null, [link(userHref(ban.user_id), ban.user_id, { class: "user-link" })]),
      el("td", { "data-label": "Reason", text: ban.reason || "" }),
      el("td", { "data-label": "Kind", text: ban.shadow ? "shadow" : "ban" }),
      until,
      el("td", { "data-label": "By" }, [ban.created_by, el("br"), el("span", { class: "sub" }, [timeEl(ban.created_at)])]),
      el("td", null, [el("div", { class: "buttons" }, [edit, unban]), error]),
    );
    return row;
  }

  $("bans-more").addEventListener("click", function () { loadBans(true); });
  $("ban-new-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var error = $("ban-new-error");
    say(error, "");
    var user = $("ban-new-user");
    if (!user.value.trim()) { say(error, "Give the user id to ban."); user.focus(); return; }
    var payload = banPayload($("ban-new-reason"), $("ban-new-expires"), $("ban-new-shadow"), error);
    if (!payload) return;
    var submit = e.currentTarget.querySelector("button[type=submit]");
    submit.disabled = true;
    request("PUT", API + "/bans/" + enc(user.value.trim()), payload).then(function (ban) {
      e.target.reset();
      $("bans-status").textContent = banned(ban);
      loadBans(false);
      user.focus();
    }, function (err) { say(error, err.message); })
      .then(function () { submit.disabled = false; });
  });

  // --- a thread in context: its switches and its comments, each with the moderator's actions

  var thread = { article: null, cursor: null, busy: false };

  function findComment(id, focus) {
    var status = $("thread-status");
    status.textContent = "Looking up comment #" + id + "…";
    request("GET", API + "/comments/" + id).then(function (c) {
      history.replaceState(null, "", threadHref(c.article_id, id));
      openThread(c.article_id, id, focus);
    }, function (err) { status.textContent = quiet(err) ? "" : err.message; });
  }

  function openThread(articleId, commentId, focus) {
    $("thread-article").value = articleId;
    thread = { article: articleId, cursor: null, busy: true, target: commentId };
    var status = $("thread-status");
    var box = $("thread-body");
    status.textContent = "Loading the thread…";
    Promise.all([
      request("GET", API + "/articles/" + enc(articleId)),
      request("GET", PUBLIC + "/articles/" + enc(articleId) + "/comments?sort=oldest&limit=" + PAGE),
    ]).then(function (both) {
      var settings = both[0], page = both[1];
      var list = el("ol", { class: "thread", id: "thread-list", "aria-label": "Comments on " + articleId });
      page.items.forEach(function (c) { list.append(threadItem(c)); });
      thread.cursor = page.next_cursor;
      var more = el("button", { type: "button", class: "more", id: "thread-more", text: "Load more comments",
                                hidden: !page.next_cursor, onclick: function () { moreThread(list, more); } });
      box.replaceChildren(
        threadSettings(articleId, settings),
        el("h2", { class: "section-title", id: "thread-title", tabindex: -1,
                   text: plural(settings.comment_count, "comment", "comments") + " readers see" }),
        list, more,
        page.items.length ? null : el("p", { class: "empty", text: "No comments here yet." }),
      );
      status.textContent = "";
      return showTarget(list, commentId, focus);
    }, function (err) {
      box.replaceChildren();
      status.textContent = quiet(err) ? "" : err.message;
    }).then(function () { thread.busy = false; });
  }

  // The linked comment: in the page of the thread shown, or fetched alone (it may be held,
  // hidden or further down) and shown above the thread.
  function showTarget(list, commentId, focus) {
    if (!commentId) {
      if (focus) $("thread-title").focus();
      return null;
    }
    var found = $("comment-" + commentId);
    var done = function (node) {
      node.classList.add("target");
      var article = node.querySelector("article");
      focusable(article);
      article.focus();
      article.scrollIntoView({ block: "center" });
    };
    if (found) { done(found); return null; }
    return request("GET", API + "/comments/" + commentId).then(function (c) {
      if (!c.author && c.retained) c.author = c.retained.author;
      var alone = el("ol", { class: "thread linked", "aria-label": "The linked comment" }, [threadItem(c)]);
      list.before(el("p", { class: "hint", text: "The linked comment is not among the first comments readers see:" }), alone);
      done($("comment-" + commentId));
    }, function (err) { $("thread-status").textContent = quiet(err) ? "" : err.message; });
  }

  function moreThread(list, button) {
    if (thread.busy || !thread.cursor) return;
    thread.busy = true;
    button.disabled = true;
    request("GET", PUBLIC + "/articles/" + enc(thread.article) + "/comments?sort=oldest&limit=" + PAGE +
            "&cursor=" + enc(thread.cursor)).then(function (page) {
      var first = null;
      page.items.forEach(function (c) { var li = threadItem(c); first = first || li; list.append(li); });
      thread.cursor = page.next_cursor;
      show(button, !!page.next_cursor);
      if (first) { var a = focusable(first.querySelector("article")); a.focus(); }
    }, function (err) { $("thread-status").textContent = err.message; })
      .then(function () { thread.busy = false; button.disabled = false; });
  }

  // A UTC timestamp as a datetime-local input's value, in the browser's time zone.
  function localInput(iso) {
    var d = new Date(iso), pad = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function threadSettings(articleId, s) {
    var status = el("select", { id: "thread-status-pick" }, ["open", "closed", "hidden"].map(function (v) {
      return el("option", { value: v, text: { open: "Open: readers may comment", closed: "Closed: read only",
                                               hidden: "Hidden: readers see no thread" }[v] });
    }));
    status.value = s.status;
    var premod = el("select", { id: "thread-premod" }, [
      el("option", { value: "", text: "Follow the site setting" }),
      el("option", { value: "true", text: "On: hold every new comment" }),
      el("option", { value: "false", text: "Off: publish at once" }),
    ]);
    premod.value = s.premoderation === null ? "" : String(s.premoderation);
    // Surge mode (issue #18): slow mode seconds and a premoderation end time.
    var slow = el("input", { type: "number", id: "thread-slow", min: 0, max: 86400, step: 1, inputmode: "numeric" });
    slow.value = String(s.slow_mode_seconds || 0);
    var until = el("input", { type: "datetime-local", id: "thread-premod-until" });
    until.value = s.premoderation_until ? localInput(s.premoderation_until) : "";
    var reason = el("input", { type: "text", id: "thread-reason", maxlength: 500, autocomplete: "off" });
    var error = el("p", { class: "error", role: "alert", hidden: true });
    var done = el("p", { class: "done", role: "status", id: "thread-saved" });
    var facts = el("p", { class: "sub", id: "thread-facts" });
    var describe = function (a) {
      facts.textContent = "Readers see it " + a.effective_status +
        (a.auto_closed ? " (closed automatically by age)" : "") + " · " +
        plural(a.comment_count, "comment", "comments") + " · " + plural(a.reaction_count, "reaction", "reactions") +
        (a.effective_slow_mode_seconds ? " · slow mode: one comment per " + a.effective_slow_mode_seconds + " s" +
          (a.effective_slow_mode_until ? " until " + new Date(a.effective_slow_mode_until).toLocaleString() : "") +
          (a.surge_until && a.effective_slow_mode_until === a.surge_until ? " (automatic surge)" : "") : "") +
        (a.effective_premoderation_until ? " · premoderated until " + new Date(a.effective_premoderation_until).toLocaleString() : "");
    };
    describe(s);
    var save = el("button", { type: "submit", class: "primary", text: "Save thread settings" });
    var form = el("form", { class: "decide thread-settings", novalidate: true }, [
      el("div", { class: "field" }, [el("label", { for: "thread-status-pick", text: "Thread" }), status]),
      el("div", { class: "field" }, [el("label", { for: "thread-premod", text: "Premoderation" }), premod]),
      el("div", { class: "field" }, [el("label", { for: "thread-slow", text: "Slow mode (seconds between a reader's comments, 0: off)" }), slow]),
      el("div", { class: "field" }, [el("label", { for: "thread-premod-until", text: "Hold new comments until (empty: no)" }), until]),
      el("div", { class: "field" }, [el("label", { for: "thread-reason", text: "Reason (optional)" }), reason]),
      save, error, done,
    ]);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      say(error, "");
      done.textContent = "";
      var payload = { status: status.value, premoderation: premod.value === "" ? null : premod.value === "true" };
      var seconds = Number(slow.value || 0);
      if (!Number.isInteger(seconds) || seconds < 0 || seconds > 86400) {
        say(error, "Slow mode must be a whole number of seconds from 0 to 86400.");
        return;
      }
      // Sent only when changed: a moderator's slow mode also ends an automatic surge.
      if (seconds !== (s.slow_mode_seconds || 0)) payload.slow_mode_seconds = seconds;
      if (until.value !== (s.premoderation_until ? localInput(s.premoderation_until) : "")) {
        payload.premoderation_until = until.value ? new Date(until.value).toISOString() : null;
      }
      if (reason.value.trim()) payload.reason = reason.value.trim();
      save.disabled = true;
      request("PATCH", API + "/articles/" + enc(articleId), payload).then(function (a) {
        s = a;
        describe(a);
        done.textContent = "Saved: the thread is " + a.status + ", premoderation " +
          (a.premoderation === null ? "follows the site setting" : a.premoderation ? "on" : "off") + ".";
      }, function (err) { say(error, err.message); })
        .then(function () { save.disabled = false; });
    });
    return el("section", { class: "box", "aria-labelledby": "thread-head" }, [
      el("h2", { id: "thread-head", class: "section-title", text: articleId }), facts, form,
    ]);
  }

  function threadItem(c) {
    var li = el("li", { class: "ti", id: "comment-" + c.id, "data-comment-id": c.id });
    fillThreadItem(li, c);
    return li;
  }

  function fillThreadItem(li, c) {
    var author = c.author;
    var error = el("p", { class: "error act-error", role: "alert", hidden: true });
    var done = el("p", { class: "done act-done", role: "status" });
    var gone = c.status === "deleted" || c.status === "removed";
    var actions = [];
    if (c.status === "published" && !c.pinned && c.depth === 0) actions.push("pin");
    if (c.pinned) actions.push("unpin");
    if (!gone) actions.push("remove");
    if (c.status === "removed") actions.push("restore");
    if (c.status === "pending" || c.status === "hidden") actions.push("approve");
    var buttons = actions.map(function (a) {
      return el("button", { type: "button", class: a === "remove" ? "danger" : null, "data-action": a,
                            text: ACTIONS[a][0], onclick: function (e) {
        var button = e.currentTarget;
        say(error, "");
        button.disabled = true;
        decide(c, a, "").then(function (after) {
          // The action answers in the moderators' shape; replies stay as they were.
          after.replies = c.replies;
          if (!after.author && after.retained) after.author = after.retained.author;
          fillThreadItem(li, after);
          li.querySelector(".act-done").textContent = "Comment #" + c.id + " " + ACTIONS[a][1] + ".";
          var again = li.querySelector("article .buttons button") || focusable(li.querySelector("article"));
          again.focus();
        }, function (err) { button.disabled = false; say(error, err.message); });
      } });
    });
    var replies = (c.replies || []).length
      ? el("ol", { class: "thread replies" }, c.replies.map(threadItem)) : null;
    var more = c.reply_count > (c.replies || []).length
      ? el("p", { class: "sub", text: plural(c.reply_count - (c.replies || []).length, "more reply", "more replies") +
                                       " not shown here." }) : null;
    var head = el("header", { class: "qi-head" }, [
      el("h3", { class: "ti-title" }, [author ? author.name || author.id || "Guest" : gone ? "(" + c.status + ")" : "Guest"]),
      c.status !== "published" ? el("span", { class: "badge status-" + c.status, text: c.status }) : null,
      c.pinned ? el("span", { class: "badge status-pinned", text: "pinned" }) : null,
      el("span", { class: "sub" }, ["#" + c.id + " · ", timeEl(c.created_at)]),
      author && author.id && !author.is_guest ? link(userHref(author.id), "Author's page", { class: "user-link" }) : null,
    ]);
    li.replaceChildren(
      el("article", { "aria-label": "Comment #" + c.id }, [
        head,
        gone && !c.body_html && !(c.retained && c.retained.body_html)
          ? el("p", { class: "muted", text: "(This comment was " + c.status + ".)" }) : bodyOf(c),
        buttons.length ? el("div", { class: "buttons" }, buttons) : null,
        error, done,
      ]),
      replies, more,
    );
  }

  $("thread-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var id = $("thread-article").value.trim();
    if (!id) { $("thread-status").textContent = "Give an article id."; $("thread-article").focus(); return; }
    history.pushState(null, "", threadHref(id));
    openThread(id, null, true);
  });

  // --- one person: history, ban, export, erasure

  var person = { id: null, cursor: null, busy: false };

  function openUser(userId, focus) {
    $("user-id").value = userId;
    person = { id: userId, cursor: null, busy: true };
    var status = $("user-status");
    var box = $("user-body");
    status.textContent = "Loading…";
    request("GET", API + "/users/" + enc(userId) + "/comments?limit=" + PAGE).then(function (data) {
      box.replaceChildren(renderPerson(data));
      status.textContent = "";
      person.cursor = data.next_cursor;
      if (focus) $("user-title").focus();
    }, function (err) {
      box.replaceChildren();
      status.textContent = quiet(err) ? "" : err.message;
    }).then(function () { person.busy = false; });
  }

  function renderPerson(data) {
    var userId = data.user_id;
    var written = el("ol", { class: "queue history", id: "user-history", "aria-label": "What " + userId + " wrote" });
    data.items.forEach(function (item) { written.append(historyItem(item)); });
    var more = el("button", { type: "button", class: "more", text: "Load more comments", hidden: !data.next_cursor });
    more.addEventListener("click", function () {
      if (person.busy) return;
      person.busy = true;
      request("GET", API + "/users/" + enc(userId) + "/comments?limit=" + PAGE + "&cursor=" + enc(person.cursor))
        .then(function (page) {
          var first = null;
          page.items.forEach(function (item) { var li = historyItem(item); first = first || li; written.append(li); });
          person.cursor = page.next_cursor;
          show(more, !!page.next_cursor);
          if (first) focusable(first.querySelector("article")).focus();
        }, function (err) { $("user-status").textContent = err.message; })
        .then(function () { person.busy = false; });
    });

    var banState = el("p", { id: "user-ban" });
    var banArea = el("div");
    var drawBan = function (ban) {
      if (ban) {
        banState.textContent = banned(ban).replace(/\.$/, "") + (ban.reason ? ": " + ban.reason : "") + ".";
        var lift = el("button", { type: "button", class: "danger", text: "Unban " + userId });
        var error = el("p", { class: "error", role: "alert", hidden: true });
        lift.addEventListener("click", function () {
          lift.disabled = true;
          request("DELETE", API + "/bans/" + enc(userId)).then(function () {
            loaded.bans = false;
            drawBan(null);
            announce("Lifted the ban on " + userId + ".");
            banArea.querySelector("summary").focus();
          }, function (err) { lift.disabled = false; say(error, err.message); });
        });
        banArea.replaceChildren(el("div", { class: "buttons" }, [lift]), error);
      } else {
        banState.textContent = "Not banned.";
        banArea.replaceChildren(banForm("u", userId, userId, function (b) {
          drawBan(b);
          banArea.querySelector("button").focus();
        }));
      }
    };
    drawBan(data.ban);

    var exportButton = el("button", { type: "button", text: "Export everything stored (JSON)" });
    var exportDone = el("p", { class: "done", role: "status" });
    var exportError = el("p", { class: "error", role: "alert", hidden: true });
    exportButton.addEventListener("click", function () {
      exportButton.disabled = true;
      say(exportError, "");
      request("GET", API + "/users/" + enc(userId) + "/export").then(function (dump) {
        var blob = new Blob([JSON.stringify(dump, null, 2)], { type: "application/json" });
        var url = URL.createObjectURL(blob);
        var a = el("a", { href: url, download: "comments-user-" + userId.replace(/[^A-Za-z0-9._-]/g, "_") + ".json" });
        body.append(a);
        a.click();
        a.remove();
        window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
        exportDone.textContent = "Exported " + plural(dump.comments.length, "comment", "comments") + ", " +
          plural(dump.flags.length, "flag", "flags") + " and " + plural(dump.audit_log.length, "audit entry", "audit entries") + ".";
      }, function (err) { say(exportError, err.message); })
        .then(function () { exportButton.disabled = false; });
    });

    var record = data.record;
    return el("div", { class: "person" }, [
      el("section", { class: "box", "aria-labelledby": "user-title" }, [
        el("h2", { class: "section-title", id: "user-title", tabindex: -1, text: userId }),
        el("p", { class: "sub", id: "user-record", text: plural(record.comments, "comment", "comments") + ", " +
                                                           record.removed + " removed" }),
        banState, banArea,
        el("div", { class: "buttons" }, [exportButton]), exportDone, exportError,
        isAdmin() ? eraseForm(userId) : el("p", { class: "hint", id: "erase-needs-admin",
          text: "Erasing a person needs the admin role." }),
      ]),
      el("h2", { class: "section-title", text: "What they wrote, newest first" }),
      data.items.length ? null : el("p", { class: "empty", text: "Nothing." }),
      written, more,
    ]);
  }

  function historyItem(item) {
    var li = el("li", { class: "qi hi", "data-comment-id": item.id });
    li.append(el("article", { "aria-label": "Comment #" + item.id }, [
      el("header", { class: "qi-head" }, [
        el("span", { class: "badge status-" + item.status, text: item.status }),
        link(threadHref(item.article_id, item.id), "#" + item.id + " on " + item.article_id, { class: "in-thread" }),
        el("span", { class: "sub" }, [timeEl(item.created_at)]),
        item.flag_count ? el("span", { class: "sub", text: plural(item.flag_count, "open flag", "open flags") }) : null,
      ]),
      bodyOf(item),
    ]));
    return li;
  }

  // Erasure cannot be undone: the moderator types the user id to confirm.
  function eraseForm(userId) {
    var confirmInput = el("input", { type: "text", id: "erase-confirm", autocomplete: "off", spellcheck: "false" });
    var reason = el("input", { type: "text", id: "erase-reason", maxlength: 500, autocomplete: "off" });
    var submit = el("button", { type: "submit", class: "danger", text: "Erase " + userId, disabled: true });
    var error = el("p", { class: "error", role: "alert", hidden: true });
    var done = el("p", { class: "done", role: "status", id: "erase-done" });
    confirmInput.addEventListener("input", function () { submit.disabled = confirmInput.value !== userId; });
    var form = el("form", { class: "ban erase", novalidate: true }, [
      el("p", { class: "hint", text: "Their comments become anonymous (or disappear when nobody replied), " +
                                     "their reactions and flags go. This cannot be undone." }),
      el("div", { class: "field" }, [el("label", { for: "erase-reason", text: "Reason (optional)" }), reason]),
      el("div", { class: "field" }, [el("label", { for: "erase-confirm", text: "Type " + userId + " to confirm" }), confirmInput]),
      submit, error, done,
    ]);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      say(error, "");
      if (confirmInput.value !== userId) { say(error, "Type the user id exactly to confirm."); confirmInput.focus(); return; }
      submit.disabled = true;
      var q = reason.value.trim() ? "?reason=" + enc(reason.value.trim()) : "";
      request("DELETE", API + "/users/" + enc(userId) + q).then(function (result) {
        var parts = Object.keys(result.erased || {}).map(function (k) { return k.replace(/_/g, " ") + ": " + result.erased[k]; });
        confirmInput.value = "";
        done.textContent = "Erased " + userId + (parts.length ? " (" + parts.join(", ") + ")" : "") + ".";
        done.tabIndex = -1;
        done.focus();
      }, function (err) {
        say(error, err.message);
        submit.disabled = confirmInput.value !== userId;
        confirmInput.focus();
      });
    });
    return el("details", { class: "ban-box", id: "erase" }, [el("summary", { text: "Erase this person…" }), form]);
  }

  $("user-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var id = $("user-id").value.trim();
    if (!id) { $("user-status").textContent = "Give a user id."; $("user-id").focus(); return; }
    history.pushState(null, "", userHref(id));
    openUser(id, true);
  });

  // --- the audit log

  var audit = { cursor: null, busy: false, filters: {} };
  var auditRows = $("audit-rows");
  var auditStatus = $("audit-status");

  function changes(before, after) {
    before = before || {};
    after = after || {};
    var keys = [];
    Object.keys(before).concat(Object.keys(after)).forEach(function (k) {
      if (keys.indexOf(k) < 0) keys.push(k);
    });
    var fmt = function (v) { return v === undefined || v === null ? "–" : typeof v === "object" ? JSON.stringify(v) : String(v); };
    return keys.filter(function (k) { return JSON.stringify(before[k]) !== JSON.stringify(after[k]); })
      .map(function (k) { return k + ": " + fmt(before[k]) + " → " + fmt(after[k]); });
  }

  function target(e) {
    var text = e.target_type + " " + e.target_id;
    if (e.target_type === "comment" && /^\d+$/.test(e.target_id)) {
      return link("?comment=" + e.target_id + "#comment-" + e.target_id, text, { class: "target-link" });
    }
    if (e.target_type === "article") return link(threadHref(e.target_id), text, { class: "target-link" });
    if (e.target_type === "user") return link(userHref(e.target_id), text, { class: "target-link" });
    return text;
  }

  function loadAudit(more) {
    if (audit.busy) return;
    audit.busy = true;
    if (!more) audit.cursor = null;
    var q = "?limit=" + PAGE;
    Object.keys(audit.filters).forEach(function (k) {
      if (audit.filters[k]) q += "&" + k + "=" + enc(audit.filters[k]);
    });
    if (audit.cursor) q += "&cursor=" + enc(audit.cursor);
    auditStatus.textContent = "Loading…";
    request("GET", API + "/audit-log" + q).then(function (data) {
      if (!more) auditRows.replaceChildren();
      var first = null;
      data.items.forEach(function (e) {
        var diff = changes(e.before, e.after);
        var row = el("tr", { "data-action": e.action }, [
          el("td", null, [timeEl(e.created_at)]),
          el("td", { "data-label": "Who", text: e.actor }),
          el("td", { class: "action", text: e.action }),
          el("td", { "data-label": "Target" }, [target(e)]),
          el("td", { "data-label": "Reason", text: e.reason || "" }),
          el("td", { class: "diff", "data-label": "Change" }, diff.length ? [el("ul", null, diff.map(function (d) { return el("li", { text: d }); }))] : ["–"]),
        ]);
        first = first || row;
        auditRows.append(row);
      });
      audit.cursor = data.next_cursor;
      show($("audit-more"), !!data.next_cursor);
      show($("audit-empty"), auditRows.children.length === 0);
      auditStatus.textContent = "Showing " + plural(auditRows.children.length, "entry", "entries") +
        (data.next_cursor ? "; more are older." : ".");
      if (more && first) { first.tabIndex = -1; first.focus(); }
    }, function (err) {
      loaded.audit = false;
      auditStatus.textContent = quiet(err) ? "" : err.message;
    }).then(function () { audit.busy = false; });
  }

  $("audit-filters").addEventListener("submit", function (e) {
    e.preventDefault();
    audit.filters = {
      actor: $("audit-actor").value.trim(), action: $("audit-action").value,
      target_type: $("audit-target-type").value, target_id: $("audit-target-id").value.trim(),
    };
    loadAudit(false);
  });
  $("audit-more").addEventListener("click", function () { loadAudit(true); });

  // --- stats

  function loadStats() {
    var status = $("stats-status");
    status.textContent = "Loading…";
    request("GET", API + "/stats?days=" + DAYS).then(function (data) {
      status.textContent = "";
      $("stats-body").replaceChildren(renderStats(data));
    }, function (err) {
      loaded.stats = false;
      status.textContent = quiet(err) ? "" : err.message;
    });
  }

  function figure(label, value) {
    return el("div", { class: "figure" }, [el("dt", { text: label }), el("dd", { text: String(value) })]);
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h";
    return (seconds / 86400).toFixed(1) + " days";
  }

  function renderStats(data) {
    var frag = document.createDocumentFragment();
    frag.append(el("dl", { class: "figures" }, [
      figure("Comments, last " + data.days + " days", data.totals.comments),
      figure("Reactions, last " + data.days + " days", data.totals.reactions),
      figure("Waiting now", data.queue.all),
      figure("Flagged", data.queue.flagged),
      figure("Held", data.queue.pending),
      figure("Hidden by flags", data.queue.hidden),
      figure("Decisions", data.decisions),
      figure("Median time to a decision", duration(data.median_seconds_to_decision)),
    ]));
    frag.append(el("h2", { id: "chart-title", text: "Comments and reactions per day" }));
    frag.append(chart(data.per_day));
    var reasons = Object.keys(data.flags_by_reason);
    frag.append(el("div", { class: "lists" }, [
      el("section", { "aria-labelledby": "flags-title" }, [
        el("h2", { id: "flags-title", text: "Flags by reason" }),
        el("ul", { class: "plain" }, reasons.map(function (k) {
          return el("li", { text: (REASONS[k] || k) + ": " + data.flags_by_reason[k] });
        })),
      ]),
      el("section", { "aria-labelledby": "discussed-title" }, [
        el("h2", { id: "discussed-title", text: "Most discussed articles" }),
        data.most_discussed.length ? el("ol", { class: "plain" }, data.most_discussed.map(function (a) {
          return el("li", null, [link(threadHref(a.article_id), a.article_id), ": " + plural(a.comments, "comment", "comments")]);
        })) : el("p", { class: "muted", text: "No comments in this period." }),
      ]),
    ]));
    return frag;
  }

  function chart(days) {
    var W = 720, H = 240, left = 44, right = 12, top = 14, bottom = 34;
    var plotW = W - left - right, plotH = H - top - bottom;
    var max = 1;
    days.forEach(function (d) { max = Math.max(max, d.comments, d.reactions); });
    var step = Math.pow(10, Math.floor(Math.log10(max)));
    var nice = Math.ceil(max / step) * step;
    if (nice / step > 5 && step >= 1) nice = Math.ceil(max / (step * 2)) * step * 2;
    var slot = plotW / Math.max(days.length, 1);
    var barW = Math.max(1, slot * 0.36);
    var y = function (v) { return top + plotH - (v / nice) * plotH; };

    var total = days.reduce(function (s, d) { return s + d.comments; }, 0);
    var reacts = days.reduce(function (s, d) { return s + d.reactions; }, 0);
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "chart", role: "img",
                            "aria-labelledby": "chart-title chart-desc", preserveAspectRatio: "xMidYMid meet" });
    root.append(svg("desc", { id: "chart-desc", text: days.length + " days from " + (days[0] ? days[0].date : "") +
      " to " + (days.length ? days[days.length - 1].date : "") + ": " + total + " comments and " + reacts + " reactions." }));
    [0, 0.5, 1].forEach(function (f) {
      var v = Math.round(nice * f);
      root.append(svg("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid" }));
      root.append(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick", text: String(v) }));
    });
    days.forEach(function (d, i) {
      var x = left + i * slot + slot * 0.14;
      var g = svg("g", { class: "day" }, [svg("title", { text: d.date + ": " + plural(d.comments, "comment", "comments") +
                                                                 ", " + plural(d.reactions, "reaction", "reactions") })]);
      g.append(svg("rect", { x: x.toFixed(1), y: y(d.comments).toFixed(1), width: barW.toFixed(1),
                             height: (top + plotH - y(d.comments)).toFixed(1), class: "bar comments" }));
      g.append(svg("rect", { x: (x + barW).toFixed(1), y: y(d.reactions).toFixed(1), width: barW.toFixed(1),
                             height: (top + plotH - y(d.reactions)).toFixed(1), class: "bar reactions" }));
      root.append(g);
      if (i === 0 || i === days.length - 1 || i % 7 === 0 && i < days.length - 4) {
        root.append(svg("text", { x: (left + i * slot + slot / 2).toFixed(1), y: H - bottom + 16,
                                  "text-anchor": "middle", class: "tick", text: d.date.slice(5) }));
      }
    });
    root.append(svg("line", { x1: left, x2: W - right, y1: top + plotH, y2: top + plotH, class: "axis" }));
    var legend = el("p", { class: "legend" }, [
      el("span", { class: "key comments" }), "Comments ",
      el("span", { class: "key reactions" }), "Reactions",
    ]);
    return el("figure", { class: "chart-box" }, [root, legend]);
  }

  // --- start

  function start() {
    if (!DEMO && demoButton) demoButton.hidden = true;
    getToken().then(function (token) {
      if (token) signedIn(); else signedOut(null);
    }, function () { signedOut(null); });
  }

  start();
})();
