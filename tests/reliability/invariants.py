"""Checks shared by the reliability tests: counters equal a recount, nothing is orphaned,
tombstones stand only above visible replies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.domain.data import recount
from service.domain.threads import ancestor_ids
from service.enums import CommentStatus

TOMBSTONES = {CommentStatus.DELETED.value, CommentStatus.REMOVED.value}

ORPHAN_QUERIES = {
    "comment without its article": "SELECT c.id FROM comments c LEFT JOIN articles a ON a.id = c.article_id "
    "WHERE a.id IS NULL",
    "reply without its parent": "SELECT c.id FROM comments c LEFT JOIN comments p ON p.id = c.parent_id "
    "WHERE c.parent_id IS NOT NULL AND p.id IS NULL",
    "reply in another article than its parent": "SELECT c.id FROM comments c JOIN comments p ON p.id = c.parent_id "
    "WHERE p.article_id <> c.article_id",
    "reaction without its comment": "SELECT r.id FROM comment_reactions r LEFT JOIN comments c ON c.id = r.comment_id "
    "WHERE c.id IS NULL",
    "reaction count without its comment": "SELECT r.comment_id FROM comment_reaction_counts r "
    "LEFT JOIN comments c ON c.id = r.comment_id WHERE c.id IS NULL",
    "flag without its comment": "SELECT f.id FROM flags f LEFT JOIN comments c ON c.id = f.comment_id WHERE c.id IS NULL",
}


def drift(session: Session) -> dict[str, int]:
    """recount in check mode: every counter that differs from its recount (none expected)."""
    try:
        found = recount(session, fix=False)
    finally:
        session.rollback()
    return {name: n for name, n in found.items() if n}


def orphans(session: Session) -> dict[str, list[Any]]:
    found = {
        name: [row[0] for row in session.execute(text(sql))] for name, sql in ORPHAN_QUERIES.items()
    }
    # A comment's materialised path names exactly its ancestors, each of which exists.
    rows = session.execute(text("SELECT id, parent_id, path FROM comments")).all()
    ids = {row.id for row in rows}
    parents = {row.id: row.parent_id for row in rows}
    bad_paths = []
    for row in rows:
        chain = ancestor_ids(row.path)
        if any(a not in ids for a in chain) or (chain[-1] if chain else None) != row.parent_id:
            bad_paths.append(row.id)
        elif chain and parents.get(chain[-1]) != (chain[-2] if len(chain) > 1 else None):
            bad_paths.append(row.id)
    found["comment whose path is not its ancestry"] = bad_paths
    session.rollback()
    return {name: ids_ for name, ids_ in found.items() if ids_}


def check_tree(nodes: list[dict[str, Any]]) -> list[str]:
    """Walk a listing as a reader sees it: each comment's reply_count equals the published
    replies nested below it (the listing nests them all while the thread is small), and a
    tombstone appears only above at least one of them."""
    problems: list[str] = []

    def visible_below(node: dict[str, Any]) -> int:
        total = 0
        for child in node.get("replies") or []:
            total += (child["status"] == "published") + visible_below(child)
        return total

    def walk(node: dict[str, Any]) -> None:
        below = visible_below(node)
        if node["reply_count"] != below:
            problems.append(
                f"comment {node['id']}: reply_count {node['reply_count']}, {below} visible replies"
            )
        if node["status"] in TOMBSTONES:
            if below == 0:
                problems.append(f"tombstone {node['id']} without visible replies")
            if node["body"] is not None or node["author"] is not None:
                problems.append(f"tombstone {node['id']} shows its body or author")
        for child in node.get("replies") or []:
            walk(child)

    for node in nodes:
        walk(node)
    return problems
