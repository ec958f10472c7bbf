"""Reporting: the anonymised payloads (``json`` and DHIS2), signed idempotent pushes with
retries, the push schedule, and the XLSX/CSV exports (docs/statistics.md)."""
