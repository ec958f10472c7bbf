"""The conversations with callers: the SMS flow and the voice IVR (provider-neutral), their
jobs and the delivery reports of messages the service sent.
"""
