"""Hypothesis strategies for hostile ABC: random bytes, mutated real tunes, absurd values."""

from __future__ import annotations

from hypothesis import strategies as st

REAL_TUNES = [
    "X:1\nT:The Kesh\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA|\nGAG GAB|ABA ABd|edd gdB|AGF G3:|\n",
    "X:2\nT:Drowsy Maggie\nR:reel\nM:4/4\nL:1/8\nQ:1/4=180\nP:AB\nK:Edor\nP:A\n|:E2BE dEBE|E2BE AFDF|1 E2BE dEBE:|2 BABc dAFD||\nP:B\n|:d2fd c2ec|defg afge|d2fd c2ec|BABc dAFA:|\n",
    "X:3\nT:Tuplets\nM:3/4\nL:1/8\nK:Ador\n(3ABc d2 e2-|e2 ^f2 g2|(3:2:4agfe [CEG]2 {g}a2|\"Am\"A>B c<d !trill!e2|]\n",
    "X:4\nT:Fields\nM:C|\nL:1/8\nK:D\nDEFG [K:Bb] ABcd|[L:1/16] ABcdefga [M:3/4]|Z2|x4 z4|y A2 &B2|]\n",
]
PIECES = ["|", ":|", "|:", "::", "[1", "[2", "|1", ":|2", "(3", "(5:4:3", "(", ")", "[", "]", "{", "}",
          "-", ">", "<", ">>>", "/", "//", "A99999999", "z999999", "Z99999", "^^", "__", "=", ",,,,",
          "''''", "\"", "!", "+", "[K:Dmix]", "[L:0]", "[M:0/0]", "[Q:0]", "\nK:H\n", "\nL:1/0\n",
          "\nM:0/0\n", "\nQ:0\n", "\nP:((A)\n", "\nK:\n", "\\", "%", "X:", "\x00", "\ufffd", "&", "[V:1]"]


@st.composite
def mutated_tune(draw) -> str:
    """A real tune with characters and pieces inserted, deleted and swapped."""
    text = list(draw(st.sampled_from(REAL_TUNES)))
    for _ in range(draw(st.integers(1, 12))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "swap", "piece"]))
        if action == "insert":
            text.insert(position, draw(st.characters()))
        elif action == "delete" and position < len(text):
            del text[position]
        elif action == "swap" and position + 1 < len(text):
            text[position], text[position + 1] = text[position + 1], text[position]
        else:
            text[position:position] = list(draw(st.sampled_from(PIECES)))
    return "".join(text)


def hostile_abc():
    """Any of: random text, random bytes decoded, mutated tunes, huge lines, nesting."""
    return st.one_of(
        mutated_tune(),
        st.text(max_size=400).map(lambda t: "X:1\nT:t\nK:C\n" + t),
        st.binary(max_size=400).map(lambda b: "X:1\nK:D\n" + b.decode("latin-1")),
        st.integers(1, 2000).map(lambda n: "X:1\nK:C\n" + "(" * n + "A" + ")" * n),
        st.integers(1, 2000).map(lambda n: "X:1\nK:C\n" + "[" * n + "A" + "]" * n),
        st.integers(1, 5000).map(lambda n: "X:1\nK:C\n" + "A" * n * 10),
        st.sampled_from(PIECES).map(lambda p: "X:1\nT:t\nM:4/4\nL:1/8\nK:C\n" + p * 50 + "ABc|"),
    )
