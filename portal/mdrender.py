"""Markdown rendering with a time bound: a child process (python -m portal.mdrender) renders one
JSON line at a time; a render that runs over its time gets the child killed and replaced.

Rendering some inputs takes time quadratic in their length (20,000 characters of `[a](` took
seconds), and a thread cannot be stopped, a process can. A child started from the command line
(not multiprocessing) needs nothing from the parent's __main__ and holds no copy of its threads."""
import json
import os
import select
import subprocess
import sys
import threading
import time


STARTUP_SECONDS = 60.0


class RenderTimeout(Exception):
    """The render took longer than its time."""


class Renderer:
    """One child per process of the portal; renders take turns."""

    def __init__(self):
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self):
        self._lock, self._proc, self._buffer = threading.Lock(), None, b""

    def render(self, body: str, seconds: float) -> tuple[str, str]:
        """(html, toc) of the body, or RenderTimeout; ValueError when the child could not render it."""
        with self._lock:
            proc = self._child()
            try:
                proc.stdin.write(json.dumps({"body": body}).encode() + b"\n")
                proc.stdin.flush()
                line = self._line(proc, time.monotonic() + seconds)
            except (BrokenPipeError, OSError):
                line = None
            if line is None:
                self._stop()
                raise RenderTimeout(seconds)
        reply = json.loads(line)
        if "error" in reply:
            raise ValueError(reply["error"])
        return reply["html"], reply["toc"]

    def _child(self):
        """The running child; a new one is waited for until it says it is ready, so that its start
        never counts against a render's time."""
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen([sys.executable, "-m", "portal.mdrender"], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE)
            self._buffer = b""
            if self._line(self._proc, time.monotonic() + STARTUP_SECONDS) is None:
                self._stop()
                raise RenderTimeout(STARTUP_SECONDS)
        return self._proc

    def _line(self, proc, deadline):
        """The child's next line, or None when the deadline passes first (or the child died)."""
        fd = proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _stop(self):
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
        self._proc, self._buffer = None, b""


def main():
    """The child: one JSON request per line in, one JSON answer per line out, until stdin closes."""
    from portal.content import render_markdown

    sys.stdout.buffer.write(b'{"ready": true}\n')
    sys.stdout.buffer.flush()
    for raw in sys.stdin.buffer:
        try:
            html, toc = render_markdown(json.loads(raw)["body"])
            answer = {"html": html, "toc": toc}
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which names the field
            answer = {"error": f"{exc.__class__.__name__}: {exc}"}
        sys.stdout.buffer.write(json.dumps(answer).encode() + b"\n")
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
