"""Reading character vectors out of an R package's lazy-load database (``Rdata.rdx/.rdb``).

Only the parts of R's XDR serialization format (format versions 2 and 3) that such a
database of text vectors needs are understood: character vectors, lists (named lists become
dicts), pairlists with tags, symbols, integer/logical/double vectors and references; other
attributes are skipped. Anything else raises ``ValueError`` naming the type code.
"""
import gzip
import struct
import zlib
from pathlib import Path
from typing import Any, Dict, List

_NILVALUE, _REF, _SYMBOL, _PAIRLIST, _CHAR = 254, 255, 1, 2, 9
_LOGICAL, _INTEGER, _DOUBLE, _STRING, _LIST = 10, 13, 14, 16, 19
_NA_LENGTH = -1


class _Reader:
    def __init__(self, data: bytes, where: str) -> None:
        self.data, self.pos, self.where, self.refs = data, 0, where, []
        if data[:2] != b"X\n":
            raise ValueError(f"{where}: not R XDR serialization (header {data[:2]!r})")
        self.pos = 2
        version = self.int()
        self.int(), self.int()  # R version that wrote it, minimal R version to read it
        if version == 3:
            encoding_length = self.int()  # then the native encoding's name
            self.pos += encoding_length
        elif version != 2:
            raise ValueError(f"{where}: unsupported R serialization version {version}")

    def int(self) -> int:
        (value,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return value

    def item(self) -> Any:
        flags = self.int()
        kind, has_attributes, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind == _NILVALUE:
            return None
        if kind == _REF:
            return self.refs[(flags >> 8) - 1]
        if kind == _SYMBOL:
            symbol = self.item()
            self.refs.append(symbol)
            return symbol
        if kind == _PAIRLIST:
            if has_attributes:
                self.item()
            tag = self.item() if has_tag else None
            value, rest = self.item(), self.item()
            return [(tag, value)] + (rest or [])
        if kind == _CHAR:
            length = self.int()
            if length == _NA_LENGTH:
                return None
            text = self.data[self.pos:self.pos + length].decode("utf-8" if flags & (1 << 15) else "latin-1")
            self.pos += length
            return text
        if kind in (_LOGICAL, _INTEGER, _DOUBLE, _STRING, _LIST):
            length = self.int()
            if kind in (_LOGICAL, _INTEGER):
                value = list(struct.unpack_from(f">{length}i", self.data, self.pos))
                self.pos += 4 * length
            elif kind == _DOUBLE:
                value = list(struct.unpack_from(f">{length}d", self.data, self.pos))
                self.pos += 8 * length
            else:
                value = [self.item() for _ in range(length)]
            attributes = dict(self.item()) if has_attributes else {}
            if kind == _LIST and "names" in attributes:
                return dict(zip(attributes["names"], value))
            return value
        raise ValueError(f"{self.where}: unsupported R object type {kind} at byte {self.pos - 4}")


def read_character_vectors(rdx: Path, rdb: Path) -> Dict[str, List[str]]:
    """Every character vector in the lazy-load database ``rdx``/``rdb``, by variable name
    (sorted); missing values (``NA``) are left out."""
    index = _Reader(gzip.decompress(rdx.read_bytes()), str(rdx)).item()
    if not isinstance(index, dict) or index.get("compressed") != [1]:
        raise ValueError(f"{rdx}: expected a zlib-compressed lazy-load index")
    blob = rdb.read_bytes()
    vectors = {}
    for name, (offset, length) in sorted(index["variables"].items()):
        block = blob[offset:offset + length]
        value = _Reader(zlib.decompress(block[4:]), f"{rdb}[{name}]").item()
        if isinstance(value, list) and all(v is None or isinstance(v, str) for v in value):
            vectors[name] = [v for v in value if v is not None]
    return vectors
