"""Patterns of generated codes: what they can make, how hard they are to guess, drawing them.

A pattern is literal text with placeholders: ``#`` a digit, ``@`` a letter, ``*`` either.
The prefix and the suffix are literal text around it (placeholders there are kept as text).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from ..codes import MAX_CODE_LENGTH
from ..errors import InvalidInput

DIGIT, LETTER, EITHER = "#", "@", "*"
PLACEHOLDERS = (DIGIT, LETTER, EITHER)

# (letters, digits). The default leaves out both sides of each look-alike pair a customer
# may misread or mistype: 0/O, 1/I/L, 5/S, 2/Z, 8/B.
ALPHABETS = {
    "unambiguous": ("ACDEFGHJKMNPQRTUVWXY", "34679"),
    "full": ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"),
}
DEFAULT_ALPHABET = "unambiguous"
# Below this a pattern is refused unless forced: its codes can be guessed.
MIN_BITS = 30
# A pattern must be able to make this many times the codes of it a program will hold: few
# draws then hit a code already there, and a guess hits a real code rarely.
SPARE = 10


class PatternError(InvalidInput):
    """A pattern, count or alphabet that cannot be used; `field` names what to correct."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Pattern:
    """What generated codes look like: `prefix` + `body` (with placeholders) + `suffix`."""

    body: str
    prefix: str = ""
    suffix: str = ""
    alphabet: str = DEFAULT_ALPHABET

    def __post_init__(self) -> None:
        if self.alphabet not in ALPHABETS:
            raise PatternError("alphabet", f"Choose the alphabet {' or '.join(ALPHABETS)}.")
        if not any(char in PLACEHOLDERS for char in self.body):
            raise PatternError(
                "pattern",
                "A pattern needs at least one placeholder: # for a digit, @ for a letter, "
                "* for a letter or a digit.",
            )
        text = self.text
        if len(text) > MAX_CODE_LENGTH:
            raise PatternError(
                "pattern", f"A code has at most {MAX_CODE_LENGTH} characters, prefix included."
            )
        if not text.isprintable() or text != text.strip():
            raise PatternError(
                "pattern",
                "Prefix, pattern and suffix must be printable characters, and a code cannot "
                "start or end with a space.",
            )

    @property
    def text(self) -> str:
        """The pattern as one string, as messages show it."""
        return self.prefix + self.body + self.suffix

    def choices(self) -> list[str]:
        """The characters each placeholder draws from, in order."""
        letters, digits = ALPHABETS[self.alphabet]
        sets = {DIGIT: digits, LETTER: letters, EITHER: letters + digits}
        return [sets[char] for char in self.body if char in sets]

    @property
    def capacity(self) -> int:
        """How many different codes the pattern can make."""
        return math.prod(len(chars) for chars in self.choices())

    @property
    def bits(self) -> float:
        return math.log2(self.capacity)

    @property
    def literal_prefix(self) -> str:
        """What every code of the pattern starts with."""
        head = self.prefix
        for char in self.body:
            if char in PLACEHOLDERS:
                break
            head += char
        return head

    def room(self, existing: int) -> int:
        """How many more codes the pattern takes, with room to spare, beside `existing`."""
        return max(self.capacity // SPARE - existing, 0)


def check_count(pattern: Pattern, count: int, existing: int, *, force: bool = False) -> None:
    """Refuse a count the pattern cannot hold with room to spare, or a guessable pattern.

    `existing` is how many codes of the program may be of the pattern already.
    """
    if count < 1:
        raise PatternError("count", "Generate at least one code.")
    room = pattern.room(existing)
    if count > room:
        have = f", beside the {existing:,} codes of the program that may be of it"
        raise PatternError(
            "count",
            f"The pattern {pattern.text} can make {pattern.capacity:,} codes; with room to "
            f"spare (at most one in {SPARE} in use) it takes {room:,} more"
            f"{have if existing else ''}. "
            "Add placeholders, or generate fewer.",
        )
    if pattern.bits < MIN_BITS and not force:
        raise PatternError(
            "pattern",
            f"The pattern {pattern.text} has {pattern.bits:.1f} bits of randomness "
            f"({pattern.capacity:,} codes), so its codes can be guessed: use at least "
            f"{MIN_BITS} bits (with the default alphabet, 7 placeholders *), or force it.",
        )


def draw_codes(pattern: Pattern, count: int) -> Iterator[str]:
    """Yield `count` codes of `pattern` (maybe repeated), drawn with the `secrets` module.

    Each code is one random number below the capacity, written in the pattern's mixed radix;
    the number is drawn by rejection from random bytes, so no code is likelier than another.
    """
    choices = pattern.choices()
    capacity = pattern.capacity
    width = (capacity.bit_length() + 7) // 8 + 1  # one byte more: under 1/256 rejected
    span = 256**width
    limit = span - span % capacity
    template = _escaped(pattern.prefix)
    for char in pattern.body:
        template += "{}" if char in PLACEHOLDERS else _escaped(char)
    template += _escaped(pattern.suffix)
    fill = template.format
    radices = [(chars, len(chars)) for chars in choices]
    made = 0
    while made < count:
        data = secrets.token_bytes(width * min(count - made + 16, 4096))
        for start in range(0, len(data), width):
            number = int.from_bytes(data[start : start + width])
            if number >= limit:
                continue
            number %= capacity
            picked = []
            for chars, radix in radices:
                number, index = divmod(number, radix)
                picked.append(chars[index])
            yield fill(*picked)
            made += 1
            if made == count:
                return


def _escaped(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")
