"""The JSON API (DESIGN.md section 7): bearer tokens, scoped by the token's user role
exactly as the screens are. Bodies that cannot be accepted get 422 with field errors.

Each operation lives in the module of what it acts on (``cases``, ``referrals``, ``stats``
with its own blueprint); their request and answer models give both the validation and the
OpenAPI document (``schema``, served by ``document``)."""

from __future__ import annotations

from hotline.api import calls, cases, document, referrals, tasks
from hotline.api.auth import token_required
from hotline.api.blueprint import bp

__all__ = ["bp", "calls", "cases", "document", "referrals", "tasks", "token_required"]
