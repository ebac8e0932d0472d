"""A question on a passage (extractive QA): its tokens, character offsets and gold answers.

A :class:`Question` is an :class:`~torchelmo.tasks.instance.Instance` whose ``tokens`` are
the passage's, so the trainer's batching (by passage length) works unchanged. Token spans
are ``(first, last)`` token indexes, inclusive; character spans are ``(start, end)`` with
``context[start:end]`` the text.
"""
import bisect
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

from ...tokenizer import Token
from ..instance import Instance

Offsets = List[Tuple[int, int]]  # (start, end) character span of every passage token


@dataclass
class Question(Instance):
    """``question``: the question's tokens; ``context``: the raw passage, ``offsets`` its
    tokens' character spans; ``answers``: every gold answer text (empty when unlabelled);
    ``span``: the gold token span of the first answer that has an offset (``None`` without)."""

    question: List[str] = field(default_factory=list)
    context: str = ""
    offsets: Offsets = field(default_factory=list)
    question_id: str = ""
    answers: List[str] = field(default_factory=list)
    span: Optional[Tuple[int, int]] = None

    def window(self, first: int, size: int) -> "Question":
        """Passage tokens ``first .. first + size - 1`` as a question of their own (the gold
        span shifted; the caller keeps it inside). ``context`` and ``offsets`` stay those of
        the whole passage, so character spans still index ``context``."""
        span = None if self.span is None else (self.span[0] - first, self.span[1] - first)
        return Question(tokens=self.tokens[first:first + size], source=self.source, question=self.question,
                        context=self.context, offsets=self.offsets[first:first + size],
                        question_id=self.question_id, answers=self.answers, span=span)


def token_offsets(tokens: Sequence[Token]) -> Offsets:
    return [(token.start, token.end) for token in tokens]


def token_span(offsets: Offsets, start: int, end: int) -> Optional[Tuple[int, int]]:
    """The tokens that overlap characters ``start .. end - 1``: ``(first, last)``, or ``None``
    when no token does (an empty or whitespace-only span). An answer that starts or ends
    inside a token (``1990`` of ``1990s``) takes the whole token."""
    first = bisect.bisect_right([e for _, e in offsets], start)  # first token ending after start
    last = bisect.bisect_left([s for s, _ in offsets], end) - 1  # last token starting before end
    if first > last:
        return None
    return first, last


def character_span(offsets: Offsets, first: int, last: int) -> Tuple[int, int]:
    """Characters from token ``first``'s start to token ``last``'s end."""
    return offsets[first][0], offsets[last][1]
