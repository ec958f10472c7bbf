"""Every message in routing/ is extractable; its Vietnamese translation is checked with the
catalogs in tests/test_i18n.py."""

from __future__ import annotations

import ast
from pathlib import Path

from routing.i18n import Message, TermList, join_sentence, msg

ROUTING = Path(__file__).resolve().parents[2] / "routing"


def n_calls() -> list[ast.Call]:
    calls = []
    for path in sorted(ROUTING.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_":
                calls.append(node)
    return calls


def test_msgids_are_plain_string_literals():
    calls = n_calls()
    assert len(calls) > 30
    for call in calls:
        assert len(call.args) == 1
        assert isinstance(call.args[0], ast.Constant), ast.dump(call)
        assert isinstance(call.args[0].value, str)


def test_message_renders_nested_messages_and_term_lists_with_gettext():
    vi = {"open until %(time)s": "mở cửa đến %(time)s", "shelter": "nơi tạm lánh"}
    m = msg(
        "%(a)s / %(b)s",
        a=msg("open until %(time)s", time="17:00"),
        b=TermList(("shelter", "counselling")),
    )
    assert m.render(lambda s: vi.get(s, s)) == "mở cửa đến 17:00 / nơi tạm lánh, counselling"
    assert m.render() == "open until 17:00 / shelter, counselling"


def test_sentence_is_capitalised_and_ends_with_a_full_stop():
    parts = (Message("routed to %(p)s", {"p": "X"}), Message("call 113"))
    assert join_sentence(parts) == "Routed to X; call 113."
    assert join_sentence(()) == ""
