"""Threads and comments: list, post, read, page replies, edit, delete."""

from __future__ import annotations

import functools
import hashlib
import json
from types import MappingProxyType
from typing import Any, Iterator, Mapping

import orjson
from flask import current_app, request, url_for
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from .. import spam
from ..auth import Caller, client_ip, current_caller, guest_token_matches
from ..cache import PageCache, pack, unpack
from ..domain import bodies, moderation, ranking, readers, surge, threads
from ..domain import comments as comment_rules
from ..domain import spam as spam_rules
from ..domain.audit import record
from ..domain.threads import (
    CursorError,
    article_visible,
    comment_visible,
    replies_after,
    subtree,
)
from ..domain.tokens import idempotent_edit_token, secret_matches
from ..enums import CommentStatus, HeldReason, Sort
from ..extensions import db
from ..http import (
    MAX_ID,
    auto_rules,
    bad_cursor,
    checked_article_id,
    cursors,
    json_body,
    page_cache,
    read_limit,
    rules,
    settings,
    write_limit,
)
from ..models import Article, Comment, utcnow
from ..observability import metrics
from ..problems import Problem
from ..schemas import (
    EditCommentSchema,
    NewCommentSchema,
    PageQuerySchema,
    ThreadQuerySchema,
    comment_out,
    load_query,
    tree_out,
)
from .blueprint import bp, viewer

COMMENT = f"/comments/<int(max={MAX_ID}):comment_id>"
# Part of every cached page's key: change it when the shape of a thread page changes, so
# instances of two releases sharing one Redis never serve each other's pages.
PAGE_SHAPE = "p2"  # p2: tickers, disclosure, revision_count (#18)
# Schemas hold no per-request state: one instance each, not one per request.
THREAD_QUERY, PAGE_QUERY = ThreadQuerySchema(), PageQuerySchema()
NEW_COMMENT, EDIT_COMMENT = NewCommentSchema(), EditCommentSchema()


def _visible_comment(comment_id: int) -> Comment:
    """The comment if this caller may see it; 404 otherwise (we do not confirm it exists)."""
    comment = db.session.get(Comment, comment_id)
    v = viewer()
    if (
        comment is None
        or not comment_visible(comment, v)
        or not article_visible(db.session.get(Article, comment.article_id), v)
    ):
        raise Problem(404, "There is no such comment.", type_="not-found")
    return comment


@bp.get("/articles/<article_id>/comments")
@read_limit()
def list_thread(article_id: str) -> Any:
    """One page of an article's thread: top-level comments with their first replies nested."""
    checked_article_id(article_id)
    args = _thread_args(request.query_string)
    v = viewer()
    cache = page_cache()
    if cache is None or v.is_moderator:
        return _thread_payload(_page(article_id, args, v), v, mine=None)
    # A cache hit needs one or two small reads: a Core connection serves them for half the
    # cost of an ORM session (measured: docs/performance.md); a miss uses the session.
    with db.engine.connect() as conn:
        article, private = threads.article_for_listing(conn, article_id, v)
        public = article is not None and article_visible(article, v) and not private
        if article is not None and public:
            key = _page_key(article, args)
            hit = cache.get(key)
            if hit is not None:
                return _cached_page(hit, conn, v.user_id)
    if article is not None and public:
        return _new_public_page(cache, key, article, args, v.user_id)
    return _thread_payload(_page(article_id, args, v, article=article), v, mine=None)


@functools.lru_cache(maxsize=256)
def _thread_args(query_string: bytes) -> Mapping[str, Any]:
    """The validated query of a thread page, remembered by its query string (which alone
    decides it): readers of one article ask for the same few pages, and validating their
    parameters cost as much as serving a cached page. Refusals raise, so are never kept."""
    return MappingProxyType(load_query(THREAD_QUERY, request.args))


def _page(
    article_id: str,
    args: Mapping[str, Any],
    v: threads.Viewer,
    reactions_of: str | None = None,
    **article: Any,
) -> threads.ThreadPage:
    try:
        return threads.list_thread(
            db.session(),
            article_id=article_id,
            viewer=v,
            sort=args["sort"],
            limit=args["limit"],
            cursor=args["cursor"],
            cursors=cursors(),
            replies_per_thread=rules().replies_per_thread,
            reactions_of=reactions_of,
            now=utcnow(),
            gravity=settings().hot_gravity,
            **article,
        )
    except CursorError as exc:
        raise bad_cursor(exc) from None


