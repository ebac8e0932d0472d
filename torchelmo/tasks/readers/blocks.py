"""Reading data files: numbered UTF-8 lines, and the blank-line separated blocks (one
sentence each) CoNLL formats lay them out in."""
from typing import Callable, Iterator, List, Tuple

from ...errors import InputError

NumberedLine = Tuple[int, str]  # (1-based line number, the line without its end)


def utf8_lines(path: str, keep_ends: bool = False) -> Iterator[NumberedLine]:
    """The lines of ``path`` (``\\n``-separated), decoded as UTF-8 with a leading BOM dropped,
    streaming; a line that is not valid UTF-8 fails with ``file:line``."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise InputError(f"{path}:{number}: not valid UTF-8 ({error.reason} at byte {error.start + 1} "
                                 f"of the line)") from None
            yield number, line if keep_ends else line.rstrip("\r\n")


def line_blocks(path: str, is_comment: Callable[[str], bool]) -> Iterator[List[NumberedLine]]:
    """The non-empty blocks of ``path``: the lines between blank (or whitespace-only) lines,
    comment lines left out. Read as UTF-8, streaming."""
    block: List[NumberedLine] = []
    for number, line in utf8_lines(path):
        if not line.strip():
            if block:
                yield block
            block = []
        elif not is_comment(line):
            block.append((number, line))
    if block:
        yield block
