"""A write gate for SQLite: one writer at a time across the processes of a home, handed over at once.

SQLite lets one connection write at a time. A second writer does not queue: it sleeps in steps
that grow to 100 ms and tries again, so under load a write that would wait 3 ms for the lock
often sleeps 25 ms or more, holding a worker thread all that time, while the lock itself sits
free. Tickets made three such writes each; at 5% of the load test's requests they held about
half of the worker threads.

The gate is an exclusive flock(2) on a file next to the database, taken by a connection just
before the statement that starts its write transaction (the first INSERT, UPDATE, DELETE or
REPLACE) and given back when the transaction ends: commit, rollback or close. A writer that
must wait blocks in the kernel and wakes as soon as the holder lets go. Threads of one process
queue on a thread lock first, because flock is held per open file, not per thread.

How long a writer may wait: one thread per process waits in flock for as long as the holder's
transaction lasts, which a request's session ends (commit, or rollback at teardown and when the
pool takes the connection back); the others wait on the thread lock for `timeout` seconds, then
go on without the gate and meet SQLite's own busy timeout, as they did before the gate.

A process that dies holding the gate loses it with its file descriptors, so a SIGKILL never
leaves it taken. Writes that do not go through a gated connection (a migration's DDL, the sqlite3
shell) still meet SQLite's own lock and busy timeout, as before.
"""
from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading

log = logging.getLogger(__name__)

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")
_REOPEN = threading.Lock()


class WriteGate:
    """The gate of one database file (see the module's docstring)."""

    def __init__(self, path: str, timeout: float = 30.0):
        self.path, self.timeout = path, timeout
        self._threads = threading.Lock()
        self._owner = None
        self._fd, self._pid = None, None

    def acquire(self) -> bool:
        """Wait for the gate; False (go on ungated) when this thread holds it already or it is unusable.

        Give it back with release(): in the same process, since a fork starts the child afresh."""
        if self._pid != os.getpid():
            self._reopen()
        if self._fd is None:
            return False
        me = threading.get_ident()
        if self._owner == me:  # a second connection of the same thread: SQLite decides, as before
            return False
        if not self._threads.acquire(timeout=self.timeout):
            return False
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except OSError:
            self._threads.release()
            log.warning("write gate: cannot lock %s; writes wait on SQLite alone", self.path, exc_info=True)
            return False
        self._owner = me
        return True

    def release(self) -> None:
        """Give the gate back (only after acquire() returned True)."""
        if self._pid != os.getpid():
            return  # taken before a fork: the child has its own gate
        self._owner = None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _reopen(self) -> None:
        # One open file per process: a descriptor inherited through fork would share its lock.
        with _REOPEN:
            if self._pid != os.getpid():
                self._threads, self._owner, self._fd = threading.Lock(), None, None
                self._pid = os.getpid()
                try:
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                except OSError:
                    log.warning("write gate: cannot open %s; writes wait on SQLite alone", self.path, exc_info=True)


def connection_class(gate: WriteGate):
    """A sqlite3.Connection class whose write transactions pass through gate (sqlite3.connect's factory)."""

    class Cursor(sqlite3.Cursor):
        def execute(self, sql, parameters=()):
            self.connection._enter(sql)
            try:
                return super().execute(sql, parameters)
            finally:
                self.connection._leave()

        def executemany(self, sql, seq_of_parameters):
            self.connection._enter(sql)
            try:
                return super().executemany(sql, seq_of_parameters)
            finally:
                self.connection._leave()

    class Connection(sqlite3.Connection):
        _gated = False

        def cursor(self, factory=Cursor):
            return super().cursor(factory)

        def execute(self, sql, parameters=()):
            return self.cursor().execute(sql, parameters)

        def executemany(self, sql, seq_of_parameters):
            return self.cursor().executemany(sql, seq_of_parameters)

        def commit(self):
            try:
                super().commit()
            finally:
                self._leave()

        def rollback(self):
            try:
                super().rollback()
            finally:
                self._leave()

        def close(self):
            try:
                super().close()
            finally:
                self._leave(closed=True)

        def __del__(self):
            # A connection dropped without close() (sqlite3 then closes it quietly) must not
            # take the gate with it.
            self._leave(closed=True)

        def _enter(self, sql) -> None:
            """Take the gate before a statement that opens a write transaction."""
            if not self._gated and not self.in_transaction and sql.lstrip()[:6].upper() in _WRITES:
                self._gated = gate.acquire()

        def _leave(self, closed=False) -> None:
            """Give the gate back once no transaction is open (committed, rolled back, autocommit, failed)."""
            if self._gated and (closed or not self.in_transaction):
                self._gated = False
                gate.release()

    return Connection