def _thread_payload(
    page: threads.ThreadPage, v: threads.Viewer, mine: dict[int, list[str]] | None
) -> dict[str, Any]:
    visible = page.article is not None and article_visible(page.article, v)
    reactions = page.reactions
    if mine is None and page.own_uncounted:  # the viewer's own page, not the stored one
        reactions = {k: dict(v) for k, v in page.reactions.items()}
        threads.add_own_uncounted(reactions, page.own_uncounted)
    items = [tree_out(node, reactions, page.mine if mine is None else mine) for node in page.nodes]
    total = page.article.comment_count if visible and page.article else 0
    if page.own_shadowed:
        # A shadow-banned author sees numbers as if their comments counted (#14 item 7).
        total += len(page.own_shadowed)
        _add_replies(items, threads.shadow_adjustments(page.own_shadowed))
    if mine is None and page.muted:  # the viewer's own page, never a stored one
        mark_muted(items, page.muted)
    return {"items": items, "next_cursor": page.next_cursor, "total": total}


def mark_muted(items: list[dict[str, Any]], muted: set[str]) -> None:
    """``"muted": true`` on the comments (replies included) of people the viewer muted
    (#15): the widget shows them collapsed. Absent otherwise."""
    for item in items:
        author = item.get("author")
        if author is not None and author["id"] in muted:
            item["muted"] = True
        mark_muted(item["replies"], muted)


def _add_own_reactions(items: list[dict[str, Any]], uncounted: list[tuple[int, str]]) -> None:
    """A shadow-banned reader's own reactions, added to the stored page's counts."""
    extra: dict[int, dict[str, int]] = {}
    threads.add_own_uncounted(extra, uncounted)
    _add_reactions(items, extra)


def _add_reactions(items: list[dict[str, Any]], extra: dict[int, dict[str, int]]) -> None:
    for item in items:
        for kind, n in extra.get(item["id"], {}).items():
            item["reactions"][kind] = item["reactions"].get(kind, 0) + n
        _add_reactions(item["replies"], extra)


def _add_replies(items: list[dict[str, Any]], extra: dict[int, int]) -> None:
    for item in items:
        item["reply_count"] += extra.get(item["id"], 0)
        _add_replies(item["replies"], extra)


def _page_key(article: threads.ArticleHead, args: Mapping[str, Any]) -> str:
    # created_at: an article deleted and created again starts its versions from 0 again
    return ":".join(
        (
            "thread",
            PAGE_SHAPE,
            article.id,
            str(article.version),
            str(article.created_at.timestamp()),
            article.status.value,
            args["sort"].value,
            str(args["limit"]),
            str(rules().replies_per_thread),
            args["cursor"] or "",
            # sort=hot's first page ranks as of the current minute (domain/ranking.py)
            _hot_minute(args),
        )
    )


def _hot_minute(args: Mapping[str, Any]) -> str:
    if args["sort"] != Sort.HOT or args["cursor"]:
        return ""
    return str(ranking.hot_reference(utcnow().timestamp()))


def _cached_page(hit: bytes, conn: Connection, user_id: str | None) -> Any:
    """A stored public page: as stored for anonymous readers; for a signed-in reader
    without private comments in the thread, with their own reactions filled in (one
    query), and never stored."""
    etag, body = unpack(hit)
    if user_id is None:
        response = current_app.response_class(body, mimetype="application/json")
        response.set_etag(etag)
        return response
    payload = orjson.loads(body)  # 3-4x the stdlib's speed on a page of 20 threads
    uncounted: list[tuple[int, str]] = []
    muted: set[str] = set()
    mine = threads.own_reactions(conn, list(_ids(payload["items"])), user_id, uncounted, muted)
    if mine:
        _fill_mine(payload["items"], mine)
    if uncounted:
        _add_own_reactions(payload["items"], uncounted)
    if muted:
        mark_muted(payload["items"], muted)
    return payload


