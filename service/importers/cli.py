"""``flask import FORMAT FILE``: bring another comment system's archive in.

Registered by one line in service/cli.py. ``flask import FILE`` (no format) still imports
our own JSON Lines backup, as it did before the formats came.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import IO, Any

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..http import settings
from . import commento, disqus, isso, remark42, wordpress
from .mapping import Mapper, open_csv
from .records import Record, SourceError
from .sources import Counting
from .writer import Options, Report, Writer

FORMATS = ("disqus", "wordpress", "isso", "remark42", "commento")
LOG_EVERY = 50_000  # comments between progress lines when not on a terminal


class ImportGroup(click.Group):
    """`flask import FORMAT FILE`, and `flask import FILE` for our own backups."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and (args[0] == "-" or args[0][:1] != "-"):
            return "backup", self.commands["backup"], args
        return super().resolve_command(ctx, args)


@click.group("import", cls=ImportGroup)
def import_group() -> None:
    """Import comments: `flask import FORMAT FILE` from disqus, wordpress, isso, remark42 or
    commento (docs/import.md), or `flask import FILE` for this service's own export."""


def _open(path: str, on_read: Callable[[int], None]) -> tuple[Any, ExitStack]:
    """The file as a binary stream (gzip read transparently), counting the bytes read."""
    stack = ExitStack()
    raw = stack.enter_context(open(path, "rb"))
    counting = Counting(raw, on_read)
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        gz = gzip.GzipFile(fileobj=counting, mode="rb")  # type: ignore[call-overload]
        return stack.enter_context(gz), stack
    raw.seek(0)
    return counting, stack


def _records(fmt: str, path: str, handle: Any) -> Iterator[Record]:
    if fmt == "disqus":
        return disqus.parse(handle)
    if fmt == "wordpress":
        return wordpress.parse(handle)
    if fmt == "remark42":
        return remark42.parse(handle)
    if fmt == "commento":
        return commento.parse(handle)
    if isso.is_database(path):
        return isso.parse_database(path)
    return isso.parse_json(handle)


class _Progress:
    """A bar on a terminal (rich), a line every LOG_EVERY comments otherwise."""

    def __init__(self, total: int, label: str) -> None:
        self.total = total
        self.read = 0
        self.logged = 0
        self.bar: Any = None
        if sys.stderr.isatty():
            from rich.progress import (  # lazy: a progress bar only on a terminal
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[comments]} comments"),
                TimeRemainingColumn(),
                transient=True,
            )
            self.task = self.bar.add_task(label, total=total or None, comments=0)
            self.bar.start()

    def bytes_read(self, n: int) -> None:
        self.read += n

    def update(self, report: Report) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=self.read, comments=report.comments)
        elif report.comments - self.logged >= LOG_EVERY:
            self.logged = report.comments
            share = f" ({100 * self.read // self.total}% of the file)" if self.total else ""
            click.echo(f"import: {report.comments} comments read{share}", err=True)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _command(fmt: str, what: str) -> click.Command:
    @click.command(fmt, help=f"Import {what}. See docs/import.md.")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Parse and report; write nothing.")
    @click.option(
        "--skip-removed",
        is_flag=True,
        help="Leave out comments deleted or marked as spam in the source (default: import "
        "them as deleted / removed, so threads keep their shape).",
    )
    @click.option(
        "--user-prefix",
        default=f"{fmt}:",
        show_default=True,
        help="Namespace for the source's signed-in users' ids (a host can map them later).",
    )
    @click.option(
        "--article-id-from-url",
        "regex",
        metavar="REGEX",
        help="Article id = the named group (?P<id>...) of this expression over the thread URL.",
    )
    @click.option(
        "--map-csv",
        type=click.Path(exists=True, dir_okay=False),
        help="A CSV of url,article_id; threads not in it are reported, not imported.",
    )
    @click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 10_000))
    @click.option(
        "--jobs",
        default=min(os.cpu_count() or 1, 4),
        show_default="cores, at most 4",
        type=click.IntRange(1, 32),
        help="Processes converting bodies beside the one that parses and writes.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    @with_appcontext
    def command(
        file: str,
        dry_run: bool,
        skip_removed: bool,
        user_prefix: str,
        regex: str | None,
        map_csv: str | None,
        batch_size: int,
        jobs: int,
        as_json: bool,
    ) -> None:
        progress = _Progress(os.path.getsize(file), f"{fmt} {os.path.basename(file)}")
        try:
            with ExitStack() as stack:
                csv_file: IO[str] | None = None
                if map_csv:
                    csv_file = stack.enter_context(open_csv(map_csv))
                mapper = Mapper.from_options(regex=regex, csv_file=csv_file)
                handle, opened = _open(file, progress.bytes_read)
                stack.enter_context(opened)
                writer = Writer(
                    db.session(),
                    Options(
                        source=fmt,
                        user_prefix=user_prefix,
                        skip_removed=skip_removed,
                        max_depth=settings().max_depth,
                        batch=batch_size,
                        jobs=jobs,
                    ),
                    mapper,
                    progress=progress.update,
                )
                report = writer.run(_records(fmt, file, handle))
            if dry_run:
                db.session.rollback()
            else:
                db.session.commit()
        except (SourceError, OSError, EOFError, gzip.BadGzipFile) as exc:
            db.session.rollback()
            raise click.ClickException(f"nothing imported: {exc}") from None
        except BaseException:
            db.session.rollback()
            raise
        finally:
            progress.stop()
        if as_json:
            click.echo(json.dumps({"dry_run": dry_run, **report.summary()}, indent=2))
            return
        for line in report.lines():
            click.echo(line)
        click.echo("dry run: nothing was written" if dry_run else "import committed")

    return command


for _fmt, _what in (
    ("disqus", "a Disqus XML export"),
    ("wordpress", "a WordPress export (WXR)"),
    ("isso", "an Isso database file or Isso's generic JSON"),
    ("remark42", "a Remark42 backup file (plain or gzip)"),
    ("commento", "a Commento or Commento++ JSON export"),
):
    import_group.add_command(_command(_fmt, _what))


def register(app: Any, backup_command: click.Command) -> None:
    """Add `flask import` (with the backup import as `flask import backup FILE`)."""
    import_group.add_command(backup_command, "backup")
    app.cli.add_command(import_group)
