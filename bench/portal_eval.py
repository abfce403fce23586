"""Scores a running portal with shared/eval/score.py, for each shared set and search mode.

    python -m bench.portal_eval                          # glossary, banking77, squad-it
    python -m bench.portal_eval --set glossary --encoder e5-small-nano --port 5077

For each set: a fresh SPORTELLO_HOME, `sportello init`, `sportello import CORPUS`,
`sportello serve` in the background, then score.py over HTTP once per mode. The embedding
cache of bench/quality.py (--cache-dir) is copied into the new home first, so passages that
were embedded before are not embedded again (the vectors are keyed by encoder and text).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.quality import sets, shared_eval  # noqa: E402


def _wait(url: str, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"portal did not answer at {url}")


def run(name, corpus, queries, encoder, modes, port, cache_dir, sportello) -> None:
    """Imports one set into a fresh portal, serves it and prints score.py's lines per mode."""
    home = pathlib.Path(tempfile.mkdtemp(prefix=f"sportello-eval-{name}-"))
    env = dict(os.environ, SPORTELLO_HOME=str(home), SPORTELLO_EMBEDDING_MODEL=encoder,
               SPORTELLO_RATE_LIMITS="off", HF_HUB_OFFLINE="1")
    cache = pathlib.Path(cache_dir)
    if cache.is_dir():
        shutil.copytree(cache, home / "search" / "embedding-cache", dirs_exist_ok=True)
    subprocess.run([sportello, "init"], env=env, check=True, capture_output=True)
    t = time.time()
    imp = subprocess.run([sportello, "import", str(corpus)], env=env, capture_output=True, text=True)
    print(f"== {name}: import {imp.stdout.strip().splitlines()[-1] if imp.stdout.strip() else ''} "
          f"(exit {imp.returncode}, {time.time() - t:.0f}s)", flush=True)
    server = subprocess.Popen([sportello, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(f"http://127.0.0.1:{port}/api/search?q=warmup")
        for mode in modes:
            out = subprocess.run([sys.executable, str(shared_eval() / "score.py"), str(queries), "--corpus", str(corpus),
                                  "--url", f"http://127.0.0.1:{port}", "--mode", mode],
                                 capture_output=True, text=True)
            lines = out.stdout.strip().splitlines() or [out.stderr.strip()[-300:]]
            print(f"{name:<10} {mode:<9} " + " | ".join(lines[-2:]), flush=True)
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(home, ignore_errors=True)


def main(argv=None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", action="append", dest="sets")
    ap.add_argument("--modes", default="keyword,semantic,hybrid")
    ap.add_argument("--encoder", default=os.environ.get("SPORTELLO_EMBEDDING_MODEL", "minilm"))
    ap.add_argument("--port", type=int, default=5077)
    ap.add_argument("--cache-dir", default=str(ROOT / ".cache" / "embeddings"))
    ap.add_argument("--sportello", default=str(pathlib.Path(sys.executable).with_name("sportello")))
    a = ap.parse_args(argv)
    if shared_eval() is None:
        print("shared/eval not found (set SPORTELLO_SHARED_EVAL)")
        return 1
    available = sets()
    for name in a.sets or ["glossary", "banking77", "squad-it"]:
        run(name, *available[name], a.encoder, a.modes.split(","), a.port, a.cache_dir, a.sportello)
    return 0


if __name__ == "__main__":
    sys.exit(main())
