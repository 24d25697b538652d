"""What an import refuses to read: limits no real dump reaches and every decompression or nesting bomb does.

A GitHub issue object nests five or six levels and weighs a few KB (a
megabyte with a huge body); dumps compress 5 to 20 times. Past a limit the
record is refused by name, like any bad record (past the decompressed total
or ratio, the rest of the file), and memory stays bounded: nothing here
keeps more than one record's bytes.
The values are settings (IMPORT_MAX_*, annotator/settings.py; README,
Security).
"""

import io
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import IO

from django.conf import settings
from django.template.defaultfilters import filesizeformat


class LimitExceeded(Exception):
    """A limit of the whole file or run was passed: what was read before it is kept."""


@dataclass(frozen=True, slots=True)
class Limits:
    depth: int  # levels of nested arrays and objects in one record
    record_bytes: int  # one line of JSON Lines or CSV, one item of a JSON file
    decompressed_bytes: int  # all .gz and .zip contents of one run, decompressed
    ratio: int  # decompressed : compressed, once past ratio_floor_bytes
    ratio_floor_bytes: int
    seconds: int  # one run

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            depth=settings.IMPORT_MAX_DEPTH,
            record_bytes=settings.IMPORT_MAX_RECORD_BYTES,
            decompressed_bytes=settings.IMPORT_MAX_DECOMPRESSED_BYTES,
            ratio=settings.IMPORT_MAX_COMPRESSION_RATIO,
            ratio_floor_bytes=settings.IMPORT_COMPRESSION_RATIO_FLOOR_BYTES,
            seconds=settings.IMPORT_MAX_SECONDS,
        )

    def too_deep(self) -> str:
        return f"nested deeper than {self.depth} levels (a bomb, not an issue)"

    def too_large(self) -> str:
        return f"larger than the {filesizeformat(self.record_bytes)} limit of one record"


# --- nesting depth, counted on the bytes before any parser sees them ---

_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
# A complete JSON string (brackets inside it do not nest), or a bracket.
_BRACKET_OR_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[\[\]{}]')
# A long string still open is read again with more of the file: in reads no larger than this.
_MAX_READ = 4 * 1024 * 1024
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def _unescaped(data: bytes) -> bytes:
    """`data` without escaped backslashes and quotes (paired from the left, as a parser does): every quote
    left opens or closes a string."""
    return data.replace(b"\\\\", b"").replace(b'\\"', b"")


def _levels(unescaped: bytes, depth: int) -> Iterator[int]:
    """The depth after each bracket outside strings, starting from `depth`; all at C speed."""
    outside = b"".join(unescaped.split(b'"')[::2])
    return accumulate(map(_STEP.__getitem__, outside.translate(None, _NOT_BRACKET)), initial=depth)


def too_deep(record: bytes, limit: int) -> bool:
    """Whether one whole JSON record nests deeper than `limit`, without parsing it (json.loads would recurse)."""
    if record.count(b"[") + record.count(b"{") <= limit:  # the usual case, at C speed
        return False
    return max(_levels(_unescaped(record), 0)) > limit


class JSONGuard(io.RawIOBase):
    """The bytes of a JSON file, up to the first item that nests too deep or weighs too much.

    `item_level` is the depth of the file's items (1 in `[…]`, 2 in `[[…]]`, 0 for objects back to back).
    At a refused item the stream ends there, so the parser yields every item before it and then finds
    the file cut; `refused` says why. `skip_refused()` then passes over that item, and the stream goes on
    with the items after it, as a new file a new parser reads.
    """

    def __init__(self, stream: IO[bytes], limits: Limits, item_level: int):
        self.stream = stream
        self.limits = limits
        self.item_level = item_level
        self.refused = ""
        self._depth = 0
        self._item_bytes = 0
        self._pending = b""  # a string not closed yet: its brackets are read with the rest of it
        self._ready = b""
        self._refused_rest = b""  # the refused item from where it was refused, and the depth there
        self._refused_depth = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._ready and not self.refused:
            # A long open string is read again with more of the file: reads grow with it, so that stays cheap.
            chunk = self.stream.read(min(max(256 * 1024, len(self._pending)), _MAX_READ))
            if not chunk:
                self._ready, self._pending = self._pending, b""
                break
            self._ready = self._checked(self._pending + chunk, len(chunk))
        size = min(len(buffer), len(self._ready))
        buffer[:size] = self._ready[:size]
        self._ready = self._ready[size:]
        return size

    def _checked(self, data: bytes, new: int) -> bytes:
        unescaped = _unescaped(data)
        self._pending = b""
        if unescaped.count(b'"') % 2:  # a string is still open: it waits for the rest of it
            cut = _open_string_start(data)
            data, self._pending = data[:cut], data[cut:]
        levels = array("i", _levels(unescaped, self._depth))  # 4 bytes a bracket, in a read of 4 MB at most
        if max(levels) > self.limits.depth:
            self.refused = self.limits.too_deep()
            return self._refuse(data, self._position_of_depth(data, self.limits.depth + 1), self.limits.depth)
        if min(levels) <= self.item_level:
            # An item ended in these bytes: the next one is no larger than they are.
            self._item_bytes = len(data) + len(self._pending)
        else:
            self._item_bytes += new
        if self._item_bytes > self.limits.record_bytes:
            self.refused = self.limits.too_large()
            # The items that ended in this chunk are read; the one that began in it is not.
            if min(levels) <= self.item_level:
                return self._refuse(data, self._item_start(data), self.item_level)
            return self._refuse(data, 0, self._depth)
        self._depth = levels[-1]
        return data

    def _refuse(self, data: bytes, cut: int, depth: int) -> bytes:
        self._refused_rest, self._refused_depth = data[cut:] + self._pending, depth
        self._pending = b""
        return data[:cut]

    def skip_refused(self) -> bool:
        """Read past the refused item, keeping none of it; False if the file ends first."""
        data, depth = self._refused_rest, self._refused_depth
        self._refused_rest = b""
        while True:
            unescaped = _unescaped(data)
            levels = array("i", _levels(unescaped, depth))
            if min(levels[1:], default=depth + 1) <= self.item_level:
                break
            depth = levels[-1]
            tail = b""
            if unescaped.count(b'"') % 2:  # of a string still open only its quote and a last backslash matter
                backslashes = len(data) - len(data.rstrip(b"\\"))
                tail = b'"' + b"\\" * (backslashes % 2)
            chunk = self.stream.read(256 * 1024)
            if not chunk:
                return False
            data = tail + chunk
        rest = data[self._item_end(data, depth) :].lstrip(b" \t\r\n")
        rest = b"[" * self.item_level + (rest[1:] if rest[:1] == b"," else rest)
        self.refused, self._depth, self._item_bytes = "", 0, 0
        self._ready = self._checked(rest, len(rest))
        return True

    def _position_of_depth(self, data: bytes, depth: int) -> int:
        """Where in `data` the nesting first reaches `depth`."""
        for position, level in self._brackets(data):
            if level >= depth:
                return position
        return len(data)

    def _item_start(self, data: bytes) -> int:
        """Where in `data` the last item begins."""
        start, before = 0, self._depth
        for position, level in self._brackets(data):
            if before == self.item_level and level == self.item_level + 1:
                start = position
            before = level
        return start

    def _item_end(self, data: bytes, depth: int) -> int:
        """Where in `data`, starting at `depth` inside an item, the item ends."""
        self._depth = depth
        for position, level in self._brackets(data):
            if level <= self.item_level:
                return position + 1
        return len(data)

    def _brackets(self, data: bytes):
        """(position, depth after it) of each bracket outside strings; only run at a refusal."""
        level = self._depth
        for match in _BRACKET_OR_STRING.finditer(data):
            if match[0][:1] != b'"':
                level += _STEP[match[0][0]]
                yield match.start(), level


