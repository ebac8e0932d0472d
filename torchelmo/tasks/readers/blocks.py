"""Files of blank-line separated blocks (one sentence each), as CoNLL formats lay them out."""
from typing import Callable, Iterator, List, Tuple

NumberedLine = Tuple[int, str]  # (1-based line number, the line without its end)


def line_blocks(path: str, is_comment: Callable[[str], bool]) -> Iterator[List[NumberedLine]]:
    """The non-empty blocks of ``path``: the lines between blank (or whitespace-only) lines,
    comment lines left out. Read as UTF-8, streaming."""
    block: List[NumberedLine] = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                if block:
                    yield block
                block = []
            elif not is_comment(line):
                block.append((number, line))
    if block:
        yield block
