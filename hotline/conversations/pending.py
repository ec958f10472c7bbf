"""The candidate places offered in a follow-up question, kept on the contact between
turns so the caller's answer ("1", "Móng Cái") can be matched against them."""

from __future__ import annotations

from dataclasses import asdict

from models import Contact
from routing.resolve import PlaceMatch


def candidates_record(candidates: tuple[PlaceMatch, ...]) -> list[dict]:
    """The candidates as stored (on the contact, or in a journal entry's state)."""
    return [asdict(m) for m in candidates]


def remember_candidates(contact: Contact, candidates: tuple[PlaceMatch, ...]) -> None:
    contact.pending_places = candidates_record(candidates)


def pending_candidates(contact: Contact) -> list[PlaceMatch]:
    """The candidates of the contact's last question."""
    return candidates_from(contact.pending_places)


def candidates_from(records: list | None) -> list[PlaceMatch]:
    """Stored candidates as places (rows that no longer parse are skipped)."""
    out = []
    for d in records or []:
        try:
            out.append(
                PlaceMatch(
                    **{
                        **d,
                        "commune_codes": tuple(d["commune_codes"]),
                        "district_codes": tuple(d["district_codes"]),
                    }
                )
            )
        except (TypeError, KeyError):
            continue
    return out
