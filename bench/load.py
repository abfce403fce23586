"""Load test: gunicorn on 127.0.0.1 with a fresh home and the starter articles, then 50 concurrent
clients on home, article, search and ticket creation; a bare Flask "hello" served by the same
gunicorn config is measured in the same run as the ceiling.

    .venv/bin/python bench/load.py [--duration 60] [--clients 50] [--workers N] [--model minilm]

Prints requests/s, median and p95 per route and the error count. Targets: zero errors, search
p95 <= 150 ms, article throughput >= 40% of hello's. Exit status 1 when a target is missed."""
import argparse
import asyncio
import json
import random
import runpy
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote_plus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers import ROOT, Server, home_env, prepare_home  # noqa: E402

SHORT_QUERIES = ["reset password", "first reply time", "tempo di prima risposta", "how do I open a ticket",
                 "self-service", "timp de rezolvare", "SLA", "cambiare lingua", "lost link", "rate support",
                 "net promoter score", "escalation", "knowledge base", "customer satisfaction", "backlog"]
SLICES = 3  # turns of the ceiling and the article page, each solo/SLICES seconds
MIX = [("home", 20), ("article", 35), ("search", 30), ("api_search", 10), ("ticket", 5)]


def load_queries():
    """A few hundred varied queries, so that no cache can make search look cheap: the short ones
    above, the starter quality set's questions, and every article title in lower case."""
    queries = list(SHORT_QUERIES)
    for line in (ROOT / "tests" / "quality" / "starter-queries.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            queries.append(line.split("\t")[2])
    for path in sorted((ROOT / "articles").rglob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            if line.startswith("title:"):
                queries.append(line.split(":", 1)[1].strip().strip("\"'").lower())
                break
            if line.startswith("---"):
                break
    return list(dict.fromkeys(q for q in queries if q))


QUERIES = load_queries()


class Stats:
    """Latencies and errors per route."""

    def __init__(self):
        self.latency, self.errors, self.samples = {}, {}, {}
        self.novelty = {}   # search latencies split by whether the query was asked before

    def add(self, route, seconds, ok, detail=""):
        self.latency.setdefault(route, []).append(seconds)
        if not ok:
            self.errors[route] = self.errors.get(route, 0) + 1
            self.samples.setdefault(route, detail)


async def _read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    if "chunked" in ",".join(headers.get("transfer-encoding", [])):
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        body = await reader.readexactly(int(headers.get("content-length", ["0"])[0]))
    return status, headers, body


class Client:
    """One keep-alive HTTP/1.1 connection that behaves as one visitor (its cookies kept)."""

    def __init__(self, port):
        self.port, self.reader, self.writer, self.cookies = port, None, None, {}

    async def request(self, method, path, body=None):
        for attempt in (1, 2):  # a keep-alive connection the server closed is reopened once
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            data = json.dumps(body).encode() if body is not None else b""
            head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: sportello-load/1\r\n"
            if self.cookies:
                head += "Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()) + "\r\n"
            if body is not None:
                head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            try:
                self.writer.write(head.encode() + b"\r\n" + data)
                await self.writer.drain()
                status, headers, payload = await _read_response(self.reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
                continue
            for cookie in headers.get("set-cookie", []):  # kept and sent back, as a browser does
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
            if "close" in ",".join(headers.get("connection", [])).lower():
                self.close()
            return status, payload

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _target(route, slugs, rng):
    """Return (method, path, body, expected status) for one request of this route."""
    if route == "hello":
        return "GET", "/hello", None, 200
    if route == "home":
        return "GET", "/", None, 200
    if route == "article":
        return "GET", f"/articles/{rng.choice(slugs)}", None, 200
    if route == "search":
        return "GET", "/search?q=" + quote_plus(rng.choice(QUERIES)), None, 200
    if route == "api_search":
        return "GET", "/api/search?q=" + quote_plus(rng.choice(QUERIES)), None, 200
    body = {"email": f"load{rng.randrange(10**6)}@example.com", "subject": "Load test ticket",
            "body": "Created by bench/load.py to measure ticket creation.", "query": rng.choice(QUERIES)}
    return "POST", "/api/tickets", body, 201


async def _run(port, routes, weights, clients, duration, slugs, stats, think=0.0, seen=None):
    deadline = time.monotonic() + duration
    seen = set() if seen is None else seen

    async def worker(n):
        rng, client = random.Random(n), Client(port)
        try:
            while time.monotonic() < deadline:
                route = rng.choices(routes, weights)[0]
                method, path, body, expected = _target(route, slugs, rng)
                start = time.perf_counter()
                try:
                    async with asyncio.timeout(30):  # no task per request, unlike wait_for()
                        status, payload = await client.request(method, path, body)
                    ok, detail = status == expected, f"{status} on {path}: {payload[:200]!r}"
                except Exception as exc:  # a timeout or a reset is an error like a 500
                    client.close()
                    ok, detail = False, f"{type(exc).__name__} on {path}"
                elapsed = time.perf_counter() - start
                stats.add(route, elapsed, ok, detail)
                if route in ("search", "api_search"):
                    # a first-time query is encoded and ranked; a repeat comes from the caches
                    kind = "first time" if path not in seen else "repeat"
                    seen.add(path)
                    stats.novelty.setdefault(kind, []).append(elapsed)
                if think:  # a person reading the page before the next click
                    await asyncio.sleep(rng.expovariate(1 / think))
        finally:
            client.close()

    started = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    return time.monotonic() - started


def measure(port, routes, weights, clients, duration, slugs, think=0.0, seen=None, stats=None):
    """Drive the server for duration seconds; return (Stats, elapsed seconds). `seen` holds the
    search paths asked so far (shared between runs against one server); pass `stats` to add to it."""
    stats = Stats() if stats is None else stats
    elapsed = asyncio.run(_run(port, routes, weights, clients, duration, slugs, stats, think, seen))
    return stats, elapsed


def report(title, stats, elapsed):
    """Print one table: route, requests, req/s, median and p95 in ms, errors."""
    print(f"\n{title} ({elapsed:.0f} s)")
    print(f"{'route':<12}{'requests':>10}{'req/s':>10}{'median ms':>12}{'p95 ms':>10}{'errors':>8}")
    rows = {}
    for route, values in stats.latency.items():
        values = sorted(values)
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        rows[route] = {"rps": len(values) / elapsed, "median": statistics.median(values) * 1000, "p95": p95 * 1000,
                       "errors": stats.errors.get(route, 0)}
        print(f"{route:<12}{len(values):>10}{rows[route]['rps']:>10.1f}{rows[route]['median']:>12.1f}"
              f"{rows[route]['p95']:>10.1f}{rows[route]['errors']:>8}")
    for route, detail in stats.samples.items():
        print(f"  first error on {route}: {detail}")
    for kind, values in sorted(stats.novelty.items()):
        values = sorted(values)
        print(f"  searches, query {kind + ':':<12}{len(values):>8} requests, median "
              f"{statistics.median(values) * 1000:.1f} ms, p95 "
              f"{values[min(len(values) - 1, int(len(values) * 0.95))] * 1000:.1f} ms")
    return rows


def published_slugs():
    """The slugs of the starter articles (all published)."""
    slugs = []
    for path in sorted((ROOT / "articles").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines()[1:]:
            if line.startswith("slug:"):
                slugs.append(line.split(":", 1)[1].split("#")[0].strip().strip("\"'"))
                break
            if line.startswith("---"):
                break
    return slugs


def main(argv=None):
    """Run the load test and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of the mixed run (default 60)")
    parser.add_argument("--solo", type=float, default=None, help="seconds of each solo run (default duration/4)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--model", default=None, help="SPORTELLO_EMBEDDING_MODEL (default: the portal's)")
    parser.add_argument("--home", default=None, help="a home folder to reuse (prepared on first use)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a client waits between requests in the mixed run (default 0: "
                             "back to back, which measures the ceiling; latency then grows with the queue)")
    args = parser.parse_args(argv)
    solo = args.solo or max(5.0, args.duration / 4)
    workers = args.workers or runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"]
    with tempfile.TemporaryDirectory(prefix="sportello-load-") as tmp:
        home = Path(args.home or Path(tmp) / "home")
        extra = {} if args.model is None else {"SPORTELLO_EMBEDDING_MODEL": args.model}
        env = home_env(home, **extra)
        if args.model is None:
            env.pop("SPORTELLO_EMBEDDING_MODEL")
            import os

            if os.environ.get("SPORTELLO_EMBEDDING_MODEL"):
                env["SPORTELLO_EMBEDDING_MODEL"] = os.environ["SPORTELLO_EMBEDDING_MODEL"]
        if not (home / "sportello.db").exists() or not args.home:
            t0 = time.monotonic()
            prepare_home(env)
            print(f"fresh home {home}: init + import of the starter articles in {time.monotonic() - t0:.0f} s")
        slugs = published_slugs()
        hello_env = {**env, "PYTHONPATH": f"{ROOT / 'bench'}:{env['PYTHONPATH']}"}
        with Server(hello_env, app="hello_app:app", workers=workers, threads=args.threads) as hello, \
                Server(env, workers=workers, threads=args.threads, log=Path(tmp) / "gunicorn.log") as portal:
            seen = set()
            measure(portal.port, [r for r, _ in MIX], [w for _, w in MIX], 4, 3, slugs, seen=seen)  # warm workers
            mixed, mixed_elapsed = measure(portal.port, [r for r, _ in MIX], [w for _, w in MIX], args.clients,
                                           args.duration, slugs, args.think, seen)
            # The ceiling and the article page take turns, so that a change in the machine's speed
            # (a shared VM's can swing by a third within a minute) weighs on both alike.
            hello_stats, article_stats = Stats(), Stats()
            hello_elapsed = article_elapsed = 0.0
            for _ in range(SLICES):
                hello_elapsed += measure(hello.port, ["hello"], [1], args.clients, solo / SLICES, slugs,
                                         stats=hello_stats)[1]
                article_elapsed += measure(portal.port, ["article"], [1], args.clients, solo / SLICES, slugs,
                                           stats=article_stats)[1]
        log = (Path(tmp) / "gunicorn.log").read_text(errors="replace")
        if "Traceback" in log:
            print("\nserver errors (last traceback in the gunicorn log):")
            print(log[log.rindex("Traceback") - 300:][:3000])
        print(f"\n{args.clients} clients, gunicorn {workers} workers x {args.threads} threads, "
              f"model {env.get('SPORTELLO_EMBEDDING_MODEL', '(default)')}, {len(QUERIES)} distinct queries")
        hello_rows = report(f"ceiling: bare Flask hello, alone (in {SLICES} turns with the article page)",
                            hello_stats, hello_elapsed)
        rows = report(f"mixed: home, article, search, ticket creation (think time {args.think:g} s)", mixed,
                      mixed_elapsed)
        article_rows = report(f"article page, alone (in {SLICES} turns with hello)", article_stats,
                              article_elapsed)
    errors = sum(r["errors"] for r in rows.values()) + sum(r["errors"] for r in article_rows.values())
    ratio = article_rows["article"]["rps"] / hello_rows["hello"]["rps"]
    search_p95 = max(rows[r]["p95"] for r in ("search", "api_search") if r in rows)
    checks = [("zero errors", errors == 0, f"{errors} errors"),
              ("search p95 <= 150 ms", search_p95 <= 150, f"{search_p95:.0f} ms"),
              ("article >= 40% of hello", ratio >= 0.40, f"{ratio:.0%} ({article_rows['article']['rps']:.0f} vs "
                                                         f"{hello_rows['hello']['rps']:.0f} req/s)")]
    print()
    for name, ok, value in checks:
        print(f"{'PASS' if ok else 'MISS'}  {name}: {value}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
