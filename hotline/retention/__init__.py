"""Retention: shredding personal free text and recordings after RETENTION_DAYS."""
