"""Whoosh segment files read straight from their memory map: no copy, a position per thread.

Whoosh maps each compound segment file itself, then wraps every file inside it in
BytesIO(memoryview(map)), and BytesIO copies what it is given: every open reader held a
private copy of its whole index besides the mapped pages, and a worker opens one per search
mode. Those files are also read by seek() then read() on one shared position, which the
threads of a worker could move under each other.

MappedStorage is Whoosh's own FileStorage with one change, through its open_file seam: a
compound segment file comes back already mapped, as a MappedFile, so Whoosh carves the files
inside it out with MappedFile.subset (views of the map, each thread with its own position;
Whoosh always seeks before it reads, so a new thread starting at 0 is fine).
"""
from __future__ import annotations

import mmap
import os
import threading

from whoosh.codec.base import Segment
from whoosh.filedb import structfile
from whoosh.filedb.filestore import FileStorage


class _ViewReader:
    """The file methods StructFile uses, over a memoryview, with a position per thread."""

    def __init__(self, view):
        self._view = memoryview(view).cast("B")
        self._local = threading.local()

    def tell(self) -> int:
        """The calling thread's position."""
        return getattr(self._local, "pos", 0)

    def seek(self, pos: int, whence: int = 0) -> int:
        """Moves the calling thread's position (whence as for files)."""
        base = (0, self.tell(), len(self._view))[whence]
        self._local.pos = max(0, base + pos)
        return self._local.pos

    def read(self, n: int | None = -1) -> bytes:
        """Up to n bytes (all the rest if n is negative or None)."""
        start = self.tell()
        end = len(self._view) if n is None or n < 0 else min(len(self._view), start + n)
        self._local.pos = max(start, end)
        return bytes(self._view[start:end])

    def readinto(self, buf) -> int:
        """Fills buf from the position; returns the number of bytes read."""
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)

    def readline(self, limit: int = -1) -> bytes:
        """Bytes up to and including the next newline."""
        start, out = self.tell(), b""
        while not out.endswith(b"\n") and (limit < 0 or len(out) < limit):
            chunk = self.read(256 if limit < 0 else min(256, limit - len(out)))
            if not chunk:
                break
            cut = chunk.find(b"\n")
            out += chunk if cut < 0 else chunk[:cut + 1]
        self._local.pos = start + len(out)
        return out

    def __iter__(self):
        while line := self.readline():
            yield line

    def close(self) -> None:
        """Nothing to do: the map belongs to the compound file, the view goes with this object."""


class MappedFile(structfile.BufferFile):
    """A BufferFile whose reads go to the buffer itself rather than to a BytesIO copy."""

    def __init__(self, buf, name=None, onclose=None):
        self._buf = buf
        self._name = name
        self.file = _ViewReader(buf)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    def subset(self, position, length, name=None):
        """A file over part of this one: a view of the same map, not a copy."""
        view = memoryview(self._buf)[position:position + length]
        return MappedFile(view, name=name or self._name)

    def close(self):
        """Unmaps the file once no file carved out of it still reads it (else the GC does)."""
        super().close()
        if isinstance(self._buf, mmap.mmap):
            self.file = None
            try:
                self._buf.close()
            except BufferError:   # a subset is still open: the map goes with the last view
                pass


class MappedStorage(FileStorage):
    """Whoosh's FileStorage in a folder, handing out compound segment files mapped."""

    def open_file(self, name, **kwargs):
        """The file as Whoosh's FileStorage opens it; a non-empty compound segment mapped."""
        if not name.endswith(Segment.COMPOUND_EXT) or kwargs:
            return super().open_file(name, **kwargs)
        with open(self._fpath(name), "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:   # mmap refuses empty files
                return super().open_file(name)
            buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        return MappedFile(buf, name=name)
