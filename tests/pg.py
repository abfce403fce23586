"""A throwaway PostgreSQL server for the test suite (initdb + pg_ctl in a temp folder)."""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bin_dir():
    """Return the folder holding initdb and pg_ctl, or None."""
    # Debian keeps the real server binaries here; the ones on PATH may be wrappers.
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if candidates:
        return candidates[0]
    found = shutil.which("initdb")
    return str(Path(found).parent) if found else None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """Start and stop a private PostgreSQL cluster owned by a non-root user."""

    def __init__(self):
        self.bin = find_bin_dir()
        if not self.bin:
            raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
        self.dir = Path(tempfile.mkdtemp(prefix="sportello-pg-"))
        self.port = _free_port()
        self.prefix = []
        if os.geteuid() == 0:
            # initdb refuses to run as root: run the server as the packaged 'postgres' user.
            shutil.chown(self.dir, user="postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args):
        subprocess.run(self.prefix + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, cwd=self.dir)

    def start(self):
        """Create the cluster and start the server on a free local port; return its URL."""
        data = self.dir / "data"
        self._run(f"{self.bin}/initdb", "-D", str(data), "-U", "sportello", "-A", "trust",
                  "-E", "UTF8", "--locale=C.UTF-8")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run(f"{self.bin}/pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start")
        try:
            self._run(f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "sportello", "sportello")
        except subprocess.CalledProcessError:
            self.stop()
            raise
        return f"postgresql+psycopg://sportello@127.0.0.1:{self.port}/sportello"

    def stop(self):
        """Stop the server and delete its folder."""
        try:
            self._run(f"{self.bin}/pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def reset_database(app):
    """Drop every table so that the next test migrates a fresh schema."""
    from sqlalchemy import text

    engine = app.extensions["sportello.engine"]
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