def _new_public_page(
    cache: PageCache,
    key: str,
    article: threads.ArticleHead,
    args: Mapping[str, Any],
    user_id: str | None,
) -> Any:
    """Build the public page, store it, and answer with it (plus the reader's own
    reactions, read in the same query as the page's counts)."""
    page = _page(article.id, args, threads.Viewer(), reactions_of=user_id, article=article)
    response: Any = current_app.json.response(_thread_payload(page, threads.Viewer(), mine={}))
    response.add_etag()
    cache.set(key, pack(response.get_etag()[0] or "", response.get_data()))
    if user_id is None:
        return response
    return _thread_payload(page, threads.Viewer(user_id=user_id), mine=None)


def _ids(items: list[dict[str, Any]]) -> Iterator[int]:
    for item in items:
        yield item["id"]
        yield from _ids(item["replies"])


def _fill_mine(items: list[dict[str, Any]], mine: dict[int, list[str]]) -> None:
    for item in items:
        if item["id"] in mine:
            item["my_reactions"] = mine[item["id"]]
        _fill_mine(item["replies"], mine)


def _caller_key(caller: Caller) -> str:
    """Scopes Idempotency-Keys: the user, or for guests a keyed hash of the client IP (kept
    only in the idempotency table, never shown)."""
    if caller.is_authenticated:
        return f"user:{caller.user_id}"
    return "guest:" + _guest_key()


def _guest_key() -> str:
    secret = settings().secret_key
    return hashlib.sha256(f"{secret}|{client_ip()}".encode()).hexdigest()


def _author(caller: Caller, author_name: str | None) -> comment_rules.Author:
    if caller.is_authenticated:
        return comment_rules.Author(
            user_id=caller.user_id,
            name=caller.name or caller.user_id or "",
            is_moderator=caller.is_moderator,
        )
    if not settings().allow_guests:
        raise Problem(
            401, "Sign in to comment.", type_="unauthorized", headers={"WWW-Authenticate": "Bearer"}
        )
    if not author_name or not author_name.strip():
        raise Problem(
            422,
            "Guests must give an author_name.",
            type_="validation-error",
            title="Invalid request",
            errors={"author_name": ["Give your name."]},
        )
    return comment_rules.Author(user_id=None, name=author_name.strip(), guest_key=_guest_key())


def _edit_token(caller_key: str, key: str) -> str:
    return idempotent_edit_token(settings().secret_key or "", caller_key, key)


def _replayed(comment: Comment, caller_key: str, key: str) -> comment_rules.Created:
    """A replayed post: for a guest, with the same edit token as the first answer (it is
    derived from the Idempotency-Key, and only handed out if it still opens the comment)."""
    token = None
    if comment.author_is_guest:
        candidate = _edit_token(caller_key, key)
        if secret_matches(comment.edit_token_hash, candidate):
            token = candidate
    return comment_rules.Created(comment, token)


