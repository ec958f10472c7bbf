"""Alerts to service points: their text, acknowledgement (SMS reply, signed link page),
escalation along the fallback chain, the commune notice, and the jobs that send them.
"""
