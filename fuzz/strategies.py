"""Hypothesis strategies for hostile ABC: random bytes, mutated real tunes, absurd values."""

from __future__ import annotations

from hypothesis import strategies as st

REAL_TUNES = [
    "X:1\nT:The Kesh\nR:jig\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA|\nGAG GAB|ABA ABd|edd gdB|AGF G3:|\n",
    "X:2\nT:Drowsy Maggie\nR:reel\nM:4/4\nL:1/8\nQ:1/4=180\nP:AB\nK:Edor\nP:A\n|:E2BE dEBE|E2BE AFDF|1 E2BE dEBE:|2 BABc dAFD||\nP:B\n|:d2fd c2ec|defg afge|d2fd c2ec|BABc dAFA:|\n",  # noqa: E501
    'X:3\nT:Tuplets\nM:3/4\nL:1/8\nK:Ador\n(3ABc d2 e2-|e2 ^f2 g2|(3:2:4agfe [CEG]2 {g}a2|"Am"A>B c<d !trill!e2|]\n',
    "X:4\nT:Fields\nM:C|\nL:1/8\nK:D\nDEFG [K:Bb] ABcd|[L:1/16] ABcdefga [M:3/4]|Z2|x4 z4|y A2 &B2|]\n",
]
PIECES = [
    "|",
    ":|",
    "|:",
    "::",
    "[1",
    "[2",
    "|1",
    ":|2",
    "(3",
    "(5:4:3",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "-",
    ">",
    "<",
    ">>>",
    "/",
    "//",
    "A99999999",
    "z999999",
    "Z99999",
    "^^",
    "__",
    "=",
    ",,,,",
    "''''",
    '"',
    "!",
    "+",
    "[K:Dmix]",
    "[L:0]",
    "[M:0/0]",
    "[Q:0]",
    "\nK:H\n",
    "\nL:1/0\n",
    "\nM:0/0\n",
    "\nQ:0\n",
    "\nP:((A)\n",
    "\nK:\n",
    "\\",
    "%",
    "X:",
    "\x00",
    "\ufffd",
    "&",
    "[V:1]",
]


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


# --- what the hardening campaign adds: tunes that ask for too much, hostile MIDI files, titles -----

TITLES = [
    "The \u201cCurly\u201d Reel \u2014 2",
    "\u0422\u0430\u043d\u0435\u0446",
    "a\x01b\x1b[31m",
    "\ud800x",
    "<script>alert(1)</script>",
    "\u202eevil",
    "\x7f" * 40,
    "t" * 5000,
    "\u00e9\u00e8\u00ea",
]


@st.composite
def demanding_tune(draw) -> str:
    """A small tune that asks for hours of sound, huge lines or odd titles."""
    title = draw(st.sampled_from(TITLES))
    unit = draw(st.sampled_from(["1", "1/8", "1/64", "64"]))
    tempo = draw(st.sampled_from(["1/4=4", "1/4=1000", "1/4=0", "1/64=4", "120", "1/4=1e9"]))
    bar = draw(st.sampled_from(["z64|", "Z999999|", "C z8 z8 z8 C|", "A64|", "x64|", "z8 z8|", "C|"]))
    count = draw(st.integers(1, 400))
    return f"X:1\nT:{title}\nL:{unit}\nQ:{tempo}\nK:C\n" + bar * count + "\n"


def _midi_bytes(events: list[tuple[int, bytes]], ticks_per_beat: int = 480, tracks: int = 1) -> bytes:
    """A type-1 MIDI file of ``tracks`` copies of one track of (delta, event bytes)."""

    def var_length(value: int) -> bytes:
        out = [value & 0x7F]
        value >>= 7
        while value:
            out.append(0x80 | (value & 0x7F))
            value >>= 7
        return bytes(reversed(out))

    body = b"".join(var_length(delta) + event for delta, event in events) + b"\x00\xff\x2f\x00"
    track = b"MTrk" + len(body).to_bytes(4, "big") + body
    header = (
        b"MThd"
        + (6).to_bytes(4, "big")
        + (1).to_bytes(2, "big")
        + tracks.to_bytes(2, "big")
        + ticks_per_beat.to_bytes(2, "big")
    )
    return header + track * tracks


@st.composite
def hostile_midi(draw) -> bytes:
    """MIDI files: random bytes, truncated or flipped real ones, days of silence, floods of notes."""
    kind = draw(st.sampled_from(["random", "header", "mutated", "long", "flood", "tempo", "tracks"]))
    note = [(0, b"\x90\x3c\x50"), (480, b"\x80\x3c\x00")]
    if kind == "random":
        return draw(st.binary(max_size=400))
    if kind == "header":
        return b"MThd" + draw(st.binary(max_size=200))
    if kind == "mutated":
        data = bytearray(_midi_bytes(note * draw(st.integers(1, 50))))
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data[: draw(st.integers(1, len(data)))])
    if kind == "long":
        return _midi_bytes(note + [(draw(st.integers(1, 0x0FFFFFFF)), b"\x90\x3e\x50"), (480, b"\x80\x3e\x00")])
    if kind == "flood":
        return _midi_bytes([(0, b"\x90\x3c\x50"), (1, b"\x80\x3c\x00")] * draw(st.integers(1, 60_000)))
    if kind == "tempo":
        tempo = draw(st.integers(0, 0xFFFFFF)).to_bytes(3, "big")
        return _midi_bytes([(0, b"\xff\x51\x03" + tempo)] + note * 20, ticks_per_beat=draw(st.integers(1, 0x7FFF)))
    return _midi_bytes(note * 4, tracks=draw(st.integers(1, 300)))
