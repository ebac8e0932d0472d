"""GUM/CorefUD ``Entity=`` brackets to flat BIO tags.

In MISC, ``(12-person-...`` opens mention ``12`` of type ``person`` on a token, ``12)``
closes it, ``(12-person-...)`` is a one-token mention. Mentions nest (``[iodine]
deficiency`` inside ``[iodine deficiency]``); flat tagging keeps the outermost ones: a
mention inside (or crossing into) an earlier, longer kept mention is dropped.
"""
import re
from typing import Dict, List, Tuple

from ...errors import InputError

_BRACKET = re.compile(r"\((?P<open>[^()]+)(?P<single>\))?|(?P<close>[^()]+)\)")
Span = Tuple[int, int, str]  # first token, last token (inclusive), type


class EntityBrackets:
    """Collects the mentions of one sentence token by token."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.open: Dict[str, List[Tuple[int, str, int]]] = {}
        self.spans: List[Span] = []

    def add_token(self, index: int, value: str, line: int) -> None:
        """Apply the brackets of token ``index`` (its ``Entity=`` value, maybe empty)."""
        position = 0
        while position < len(value):
            match = _BRACKET.match(value, position)
            if match is None:
                raise InputError(f"{self.path}:{line}: cannot parse Entity={value!r} at character {position}")
            position = match.end()
            if match.group("open") is not None:
                fields = match.group("open").split("-")
                if len(fields) < 2:
                    raise InputError(f"{self.path}:{line}: entity {match.group(0)!r} has no type")
                if match.group("single"):
                    self.spans.append((index, index, fields[1]))
                else:
                    self.open.setdefault(fields[0], []).append((index, fields[1], line))
            else:
                entity = match.group("close")
                if not self.open.get(entity):
                    raise InputError(f"{self.path}:{line}: entity {entity!r} closed but never opened")
                start, kind, _ = self.open[entity].pop()
                self.spans.append((start, index, kind))

    def bio_tags(self, length: int) -> List[str]:
        """BIO tags of the outermost mentions; fails if a mention is left open."""
        for stack in self.open.values():
            if stack:
                raise InputError(f"{self.path}:{stack[-1][2]}: entity opened but not closed in its sentence")
        tags = ["O"] * length
        covered_until = -1
        for start, end, kind in sorted(self.spans, key=lambda s: (s[0], -s[1])):
            if start <= covered_until:
                continue
            tags[start] = f"B-{kind}"
            for i in range(start + 1, end + 1):
                tags[i] = f"I-{kind}"
            covered_until = end
        return tags
