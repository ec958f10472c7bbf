"""Coded values of the contract, shared by routing, the directory, the API, the forms and
the statistics.

They are the codes of the contract (DESIGN.md sections 6 and 7); labels for people live in
the Babel catalogs, never here.
"""

SERVICE_POINT_KINDS = (
    "trusted_address",
    "shelter",
    "social_work_center",
    "police",
    "health",
    "legal_aid",
    "commune_committee",
)
SERVICES = (
    "shelter",
    "medical",
    "psychosocial",
    "legal",
    "police",
    "livelihood",
    "child_protection",
    "counselling",
)
ROLES = ("operator", "social_worker", "manager", "admin")
CHANNELS = ("voice", "sms", "walk_in", "other")
SEXES = ("female", "male", "unknown")
AGE_BANDS = ("0-11", "12-17", "18-25", "26-40", "41-60", "61+", "unknown")
VIOLENCE_TYPES = (
    "rape",
    "sexual_assault",
    "physical_assault",
    "forced_marriage",
    "denial_of_resources",
    "psychological_abuse",
    "non_gbv",
)
CONTEXTS = ("domestic_violence", "trafficking", "child_abuse", "sexual_harassment")
RISKS = ("immediate", "high", "medium", "low")
SAFE_CHANNELS = ("sms", "call", "none")
REFERRAL_STATUSES = ("pending", "acknowledged", "accepted", "declined", "expired", "closed")
