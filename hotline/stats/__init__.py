"""Statistics: periods, the published tables and their suppression, daily rollups, the
plan indicators and the hotline metrics (docs/statistics.md).

``periods``, ``suppression``, ``definitions``, ``tables`` and ``joint`` (the months,
half-years and year of a year suppressed together) are pure (no Flask, no database);
``rollup``, ``published`` (the numbers pushed, held fixed) and ``report`` read the database.
"""
