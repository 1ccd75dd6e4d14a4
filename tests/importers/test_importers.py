"""flask import FORMAT FILE, per format, on the test database (SQLite or PostgreSQL).

The fixtures are written for these tests in each source's real export shape
(docs/import.md names the samples and format definitions they were checked against)."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from service.enums import ArticleStatus, CommentStatus
from service.extensions import db
from service.importers.mapping import slug
from service.models import (
    Article,
    AuditEntry,
    Comment,
    CommentReaction,
    ImportedComment,
)

FIXTURES = Path(__file__).parent / "fixtures"


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["import", *args])


def comments(app: Any) -> dict[str, Comment]:
    """Imported comments by their source id."""
    with app.app_context():
        rows = db.session.execute(
            select(ImportedComment.source_id, Comment).join(
                Comment, Comment.id == ImportedComment.comment_id
            )
        ).all()
        db.session.expunge_all()
        return {sid: c for sid, c in rows}


def count(app: Any, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def recount_clean(app: Any) -> bool:
    result = app.test_cli_runner().invoke(args=["recount", "--check"])
    return result.exit_code == 0


def stored_text(app: Any) -> str:
    """Every text value in the tables an import writes, to look for what must not be kept."""
    with app.app_context():
        parts = []
        for table in ("comments", "articles", "comment_reactions", "audit_log"):
            for row in db.session.execute(text(f"SELECT * FROM {table}")):
                parts.extend(str(v) for v in row)
        return "\n".join(parts)


# --- Disqus -------------------------------------------------------------------------------


def test_disqus_import_keeps_threads_states_and_privacy(app: Any, client: Any) -> None:
    result = run(app, "disqus", str(FIXTURES / "disqus.xml"))
    assert result.exit_code == 0, result.output
    assert "comments: 19 read, 15 added (1 deleted, 13 published, 1 removed)" in result.output
    assert "unmapped thread: https://news.example/ (URL has no path" in result.output
    assert "1 comments whose thread is not in the file" in result.output
    assert "1 duplicate comment ids in the file" in result.output
    assert "1 comments in threads deleted in the source" in result.output
    assert "3 e-mail addresses and 3 IP addresses not stored" in result.output

    c = comments(app)
    assert c["300"].article_id == "markets-fed-holds-rates"
    assert c["300"].author_id == "disqus:annlee" and not c["300"].author_is_guest
    assert c["302"].author_id is None and c["302"].author_is_guest and c["302"].author_name == "Bob"
    # A reply that came before its parent still hangs under it.
    assert c["303"].parent_id == c["302"].id and c["302"].parent_id == c["300"].id
    assert c["303"].path == f"/{c['300'].id}/{c['302'].id}/"
    # Spam is removed, a deleted parent is a tombstone that keeps its live reply.
    assert c["304"].status == CommentStatus.REMOVED
    assert c["305"].status == CommentStatus.DELETED and c["305"].body is None
    assert c["306"].parent_id == c["305"].id and c["306"].status == CommentStatus.PUBLISHED
    # An orphan goes to the top level; the depth rule attaches d6, d7 beside d5.
    assert c["307"].parent_id is None and "1 orphans attached" in result.output
    assert c["324"].depth == 5 and c["325"].parent_id == c["324"].parent_id == c["323"].id
    assert c["326"].depth == 5
    assert c["300"].created_at.isoformat() == "2021-03-01T09:00:00+00:00"
    # The script is gone with its content, a javascript: link is text, the image a link.
    html = c["302"].body_html or ""
    assert "<script" not in html and "alert('x')" not in html
    assert 'href="javascript' not in html and "onclick" not in html
    assert "<img" not in html and '<a href="https://tracker.example/p.gif"' in html
    leftover = stored_text(app)
    for secret in ("ann@example.org", "bob@example.org", "198.51.100.7", "203.0.113.9"):
        assert secret not in leftover

    with app.app_context():
        old = db.session.get(Article, "markets-old-story")
        assert old is not None and old.status == ArticleStatus.CLOSED
        fed = db.session.get(Article, "markets-fed-holds-rates")
        assert fed is not None and fed.comment_count == 5 and fed.version > 0
        assert db.session.get(Article, "markets-retracted") is None
        audits = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "import")).all()
        assert len(audits) == 1 and audits[0].actor_id == "system"
        assert audits[0].after is not None and audits[0].after["comments_added"] == 15
    assert recount_clean(app)

    listing = client.get("/api/v1/articles/markets-fed-holds-rates/comments").get_json()
    assert listing["items"][0]["body_html"]

    again = run(app, "disqus", str(FIXTURES / "disqus.xml"))
    assert again.exit_code == 0, again.output
    assert "15 added" not in again.output and "15 already imported" in again.output
    assert count(app, Comment) == 15 and count(app, AuditEntry) == 1
    assert recount_clean(app)


def test_a_newer_export_adds_only_what_is_new(app: Any, tmp_path: Path) -> None:
    assert run(app, "disqus", str(FIXTURES / "disqus.xml")).exit_code == 0
    newer = (
        (FIXTURES / "disqus.xml")
        .read_text()
        .replace(
            "</disqus>",
            '<post dsq:id="400"><message>&lt;p&gt;Late reply&lt;/p&gt;</message>'
            "<createdAt>2022-01-01T00:00:00Z</createdAt><author><name>Ann</name>"
            "<isAnonymous>false</isAnonymous><username>annlee</username></author>"
            '<thread dsq:id="200"/><parent dsq:id="303"/></post></disqus>',
        )
    )
    path = tmp_path / "newer.xml"
    path.write_text(newer)
    result = run(app, "disqus", str(path))
    assert result.exit_code == 0, result.output
    assert "1 added (1 published), 15 already imported" in result.output
    c = comments(app)
    assert c["400"].parent_id == c["303"].id and c["400"].depth == 3
    assert recount_clean(app)


def test_skip_removed_leaves_spam_and_deleted_out(app: Any) -> None:
    result = run(app, "disqus", str(FIXTURES / "disqus.xml"), "--skip-removed")
    assert result.exit_code == 0, result.output
    assert "1 spam comments (--skip-removed)" in result.output
    assert "1 deleted comments (--skip-removed)" in result.output
    c = comments(app)
    assert "304" not in c and "305" not in c
    assert c["306"].parent_id is None  # its parent was left out: an orphan at the top
    assert recount_clean(app)


def test_dry_run_writes_nothing(app: Any) -> None:
    result = run(app, "disqus", str(FIXTURES / "disqus.xml"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "15 added" in result.output and "dry run: nothing was written" in result.output
    for model in (Comment, Article, ImportedComment, AuditEntry):
        assert count(app, model) == 0


@pytest.mark.parametrize("cut", [0.5, 0.97])
def test_a_truncated_file_is_a_clear_error_and_writes_nothing(
    app: Any, tmp_path: Path, cut: float
) -> None:
    data = (FIXTURES / "disqus.xml").read_bytes()
    path = tmp_path / "cut.xml"
    path.write_bytes(data[: int(len(data) * cut)])
    result = run(app, "disqus", str(path))
    assert result.exit_code == 1
    assert "nothing imported" in result.output and "not well-formed XML at line" in result.output
    for model in (Comment, Article, ImportedComment, AuditEntry):
        assert count(app, model) == 0


@pytest.mark.parametrize(
    ("fmt", "fixture", "says"),
    [
        ("wordpress", "wordpress.xml", "not well-formed XML at line"),
        ("isso", "isso.json", "is not valid JSON"),
        ("commento", "commento.json", "is not valid JSON"),
    ],
)
def test_other_formats_truncated_are_a_clear_error_and_write_nothing(
    app: Any, tmp_path: Path, fmt: str, fixture: str, says: str
) -> None:
    data = (FIXTURES / fixture).read_bytes()
    path = tmp_path / f"cut-{fixture}"
    path.write_bytes(data[: int(len(data) * 0.6)])
    result = run(app, fmt, str(path))
    assert result.exit_code == 1, result.output
    assert "nothing imported" in result.output and says in result.output
    for model in (Comment, Article, ImportedComment, AuditEntry):
        assert count(app, model) == 0


def test_declared_latin1_encoding_is_read(app: Any) -> None:
    result = run(app, "disqus", str(FIXTURES / "disqus-latin1.xml"))
    assert result.exit_code == 0, result.output
    (only,) = comments(app).values()
    assert only.author_name == "Renée" and only.body == "Très intéressant, Müller."
    assert only.article_id == "europe-zurich-banks"


def test_article_id_from_url_and_csv_map(app: Any, tmp_path: Path) -> None:
    result = run(
        app,
        "disqus",
        str(FIXTURES / "disqus.xml"),
        "--article-id-from-url",
        r"https://news\.example/markets/(?P<id>fed-[a-z-]+)",
    )
    assert result.exit_code == 0, result.output
    assert "unmapped thread: https://news.example/markets/old-story (URL does not match" in (
        result.output
    )
    assert {c.article_id for c in comments(app).values()} == {"fed-holds-rates"}

    table = tmp_path / "map.csv"
    table.write_text("url,article_id\nhttps://news.example/markets/old-story/,A-17\n")
    result = run(app, "disqus", str(FIXTURES / "disqus.xml"), "--map-csv", str(table))
    assert result.exit_code == 0, result.output
    assert "URL not in --map-csv" in result.output
    assert {c.article_id for c in comments(app).values()} == {"fed-holds-rates", "A-17"}

    bad = run(app, "disqus", str(FIXTURES / "disqus.xml"), "--article-id-from-url", "news")
    assert bad.exit_code == 1 and "named group (?P<id>...)" in bad.output


# --- WordPress ----------------------------------------------------------------------------


def test_wordpress_wxr(app: Any) -> None:
    result = run(app, "wordpress", str(FIXTURES / "wordpress.xml"), "--user-prefix", "wp:")
    assert result.exit_code == 0, result.output
    assert "5 added (1 deleted, 1 pending, 2 published, 1 removed)" in result.output
    assert "1 pingbacks (not comments)" in result.output
    c = comments(app)
    assert c["7"].article_id == "2022-04-oil-slides" and c["7"].author_is_guest
    assert c["7"].body_html == "<p>Brent or WTI?</p>\n<p>Asking for a friend.<br>\nThanks</p>"
    assert c["8"].author_id == "wp:1" and c["8"].parent_id == c["7"].id
    assert c["8"].created_at.isoformat() == "2022-04-04T08:30:00+00:00"
    assert c["9"].status == CommentStatus.PENDING and c["9"].held_reason == "premoderation"
    assert c["10"].status == CommentStatus.REMOVED and c["11"].status == CommentStatus.DELETED
    with app.app_context():
        article = db.session.get(Article, "2022-04-oil-slides")
        assert article is not None and article.status == ArticleStatus.CLOSED
        assert article.comment_count == 2
    assert "ines@example.org" not in stored_text(app)
    assert recount_clean(app)
    assert "5 already imported" in run(app, "wordpress", str(FIXTURES / "wordpress.xml")).output


# --- Isso ---------------------------------------------------------------------------------


def _isso_database(path: Path) -> None:
    """An Isso database with Isso's own tables (isso/db/threads.py, isso/db/comments.py)."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
        CREATE TABLE comments (
            tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
            created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
            text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
            likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
            notification INTEGER NOT NULL DEFAULT 0);
        INSERT INTO threads VALUES (1, '/2020/tariffs/', 'Tariffs'), (2, '/2020/empty/', NULL);
        INSERT INTO comments VALUES
          (1, 1, NULL, 1583020800.5, NULL, 1, '192.0.2.0', 'Tariffs **bite**', 'Ola',
           'ola@example.org', NULL, 3, 1, x'00', 0),
          (1, 2, 1, 1583024400.0, NULL, 1, '192.0.2.0', 'Reply', NULL, NULL, NULL, 0, 0, x'00', 0),
          (1, 3, NULL, 1583028000.0, NULL, 2, '192.0.2.0', 'Pending', 'Pat', NULL, NULL, 0, 0,
           x'00', 0),
          (1, 4, NULL, 1583031600.0, NULL, 4, '192.0.2.0', '', NULL, NULL, NULL, 0, 0, x'00', 0),
          (1, 5, 4, 1583035200.0, NULL, 1, '192.0.2.0', 'Under a deleted one', 'Quinn', NULL,
           NULL, 0, 0, x'00', 0);
        """
    )
    conn.commit()
    conn.close()


def test_isso_database(app: Any, tmp_path: Path) -> None:
    path = tmp_path / "comments.db"
    _isso_database(path)
    result = run(app, "isso", str(path))
    assert result.exit_code == 0, result.output
    assert "5 added (1 deleted, 1 pending, 3 published)" in result.output
    assert "4 without a voter not imported" in result.output
    c = comments(app)
    assert c["1"].article_id == "2020-tariffs" and c["1"].author_is_guest
    assert c["1"].created_at.isoformat() == "2020-03-01T00:00:00.500000+00:00"
    assert c["2"].parent_id == c["1"].id and c["2"].author_name == "Anonymous"
    assert c["5"].parent_id == c["4"].id and c["4"].status == CommentStatus.DELETED
    assert "ola@example.org" not in stored_text(app)
    assert recount_clean(app)


def test_isso_generic_json(app: Any) -> None:
    result = run(app, "isso", str(FIXTURES / "isso.json"))
    assert result.exit_code == 0, result.output
    c = comments(app)
    assert c["/posts/rate-cut/#2"].parent_id == c["/posts/rate-cut/#1"].id
    assert c["/posts/bonds/#1"].article_id == "posts-bonds"
    assert c["/posts/rate-cut/#1"].body_html == "<p>A cut in <em>March</em>.</p>"
    assert recount_clean(app)


# --- Remark42 -----------------------------------------------------------------------------


def test_remark42_backup_with_votes_gzip_and_read_only(app: Any, tmp_path: Path) -> None:
    packed = tmp_path / "backup-ledger-20230301.gz"
    with open(FIXTURES / "remark42.backup", "rb") as src, gzip.open(packed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    result = run(app, "remark42", str(packed), "--user-prefix", "r42:")
    assert result.exit_code == 0, result.output
    assert "4 added (1 deleted, 3 published)" in result.output and "votes: 3 added" in result.output
    c = comments(app)
    first = c["7f1c2d3e-0001"]
    assert first.author_id == "r42:github_aa11" and first.likes == 2 and first.dislikes == 1
    assert first.created_at.isoformat() == "2023-02-01T09:00:00+00:00"
    assert c["7f1c2d3e-0002"].author_is_guest and c["7f1c2d3e-0002"].parent_id == first.id
    with app.app_context():
        voters = set(db.session.scalars(select(CommentReaction.user_id)))
        assert voters == {"r42:google_bb22", "r42:anonymous_cc33", "r42:github_dd44"}
        gold = db.session.get(Article, "markets-gold-record")
        assert gold is not None and gold.status == ArticleStatus.CLOSED
    assert recount_clean(app)
    assert "4 already imported" in run(app, "remark42", str(packed)).output


def test_remark42_truncated_line(app: Any, tmp_path: Path) -> None:
    data = (FIXTURES / "remark42.backup").read_bytes()
    path = tmp_path / "cut.backup"
    path.write_bytes(data[:-40])
    result = run(app, "remark42", str(path))
    assert result.exit_code == 1 and "line 5 of the Remark42 backup is not JSON" in result.output
    assert count(app, Comment) == 0


# --- Commento -----------------------------------------------------------------------------


def test_commento_export(app: Any) -> None:
    result = run(app, "commento", str(FIXTURES / "commento.json"))
    assert result.exit_code == 0, result.output
    assert "4 added (1 deleted, 1 pending, 2 published)" in result.output
    c = comments(app)
    assert c["a1b2c3"].article_id == "tech-chip-shortage"
    assert c["a1b2c3"].author_id == "commento:c0ffee" and c["a1b2c3"].author_name == "Lee"
    assert c["a1b2c3"].body_html == "<p>Chips are <strong>back</strong>.</p>"
    assert c["d4e5f6"].author_is_guest and c["d4e5f6"].parent_id == c["a1b2c3"].id
    assert "lee@example.org" not in stored_text(app)
    assert recount_clean(app)


def test_backup_import_still_answers_to_flask_import_file(app: Any, tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text('{"type": "meta", "format": "comments-service-export", "version": 1}\n')
    result = run(app, str(path))
    assert result.exit_code == 0, result.output
    piped = app.test_cli_runner().invoke(args=["import", "-"], input=path.read_text())
    assert piped.exit_code == 0, piped.output


# --- mapping (no database) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example/2024/05/Fed-Holds.html?utm=x", "2024-05-fed-holds-html"),
        ("https://news.example/", None),
        ("/posts/bonds/", "posts-bonds"),
        ("https://news.example/" + "a" * 300, "a" * 200),
    ],
)
def test_default_slug(url: str, expected: str | None) -> None:
    assert slug(url) == expected


def test_worker_processes_give_the_same_rows(app: Any, database_url: str) -> None:
    """--jobs: bodies converted in other processes, a window ahead of the writer."""
    from tests.helpers import empty_tables as _empty_tables

    assert run(app, "disqus", str(FIXTURES / "disqus.xml"), "--jobs", "1").exit_code == 0
    alone = {sid: (c.body, c.body_html, c.parent_id is None) for sid, c in comments(app).items()}
    _empty_tables(database_url)
    result = run(app, "disqus", str(FIXTURES / "disqus.xml"), "--jobs", "2", "--batch-size", "3")
    assert result.exit_code == 0, result.output
    shared = {sid: (c.body, c.body_html, c.parent_id is None) for sid, c in comments(app).items()}
    assert shared == alone and len(shared) == 15
    assert recount_clean(app)