def _created_response(
    created: comment_rules.Created, *, replayed: bool
) -> tuple[dict[str, Any], int, dict[str, str]]:
    comment = created.comment
    body = comment_out(comment, reactions={}, mine={})
    if created.edit_token:
        body["edit_token"] = created.edit_token
    headers = {"Location": url_for("api.get_comment", comment_id=comment.id)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return body, 201, headers


def _hold_reason(body: str) -> str | None:
    """The automatic rule (blocked term, too many links) that holds this body, if any; a
    body the rules refuse anyway is left for create_comment to answer with 422."""
    try:
        clean = bodies.clean_body(body, max_length=rules().max_body)
    except bodies.BodyError:
        return None
    return auto_rules().hold_reason(clean)


@bp.post("/articles/<article_id>/comments")
@write_limit(lambda s: s.limit_comment)
def post_comment(article_id: str) -> Any:
    """Post a comment or a reply; 201 with the comment (and a guest's edit_token, once)."""
    checked_article_id(article_id)
    caller = current_caller()
    data = json_body(NEW_COMMENT)
    author = _author(caller, data["author_name"])
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise Problem(
            422,
            "Idempotency-Key must be 1 to 200 characters.",
            type_="validation-error",
            title="Invalid request",
            errors={"Idempotency-Key": ["1 to 200 characters."]},
        )
    now = utcnow()
    caller_key = _caller_key(caller) if key else ""
    request_parts = [article_id, data["body"], data["parent_id"], data["author_name"]]
    if data["disclosure"] is not None:  # a retry must carry the same disclosure (#18)
        request_parts.append(data["disclosure"])
    fingerprint = hashlib.sha256(json.dumps(request_parts, sort_keys=True).encode()).hexdigest()
    if key:
        previous = comment_rules.replay(
            db.session(),
            caller_key=caller_key,
            key=key,
            request_fingerprint=fingerprint,
            now=now,
            ttl=rules().idempotency_ttl,
        )
        if previous is not None:
            return _created_response(_replayed(previous, caller_key, key), replayed=True)
    hold = None if author.is_moderator else _hold_reason(data["body"])
    # spam model (service/spam): every new comment but a moderator's is scored
    verdict = None
    if not author.is_moderator:
        verdict = spam.service().assess(
            db.session(), author_id=author.user_id, body=data["body"], now=now
        )
        if hold is None and verdict.hold:
            hold = HeldReason.SPAM_SCORE
    created = comment_rules.create_comment(
        db.session(),
        article_id=article_id,
        author=author,
        body=data["body"],
        parent_id=data["parent_id"],
        rules=rules(),
        now=now,
        hold_reason=hold,
        edit_token=_edit_token(caller_key, key) if key and author.is_guest else None,
        disclosure=data["disclosure"],
    )
    if verdict is not None:
        spam_rules.store(db.session(), comment_id=created.comment.id, verdict=verdict, now=now)
    if created.comment.status == CommentStatus.PENDING:
        moderation.audit_hold(db.session(), comment=created.comment, now=now)
    surge.count_post(  # the automatic surge (domain/surge.py)
        db.session(),
        article_id=article_id,
        now=now,
        rules=surge.SurgeRules.from_settings(settings()),
    )
    if key:
        comment_rules.remember(
            db.session(),
            caller_key=caller_key,
            key=key,
            request_fingerprint=fingerprint,
            comment_id=created.comment.id,
            now=now,
            ttl=rules().idempotency_ttl,
        )
    try:
        db.session.commit()
    except IntegrityError:
        # The same Idempotency-Key raced us and won: answer with its comment.
        db.session.rollback()
        previous = (
            comment_rules.replay(
                db.session(),
                caller_key=caller_key,
                key=key or "",
                request_fingerprint=fingerprint,
                now=now,
                ttl=rules().idempotency_ttl,
            )
            if key
            else None
        )
        if previous is None:
            raise
        return _created_response(_replayed(previous, caller_key, key or ""), replayed=True)
    metrics.comment_created(created.comment.status.value)
    return _created_response(created, replayed=False)


@bp.get(COMMENT)
@read_limit()
def get_comment(comment_id: int) -> dict[str, Any]:
    """One comment with its first replies nested."""
    comment = _visible_comment(comment_id)
    v = viewer()
    own_shadowed: list[str] = []
    node, counts, mine = subtree(
        db.session(),
        comment=comment,
        viewer=v,
        per_root=rules().replies_per_thread,
        own_shadowed=own_shadowed,
    )
    out = tree_out(node, counts, mine)
    if own_shadowed:  # a shadow-banned author's own replies count, for them alone
        _add_replies([out], threads.shadow_adjustments(own_shadowed))
    muted = readers.muted_ids(db.session(), v.user_id)
    if muted:
        mark_muted([out], muted)
    return out


@bp.get(COMMENT + "/replies")
@read_limit()
def list_replies(comment_id: int) -> dict[str, Any]:
    """The replies under a comment, at any depth, oldest first, as a flat page: each carries
    parent_id and depth so a client can attach it where it belongs."""
    comment = _visible_comment(comment_id)
    args = load_query(PAGE_QUERY, request.args)
    scope = f"replies:{comment.id}"
    after_id = None
    if args["cursor"]:
        try:
            (after_id,) = cursors().decode(args["cursor"], scope, 1)
        except CursorError as exc:
            raise bad_cursor(exc) from None
        if not isinstance(after_id, int):
            raise bad_cursor(CursorError("The cursor is malformed."))
    v = viewer()
    rows = replies_after(
        db.session(), comment=comment, viewer=v, limit=args["limit"], after_id=after_id
    )
    next_cursor = None
    if len(rows) > args["limit"]:
        rows = rows[: args["limit"]]
        next_cursor = cursors().encode(scope, [rows[-1].id])
    own_shadowed: list[str] = []
    muted: set[str] = set()
    counts, mine = threads.reactions_for(
        db.session(),
        [c.id for c in rows],
        v.user_id,
        shadowed_in=comment.article_id if v.user_id else None,
        own_shadowed=own_shadowed,
        muted=muted,
    )
    items = [comment_out(c, reactions=counts, mine=mine) for c in rows]
    if own_shadowed:  # a shadow-banned author's own replies count, for them alone
        _add_replies(items, threads.shadow_adjustments(own_shadowed))
    if muted:
        mark_muted(items, muted)
    return {"items": items, "next_cursor": next_cursor}


def _comment_for_change(comment_id: int) -> tuple[Comment, Caller, bool]:
    caller = current_caller()
    if not caller.is_authenticated and not request.headers.get("X-Edit-Token"):
        # Nothing to authorise with: 401 before looking the comment up, whether or not it
        # exists (found by schemathesis' ignored_auth check: it was a 404 for an unknown id).
        raise _sign_in_or_token()
    comment = db.session.get(Comment, comment_id)
    # A guest's valid edit token opens their comment even while it is pending, which no
    # one else can see (#14 item 14); without it, an invisible comment does not exist.
    token_ok = (
        comment is not None
        and comment.author_is_guest
        and guest_token_matches(comment.edit_token_hash)
    )
    if comment is None or (
        not caller.is_moderator and not token_ok and not comment_visible(comment, viewer())
    ):
        raise Problem(404, "There is no such comment.", type_="not-found")
    if not caller.is_authenticated and not token_ok:
        if request.headers.get("X-Edit-Token"):
            raise Problem(
                403, "This edit token does not belong to this comment.", type_="forbidden"
            )
        raise _sign_in_or_token()
    return comment, caller, token_ok


def _sign_in_or_token() -> Problem:
    return Problem(
        401,
        "Sign in, or send the X-Edit-Token you got when posting.",
        type_="unauthorized",
        headers={"WWW-Authenticate": "Bearer"},
    )


@bp.patch(COMMENT)
@write_limit(lambda s: s.limit_edit)
def edit_comment(comment_id: int) -> Any:
    """The author edits the body or disclosure within the edit window; sets edited_at and
    keeps the version replaced (GET .../revisions)."""
    data = json_body(EDIT_COMMENT)
    comment, caller, token_ok = _comment_for_change(comment_id)
    comment_rules.edit_comment(
        db.session(),
        comment=comment,
        body=data.get("body"),
        disclosure=data.get("disclosure", comment_rules.UNCHANGED),
        user_id=caller.user_id,
        guest_token_ok=token_ok,
        rules=rules(),
    )
    hold = None if caller.is_moderator else auto_rules().hold_reason(comment.body or "")
    if hold is not None:
        moderation.hold_edited(db.session(), comment=comment, reason=hold)
    db.session.commit()
    counts, mine = threads.reactions_for(db.session(), [comment.id], caller.user_id)
    return comment_out(comment, reactions=counts, mine=mine)


@bp.delete(COMMENT)
@write_limit(lambda s: s.limit_edit)
def delete_comment(comment_id: int) -> Any:
    """The author deletes, or a moderator removes: 204. A comment with visible replies stays
    as a tombstone."""
    comment, caller, token_ok = _comment_for_change(comment_id)
    before = comment.status
    status = comment_rules.delete_comment(
        db.session(),
        comment=comment,
        user_id=caller.user_id,
        guest_token_ok=token_ok,
        is_moderator=caller.is_moderator,
    )
    if status == CommentStatus.REMOVED:
        record(
            db.session(),
            actor_id=caller.user_id or "",
            action="remove",
            target_type="comment",
            target_id=str(comment.id),
            reason="deleted through the public API",
            before={"status": before.value},
            after={"status": status.value},
        )
    db.session.commit()
    return "", 204
