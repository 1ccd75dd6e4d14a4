"""Market features: securities named in comments (cashtags) and comments' edit history."""

from __future__ import annotations

from typing import Any

from flask import request

from ..domain import markets, revisions, threads, tickers
from ..extensions import db
from ..http import MAX_ID, cursors, decode_cursor, read_limit
from ..models import Article, Comment, utcnow
from ..problems import Problem
from ..schemas import PageQuerySchema, TickersQuerySchema, comment_out, load_query, revision_out
from .blueprint import bp, viewer

TICKERS_QUERY, PAGE_QUERY = TickersQuerySchema(), PageQuerySchema()
SYMBOL = "/tickers/<string(maxlength=40):symbol>"


def _symbol(raw: str) -> str:
    symbol = markets.normalise_symbol(raw)
    if symbol is None:
        raise Problem(
            422,
            f"symbol must be {markets.SYMBOL_RULE}.",
            type_="validation-error",
            title="Invalid request",
            errors={"symbol": [markets.SYMBOL_RULE]},
        )
    return symbol


@bp.get("/tickers")
@read_limit()
def list_tickers() -> dict[str, Any]:
    """The most-mentioned symbols of the window, with their count in the window before."""
    args = load_query(TICKERS_QUERY, request.args)
    rows = tickers.trending(
        db.session(), window=tickers.WINDOWS[args["window"]], now=utcnow(), limit=args["limit"]
    )
    return {
        "items": [
            {"symbol": r.symbol, "comments": r.comments, "previous": r.previous} for r in rows
        ]
    }


@bp.get(SYMBOL)
@read_limit()
def get_ticker(symbol: str) -> dict[str, Any]:
    """Public comments naming the symbol per window, and their likes and dislikes."""
    found = tickers.summary(db.session(), symbol=_symbol(symbol), now=utcnow())
    return {
        "symbol": found.symbol,
        "comments": found.comments,
        "likes": found.likes,
        "dislikes": found.dislikes,
    }


@bp.get(SYMBOL + "/comments")
@read_limit()
def list_ticker_comments(symbol: str) -> dict[str, Any]:
    """Comments naming the symbol, newest first, flat (``replies`` empty), by cursor."""
    name = _symbol(symbol)
    args = load_query(PAGE_QUERY, request.args)
    scope = f"ticker:{name}"
    after = decode_cursor(args["cursor"], scope, (int,))
    v = viewer()
    rows = tickers.comments(
        db.session(),
        symbol=name,
        viewer=v,
        limit=args["limit"],
        after_id=after[0] if after else None,
    )
    next_cursor = None
    if len(rows) > args["limit"]:
        rows = rows[: args["limit"]]
        next_cursor = cursors().encode(scope, [rows[-1].id])
    counts, mine = threads.reactions_for(db.session(), [c.id for c in rows], v.user_id)
    return {
        "items": [comment_out(c, reactions=counts, mine=mine) for c in rows],
        "next_cursor": next_cursor,
    }


@bp.get(f"/comments/<int(max={MAX_ID}):comment_id>/revisions")
@read_limit()
def list_revisions(comment_id: int) -> dict[str, Any]:
    """The comment's earlier versions, oldest first; as visible as the comment itself."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise Problem(404, "There is no such comment.", type_="not-found")
    article = db.session.get(Article, comment.article_id)
    found = revisions.history(db.session(), comment=comment, viewer=viewer(), article=article)
    return {"items": [revision_out(r) for r in found]}
