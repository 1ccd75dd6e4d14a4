"""Importers: bring another comment system's archive in (``flask import FORMAT FILE``).

One module per source format (disqus, wordpress, isso, remark42, commento), each a generator
of the plain records in ``records.py``; ``writer.py`` is the one place that turns them into
rows, so every format gets the same idempotency, depth rule, sanitiser, counters and report.
Nothing here needs Flask except ``cli.py``. docs/import.md is the operator's guide.
"""
