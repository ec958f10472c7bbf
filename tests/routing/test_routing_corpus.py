"""Accuracy of place resolution on labelled caller messages (DESIGN §10: at least 95 %).

``corpus.tsv`` was written before the resolver, as callers write; ``holdout.tsv`` was written
afterwards and scored once before any further change. Both count.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from routing.resolve import DISTRICT_KINDS, Resolution, resolve_place

HERE = Path(__file__).parent
FILES = ("corpus.tsv", "holdout.tsv")
MIN_ACCURACY = 0.95


def load(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            expected, text = line.split("\t")
            rows.append((expected, text))
    return rows


def _key(match) -> str:
    if match.unit_kind in DISTRICT_KINDS:
        return "d" + match.code
    return "+".join(sorted(match.commune_codes))


def outcome(res: Resolution) -> str:
    """The resolution in the corpus label format."""
    if res.status == "not_found":
        return "not_found"
    if res.status == "outside_province":
        return "outside"
    if res.status == "ambiguous":
        return "ambiguous:" + "|".join(sorted(_key(m) for m in res.matches))
    if res.best.unit_kind in DISTRICT_KINDS:
        return "district:" + res.best.code
    return "commune:" + _key(res.best)


def canonical(expected: str) -> str:
    kind, _, value = expected.partition(":")
    if kind == "commune":
        return "commune:" + "+".join(sorted(value.split("+")))
    if kind == "ambiguous":
        items = ("+".join(sorted(v.split("+"))) for v in value.split("|"))
        return "ambiguous:" + "|".join(sorted(items))
    return expected


def test_corpus_is_large_and_varied():
    rows = load("corpus.tsv")
    assert len(rows) >= 200
    kinds = {e.partition(":")[0] for e, _ in rows}
    assert kinds == {"commune", "district", "ambiguous", "not_found", "outside"}
    assert sum("+" in e for e, _ in rows) >= 10  # split communes
    assert sum(e == "district:204" for e, _ in rows) >= 2  # Hoành Bồ
    nfd = [t for _, t in rows if unicodedata.normalize("NFC", t) != t]
    assert len(nfd) >= 10
    ascii_only = [t for _, t in rows if t.isascii()]
    assert len(ascii_only) >= 80


def test_place_resolution_accuracy_is_at_least_95_percent():
    total = correct = 0
    misses = []
    for name in FILES:
        rows = load(name)
        ok = 0
        for expected, text in rows:
            got = outcome(resolve_place(text))
            if got == canonical(expected):
                ok += 1
            else:
                misses.append(f"  {name}: {text!r}: expected {expected}, got {got}")
        print(f"{name}: {ok}/{len(rows)} = {ok / len(rows):.1%}")
        total += len(rows)
        correct += ok
    accuracy = correct / total
    print(f"place resolution accuracy: {correct}/{total} = {accuracy:.1%}")
    print("\n".join(misses))
    assert accuracy >= MIN_ACCURACY, "\n".join(misses)
