"""Statistics: periods, the published tables and their suppression, daily rollups, the
plan indicators and the hotline metrics (docs/statistics.md).

``periods``, ``suppression``, ``definitions`` and ``tables`` are pure (no Flask, no
database); ``rollup`` and ``report`` read the database.
"""
