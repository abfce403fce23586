"""Scripted clients, recognised by their user agent: crawlers, link previewers, uptime monitors,
HTTP libraries (curl, python-requests, Go, Java...) and headless browsers.

The list is CrawlerDetect's (a maintained port of the PHP project's patterns), not ours;
bench/bots.py measures it against current user agents of both kinds. A request without a user
agent counts as scripted too: every browser sends one. TRUSTED_AGENTS (a regular expression)
names agents to count as visitors all the same, e.g. the headless browser of the browser tests;
anyone can send any user agent, so set it only where that traffic is yours."""
import re
from functools import lru_cache

from crawlerdetect import CrawlerDetect

# Patterns are searched in the first part only: real agents are far shorter, and the regular
# expression's time grows with the length.
_CHECKED = 1000


def is_automated(user_agent, trusted=None):
    """True when the user agent is a crawler, a script or a headless browser (or missing);
    `trusted` (a compiled pattern or None) exempts the agents it matches."""
    agent = (user_agent or "").strip()[:_CHECKED]
    if not agent:
        return True
    if trusted is not None and trusted.search(agent):
        return False
    return _detected(agent)


@lru_cache(maxsize=4096)  # a few browser versions make most traffic: match each once
def _detected(agent):
    # A detector per call (misses only): CrawlerDetect keeps the last match on the instance.
    return CrawlerDetect(user_agent=agent).is_crawler()


@lru_cache(maxsize=16)
def trusted_pattern(setting):
    """The compiled TRUSTED_AGENTS setting, or None when it is empty."""
    setting = (setting or "").strip()
    return re.compile(setting) if setting else None
