"""Real processes for the fault, browser and load runs: a fresh home, the CLI, gunicorn.

Plain helpers with no pytest in them, so that bench/load.py can use them too. Everything
listens on 127.0.0.1 only."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))


def free_port():
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def home_env(home, model="fake", **extra):
    """The environment of a Sportello process on this home folder (offline, limits off)."""
    env = dict(os.environ)
    env.update({
        "SPORTELLO_HOME": str(home),
        "SPORTELLO_EMBEDDING_MODEL": model,
        "SPORTELLO_RATE_LIMITS": "off",
        # Every client of these servers is 127.0.0.1: to the figures, one address in a burst.
        "SPORTELLO_BURST_LIMITS": "off",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        # The repository first: the code under test, whatever the virtualenv holds.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    })
    if os.environ.get("SPORTELLO_TEST_DATABASE_URL"):
        env["SPORTELLO_DATABASE_URL"] = os.environ["SPORTELLO_TEST_DATABASE_URL"]
    env.update({k: str(v) for k, v in extra.items()})
    return env


def sportello(env, *args, check=True, timeout=600, **kwargs):
    """Run a `sportello` command in a child process and return the CompletedProcess."""
    proc = subprocess.run([PYTHON, "-c", "from portal.cli import main; main()", *map(str, args)], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and proc.returncode != 0:
        raise RuntimeError(f"sportello {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return proc


def prepare_home(env, articles=(ROOT / "articles",)):
    """Create the database and indexes and import the starter articles."""
    sportello(env, "init")
    if articles:
        sportello(env, "import", *articles)


def wait_http(url, timeout=60.0, proc=None):
    """Wait until url answers (any status); raise if the process died or time ran out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


class Server:
    """One gunicorn master with its workers, in its own process group (so SIGKILL gets all)."""

    def __init__(self, env, app="portal:create_app()", workers=2, threads=4, port=None, log=None,
                 config=ROOT / "gunicorn.conf.py", extra_args=()):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "SPORTELLO_BIND": f"127.0.0.1:{self.port}", "SPORTELLO_WORKERS": str(workers),
                    "SPORTELLO_THREADS": str(threads), "SPORTELLO_ACCESS_LOG": ""}
        self.args = [GUNICORN, "-c", str(config), *extra_args, app]
        self.log_path = Path(log) if log else None
        self.proc = None

    def start(self, timeout=120.0, ready_path="/"):
        """Start the server and wait until it answers."""
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen(self.args, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        finally:
            if self.log_path:
                out.close()
        wait_http(self.url + ready_path, timeout, self.proc)
        return self

    def kill(self, sig=signal.SIGKILL):
        """Send a signal to the master and every worker at once (SIGKILL: no cleanup at all)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)

    def stop(self):
        """Stop gracefully (SIGTERM), then kill what is left."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
