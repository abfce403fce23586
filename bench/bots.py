"""How many current crawler and automation user agents the tracking's detector catches, and how
many browsers it mistakes for one: the hand-written list it replaced against CrawlerDetect.

    python bench/bots.py

The user agents are in bench/user_agents.py. The old list is kept here, as it was, only to be
measured."""
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.user_agents import AUTOMATED, BROWSERS  # noqa: E402
from portal.tracking.bots import is_automated  # noqa: E402

# portal/tracking/bots.py before it used CrawlerDetect (self-declared robots only).
_OLD = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|archiver|facebookexternalhit|embedly|quora link preview|"
    r"bingpreview|mediapartners-google|adsbot|feedfetcher|ia_archiver|yandex\.com\/bots|baiduspider|"
    r"petalbot|bytespider|semrush|ahrefs|mj12|dotbot|"
    r"pingdom|uptimerobot|statuscake|siteimprove|screaming frog|python-scrapy|scrapy|"
    r"gptbot|ccbot|claudebot|anthropic-ai|perplexitybot|applebot|duckduckbot|exabot|"
    r"seznambot|linkchecker|w3c_validator|validator\.nu|nutch|heritrix",
    re.IGNORECASE,
)


def old(agent):
    return bool(agent) and _OLD.search(agent) is not None


def main():
    print(f"{len(AUTOMATED)} crawler/automation agents, {len(BROWSERS)} browser agents")
    for name, detect in (("hand list (before)", old), ("CrawlerDetect (now)", is_automated)):
        missed = [a for a in AUTOMATED if not detect(a)]
        wrong = [a for a in BROWSERS if detect(a)]
        start = time.perf_counter()
        for n in range(2000):
            detect(BROWSERS[n % len(BROWSERS)] + f" x/{n}")  # uncached: each agent new
        per_call = (time.perf_counter() - start) / 2000 * 1e6
        print(f"{name:22} caught {len(AUTOMATED) - len(missed)}/{len(AUTOMATED)}, "
              f"browsers flagged {len(wrong)}/{len(BROWSERS)}, {per_call:.0f} µs per new agent")
        for agent in missed:
            print(f"    missed: {agent[:90]}")
        for agent in wrong:
            print(f"    browser flagged: {agent[:90]}")


if __name__ == "__main__":
    main()
