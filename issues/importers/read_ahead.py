"""Reading a dump in a thread of its own while the import writes what was read before.

Parsing is Python; writing is mostly PostgreSQL's work, during which the
importing thread waits on the database with the GIL released. A reader thread
parses the next records meanwhile, so one core parses while the other writes.
A few chunks of records wait at most (bounded in records and bytes): memory
stays flat, whatever the dump's size.
"""

import queue
import threading
from collections.abc import Callable, Iterator

from issues.importers.formats import Record

CHUNK_RECORDS = 250
CHUNK_BYTES = 4 * 1024 * 1024
CHUNKS_AHEAD = 4
_END = object()


class ReadAhead:
    """Iterates over what `records` yields, produced by a thread. `position()` (bytes of the input read) is
    taken as each chunk is read, and `position` is that of the last chunk handed out: a progress bar shows
    what the import has taken, not what waits. Close it (or exhaust it) to stop the thread."""

    def __init__(self, records: Iterator[Record], position: Callable[[], int]):
        self.position = 0
        self._records = records
        self._read_position = position
        self._chunks: queue.Queue = queue.Queue(maxsize=CHUNKS_AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="import-reader", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[Record]:
        while True:
            item = self._chunks.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            chunk, self.position = item
            yield from chunk

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def _produce(self) -> None:
        chunk, size = [], 0
        try:
            for record in self._records:
                chunk.append(record)
                size += _bytes_of(record)
                if len(chunk) >= CHUNK_RECORDS or size >= CHUNK_BYTES:
                    if not self._put((chunk, self._read_position())):
                        return
                    chunk, size = [], 0
            if self._put((chunk, self._read_position())):
                self._put(_END)
        except BaseException as error:  # the reader's own failure is raised where the records are taken
            self._put(error)
        finally:
            self._records.close()  # the file, in this thread that reads it

    def _put(self, item) -> bool:
        """Wait for room, unless the import stopped taking records; whether it was put."""
        while not self._stop.is_set():
            try:
                self._chunks.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False


def _bytes_of(record: Record) -> int:
    """About what a record holds in memory: its JSON text."""
    return len(getattr(record, "payload_json", None) or getattr(record, "line", ""))
