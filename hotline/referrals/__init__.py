"""Referrals of a case to service points: creating them (with their alert), acknowledgement,
acceptance, decline and outcomes, and the outcome reminders.
"""
