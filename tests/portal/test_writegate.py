"""The SQLite write gate: writers from different processes take turns without SQLite's polling,
a transaction gives the gate back however it ends, and a dead holder never leaves it taken."""
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from portal.db import make_engine
from portal.writegate import WriteGate, connection_class

HOLDER = """
import sqlite3, sys, time
sys.path.insert(0, {root!r})
from portal.writegate import WriteGate, connection_class
db = sqlite3.connect({db!r}, factory=connection_class(WriteGate({gate!r})), timeout=0.05)
db.execute("INSERT INTO log VALUES ('holder')")
print("holding", flush=True)
time.sleep({hold})
db.commit()
"""


def _connect(path, gate=None, timeout=0.05):
    """A gated connection; a short busy timeout, so that only the gate can make a writer wait."""
    gate = gate or WriteGate(str(path) + ".gate")
    return sqlite3.connect(path, factory=connection_class(gate), timeout=timeout, check_same_thread=False)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "data.db"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE log (who TEXT)")
    setup.commit()
    setup.close()
    return path


def _rows(path):
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT who FROM log")]


def _holder(db, hold):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = HOLDER.format(root=root, db=str(db), gate=str(db) + ".gate", hold=hold)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_a_writer_waits_for_another_process_then_writes(db):
    proc = _holder(db, hold=0.6)
    start = time.monotonic()
    conn = _connect(db)  # SQLite alone would give up after 50 ms: "database is locked"
    conn.execute("INSERT INTO log VALUES ('me')")
    waited = time.monotonic() - start
    conn.commit()
    assert proc.wait(10) == 0
    assert waited > 0.3 and _rows(db) == ["holder", "me"]


def test_a_killed_holder_leaves_the_gate_free(db):
    proc = _holder(db, hold=60)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    conn = _connect(db, timeout=5)
    conn.execute("INSERT INTO log VALUES ('me')")
    conn.commit()
    assert _rows(db) == ["me"]  # the killed holder's write was never committed


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_every_end_of_a_transaction_gives_the_gate_back(db, end):
    gate = WriteGate(str(db) + ".gate")
    first, second = _connect(db, gate), _connect(db, gate)
    first.execute("INSERT INTO log VALUES ('first')")
    done = threading.Event()

    def write():
        second.execute("INSERT INTO log VALUES ('second')")
        second.commit()
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert not done.wait(0.2)  # queued on the gate, not failing on SQLite's lock
    getattr(first, end)()
    assert done.wait(5)
    thread.join()
    assert _rows(db) == (["first", "second"] if end == "commit" else ["second"])


def test_reads_and_autocommit_writes_do_not_keep_the_gate(db):
    gate = WriteGate(str(db) + ".gate")
    reader = _connect(db, gate)
    reader.execute("SELECT count(*) FROM log").fetchall()
    auto = _connect(db, gate)
    auto.isolation_level = None
    auto.execute("INSERT INTO log VALUES ('auto')")
    failing = _connect(db, gate)
    with pytest.raises(sqlite3.OperationalError):
        failing.execute("INSERT INTO no_such_table VALUES (1)")
    other = _connect(db, WriteGate(str(db) + ".gate"))  # another process, in effect
    other.execute("INSERT INTO log VALUES ('other')")
    other.commit()
    assert _rows(db) == ["auto", "other"]


def test_a_second_connection_of_the_same_thread_does_not_wait_on_itself(db):
    gate = WriteGate(str(db) + ".gate")
    first, second = _connect(db, gate), _connect(db, gate)
    first.execute("INSERT INTO log VALUES ('first')")
    start = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):  # SQLite's answer, as without the gate
        second.execute("INSERT INTO log VALUES ('second')")
    assert time.monotonic() - start < 5
    first.commit()


def test_an_unusable_gate_file_leaves_writes_to_sqlite(db, tmp_path, caplog):
    conn = _connect(db, WriteGate(str(tmp_path / "missing" / "data.db.gate")))
    conn.execute("INSERT INTO log VALUES ('me')")
    conn.commit()
    assert _rows(db) == ["me"] and "cannot open" in caplog.text


def test_file_databases_get_the_gate_and_memory_ones_do_not(tmp_path):
    gated = make_engine(f"sqlite:///{tmp_path / 'a.db'}").raw_connection()
    plain = make_engine("sqlite://").raw_connection()
    try:
        assert type(gated.driver_connection).__name__ == "Connection"
        assert type(gated.driver_connection) is not sqlite3.Connection
        assert type(plain.driver_connection) is sqlite3.Connection
    finally:
        gated.close()
        plain.close()



def test_a_connection_dropped_without_close_gives_the_gate_back(db):
    import gc

    gate = WriteGate(str(db) + ".gate")
    dropped = _connect(db, gate)
    dropped.execute("INSERT INTO log VALUES ('dropped')")
    del dropped
    gc.collect()
    other = _connect(db, WriteGate(str(db) + ".gate"), timeout=1)
    other.execute("INSERT INTO log VALUES ('other')")
    other.commit()
    assert _rows(db) == ["other"]
