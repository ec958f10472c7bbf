"""The Twilio adapter: the only place that imports ``twilio``."""
