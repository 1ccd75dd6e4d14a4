"""The rules of the comments service, free of Flask: they take a session and plain values.

Core or ORM: which to use when
-------------------------------
Two styles of data access live here on purpose, and the choice follows the path:

* **Core statements** (``select(...)`` of columns, ``insert()``/``update()`` on tables,
  prebuilt statements with ``bindparam``) on the hot paths: listing a thread, posting a
  comment, counts and reactions. They return plain rows, skip the identity map and the
  unit of work, and a statement built once is reused by every request; counters change with
  ``UPDATE ... SET n = n + 1`` in the database, never read-modify-write. docs/performance.md
  has the measurements that moved these paths to Core. A listing costs a fixed number of
  queries (tests/api/test_query_count.py).
* **The ORM** (``session.get``, mapped objects, ``session.add``) everywhere else: moderation
  actions, bans, articles' settings, import/export, the admin API. These run rarely, touch a
  few rows, and read best as objects whose changes the session flushes.

A new path starts with the ORM; it moves to Core when the benchmark shows it matters. When a
Core UPDATE changes a row the session may hold, expire that object afterwards (as
``comments._expire_counters`` does) so the two never disagree within a request.
"""