def _open_string_start(data: bytes) -> int:
    """Where the string left open at the end of `data` begins: its last quote not escaped."""
    position = len(data)
    while True:
        position = data.rfind(b'"', 0, position)
        backslashes = position
        while backslashes and data[backslashes - 1] == ord("\\"):
            backslashes -= 1
        if (position - backslashes) % 2 == 0:
            return position


# --- lines, each read no further than the limit ---


class BoundedLines:
    """(number, line) for each line of a stream; a line over `limit` bytes comes as (number, None), skipped
    without being kept. Runs of blank lines are skipped in bulk (100 MB of them in a second, not a minute)
    and counted in `blank`."""

    def __init__(self, stream: IO[bytes], limit: int, *, skip_blank: bool = True):
        self.stream = stream
        self.limit = limit
        self.skip_blank = skip_blank  # not in CSV, where a quoted field may hold blank lines
        self.blank = 0

    def __iter__(self):
        number = 0
        stream = self.stream
        while True:
            head = stream.peek(1)
            if not head:
                return
            if self.skip_blank and head[:1] in b" \t\r\n":
                number += self._skip_blank_lines()
                if not stream.peek(1):
                    return
            line = stream.readline(self.limit + 1)
            number += 1
            if len(line) > self.limit and not line.endswith(b"\n"):
                while (rest := stream.readline(1024 * 1024)) and not rest.endswith(b"\n"):
                    pass
                line = None
            yield number, line

    def _skip_blank_lines(self) -> int:
        """Skip the whole blank lines ahead (a line's leading spaces stay with it); how many."""
        skipped = 0
        while buffered := self.stream.peek(64 * 1024):
            blank = len(buffered) - len(buffered.lstrip(b" \t\r\n"))
            end = blank if blank == len(buffered) else buffered.rfind(b"\n", 0, blank) + 1
            if not end:
                break
            lines = buffered.count(b"\n", 0, end)
            self.stream.read(end)
            self.blank += lines
            skipped += lines
            if end < len(buffered):
                break
        return skipped


# --- decompressed bytes ---


class DecompressedBudget:
    """The decompressed bytes of one run's .gz and .zip contents, against the total and the ratio."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.used = 0

    def reader(self, stream: IO[bytes], compressed_size: int | None) -> IO[bytes]:
        return io.BufferedReader(_Counted(stream, self, compressed_size), buffer_size=1024 * 1024)

    def check(self, size: int, compressed_size: int | None) -> None:
        limits = self.limits
        if self.used > limits.decompressed_bytes:
            raise LimitExceeded(
                f"the upload decompresses to more than {filesizeformat(limits.decompressed_bytes)} "
                "(a decompression bomb); the rest was not read"
            )
        if compressed_size is not None and size > max(limits.ratio_floor_bytes, limits.ratio * compressed_size):
            raise LimitExceeded(
                f"decompresses more than {limits.ratio} times its size, past {filesizeformat(size)} "
                "(a decompression bomb); the rest of the file was not read"
            )


class _Counted(io.RawIOBase):
    def __init__(self, stream: IO[bytes], budget: DecompressedBudget, compressed_size: int | None):
        self.stream = stream
        self.budget = budget
        self.compressed_size = compressed_size
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        self.size += len(data)
        self.budget.used += len(data)
        self.budget.check(self.size, self.compressed_size)
        buffer[: len(data)] = data
        return len(data)
