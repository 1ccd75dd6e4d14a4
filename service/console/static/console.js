/*
 * Moderator console (/admin). Plain JavaScript, no dependencies; talks only to
 * /api/v1/admin with the moderator's bearer token. The token comes from
 * window.CommentsAuth.getToken() when the host defines it, else from the sign-in field
 * (kept in sessionStorage), or in demo mode from POST /demo/token {"persona": "moderator"}.
 * Only body_html (sanitised by the server) is inserted as HTML; every other string goes
 * through textContent. See docs/moderation.md.
 */
(function () {
  "use strict";

  var API = "/api/v1/admin";
  var TOKEN_KEY = "comments-console:token";
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
  };
  var ACTIONS = {
    approve: ["Approve", "approved"], remove: ["Remove", "removed"], restore: ["Restore", "restored"],
    pin: ["Pin", "pinned"], unpin: ["Unpin", "unpinned"], dismiss_flags: ["Dismiss flags", "flags dismissed"],
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

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  function show(node, visible) { node.hidden = !visible; }

  function claims(token) {
    try {
      var part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var json = decodeURIComponent(atob(part).split("").map(function (c) {
        return "%" + ("00" + c.charCodeAt(0).toString(16)).slice(-2);
      }).join(""));
      return JSON.parse(json);
    } catch (e) { return null; }
  }

  // --- the token and API calls

  function hostAuth() {
    return window.CommentsAuth && typeof window.CommentsAuth.getToken === "function";
  }

  function storedToken() {
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  function keepToken(token) {
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token lives as long as the page */ }
    memoryToken = token;
  }

  var memoryToken = null;

  // The host's callback first; a token pasted here (or the demo moderator's) otherwise.
  function getToken() {
    var own = function () { return storedToken() || memoryToken || null; };
    if (hostAuth()) {
      return Promise.resolve().then(function () { return window.CommentsAuth.getToken(); })
        .then(function (t) { return t || own(); });
    }
    return Promise.resolve(own());
  }

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
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        keepToken(null);  // a rejected token is not offered again
        signedOut(err);
      }
      throw err;
    });
  }

  // --- signing in and out

  var notice = $("notice");
  var signin = $("signin");
  var consoleEl = $("console");
  var started = false;

  function say(node, text) { node.textContent = text || ""; show(node, !!text); }

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
      var who = $("who");
      if (c) {
        who.textContent = "Signed in as " + (c.name || c.sub || "a moderator") +
          (c.name && c.sub ? " (" + c.sub + ")" : "");
        show(who, true);
      }
      show($("sign-out"), !!(storedToken() || memoryToken));
    });
    say(notice, "");
    show(signin, false);
    show(consoleEl, true);
    if (!started) {
      started = true;
      loadQueue(false);
      loaded.audit = loaded.stats = false;
      if (currentTab !== "queue") openTab(currentTab, false);
    }
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

  // --- tabs

  var TABS = ["queue", "audit", "stats"];
  var currentTab = "queue";
  var loaded = { audit: false, stats: false };

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
    if (name === "audit" && !loaded.audit) { loaded.audit = true; loadAudit(false); }
    if (name === "stats" && !loaded.stats) { loaded.stats = true; loadStats(); }
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
      show($("queue-more"), !!data.next_cursor);
      show($("queue-empty"), queueList.children.length === 0);
      queueStatus.textContent = plural(data.total, "comment", "comments") + " waiting" +
        (queue.state === "all" ? "" : " (" + $("queue-state").selectedOptions[0].textContent.toLowerCase() + ")") +
        (queue.article ? " on " + queue.article : "") + "; showing " + queueList.children.length + ".";
      if (more && first) first.querySelector("h3").focus();
    }, function (err) {
      queueStatus.textContent = err.status === 401 || err.status === 403 ? "" : err.message;
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
    var bodyNode = el("div", { class: "body" });
    var html = item.body_html || (item.retained && item.retained.body_html);
    if (html) bodyNode.innerHTML = html;  // sanitised by the server
    else bodyNode.append(el("p", { class: "muted", text: "(The text was deleted by its author.)" }));

    var reason = el("input", { type: "text", id: "reason-" + item.id, maxlength: 500,
                               class: "reason", autocomplete: "off" });
    var error = el("p", { class: "error act-error", role: "alert", hidden: true });
    var done = el("p", { class: "done act-done", role: "status" });
    var buttons = Object.keys(ACTIONS).filter(function (a) { return applicable(a, item); })
      .map(function (a) {
        return el("button", { type: "button", class: a === "remove" ? "danger" : a === "approve" ? "primary" : null,
                              "data-action": a, text: ACTIONS[a][0],
                              onclick: function (e) { act(li, item, a, reason.value.trim(), e.currentTarget, error); } });
      });

    li.replaceChildren(
      el("article", { "aria-labelledby": headingId }, [
        el("header", { class: "qi-head" }, [
          el("h3", { id: headingId, tabindex: -1 }, [
            (author ? author.name || author.id || "Guest" : "Unknown author"),
            el("span", { class: "sub", text: " on " + item.article_id }),
          ]),
          el("span", { class: "badge status-" + item.status, text: item.status }),
          el("span", { class: "sub", text: "#" + item.id + " · " + when(item.created_at) }),
        ]),
        el("dl", { class: "facts" }, [
          el("div", null, [el("dt", { text: "Author" }), el("dd", null, [
            author ? (author.id ? author.id : "guest") + (author.is_guest ? " (guest)" : "") : "unknown",
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
        ]),
        item.parent ? el("p", { class: "parent" }, [
          el("span", { class: "label", text: "In reply to #" + item.parent.id + ": " }),
          item.parent.excerpt === null ? el("em", { text: "a " + item.parent.status + " comment" })
                                       : "“" + item.parent.excerpt + "”",
        ]) : null,
        bodyNode,
        el("div", { class: "decide" }, [
          el("div", { class: "field" }, [
            el("label", { for: "reason-" + item.id, text: "Reason (optional)" }), reason,
          ]),
          el("div", { class: "buttons" }, buttons),
        ]),
        author && author.id && !author.is_guest ? banForm(item, author) : null,
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
      case "pin": return item.status === "published" && !item.pinned && item.parent_id === null;
      case "unpin": return item.pinned;
      case "dismiss_flags": return item.flag_count > 0;
    }
    return false;
  }

  function act(li, item, action, reason, button, error) {
    var payload = { action: action };
    if (reason) payload.reason = reason;
    say(error, "");
    button.disabled = true;
    request("POST", API + "/comments/" + item.id + "/actions", payload).then(function (after) {
      var message = "Comment #" + item.id + " " + ACTIONS[action][1];
      if (stillWaiting(after)) {
        fillItem(li, after);
        li.querySelector(".act-done").textContent = message + ".";
        li.querySelector("h3").focus();
      } else {
        var next = li.nextElementSibling || li.previousElementSibling;
        li.remove();
        queueStatus.textContent = message + "; it left the queue.";
        show($("queue-empty"), queueList.children.length === 0);
        if (next) next.querySelector("h3").focus();
        else $("queue-state").focus();
      }
    }, function (err) {
      button.disabled = false;
      say(error, err.message);
    });
  }

  function banForm(item, author) {
    var id = "ban-" + item.id;
    var reason = el("input", { type: "text", id: id + "-reason", maxlength: 500, required: true, autocomplete: "off" });
    var expires = el("input", { type: "datetime-local", id: id + "-expires" });
    var shadow = el("input", { type: "checkbox", id: id + "-shadow" });
    var error = el("p", { class: "error ban-error", role: "alert", hidden: true });
    var done = el("p", { class: "done ban-done", role: "status" });
    var submit = el("button", { type: "submit", class: "danger", text: "Ban " + (author.name || author.id) });
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
      if (!reason.value.trim()) {
        say(error, "Say why the author is banned.");
        reason.focus();
        return;
      }
      var payload = { reason: reason.value.trim(), shadow: shadow.checked };
      if (expires.value) {
        var at = new Date(expires.value);
        if (isNaN(at)) { say(error, "The end date is not a valid date."); expires.focus(); return; }
        payload.expires_at = at.toISOString();
      }
      submit.disabled = true;
      request("PUT", API + "/bans/" + enc(author.id), payload).then(function (ban) {
        done.textContent = (ban.shadow ? "Shadow-banned " : "Banned ") + ban.user_id +
          (ban.expires_at ? " until " + when(ban.expires_at) : "") + ".";
      }, function (err) { say(error, err.message); })
        .then(function () { submit.disabled = false; });
    });
    return el("details", { class: "ban-box" }, [el("summary", { text: "Ban the author…" }), form]);
  }

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
          el("td", null, [el("time", { datetime: e.created_at, text: when(e.created_at) })]),
          el("td", { text: e.actor }),
          el("td", { class: "action", text: e.action }),
          el("td", { text: e.target_type + " " + e.target_id }),
          el("td", { text: e.reason || "" }),
          el("td", { class: "diff" }, diff.length ? [el("ul", null, diff.map(function (d) { return el("li", { text: d }); }))] : ["–"]),
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
      auditStatus.textContent = err.status === 401 || err.status === 403 ? "" : err.message;
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
      status.textContent = err.status === 401 || err.status === 403 ? "" : err.message;
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
          return el("li", { text: a.article_id + ": " + plural(a.comments, "comment", "comments") });
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
