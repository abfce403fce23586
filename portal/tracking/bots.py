"""Known bots and crawlers, recognised by their user agent.

Only self-declared robots are matched. Scripted HTTP clients (curl, wget, python-requests,
httpx) and headless browsers are not: integrations, replayed journeys and browser tests use
them, and they count as visitors."""
import re
from functools import lru_cache

# "bot" must end a word so that phone models such as "CUBOT_X19" do not match.
_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|archiver|facebookexternalhit|embedly|quora link preview|"
    r"bingpreview|mediapartners-google|adsbot|feedfetcher|ia_archiver|yandex\.com\/bots|baiduspider|"
    r"petalbot|bytespider|semrush|ahrefs|mj12|dotbot|"
    r"pingdom|uptimerobot|statuscake|siteimprove|screaming frog|python-scrapy|scrapy|"
    r"gptbot|ccbot|claudebot|anthropic-ai|perplexitybot|applebot|duckduckbot|exabot|"
    r"seznambot|linkchecker|w3c_validator|validator\.nu|nutch|heritrix",
    re.IGNORECASE,
)


def is_bot(user_agent):
    """True when the user agent belongs to a known bot or crawler."""
    if not user_agent:
        return False
    return _known(user_agent) if len(user_agent) <= 512 else _BOT.search(user_agent) is not None


@lru_cache(maxsize=2048)  # a few browser versions make most traffic: match each once (at most 1 MB)
def _known(user_agent):
    return _BOT.search(user_agent) is not None
