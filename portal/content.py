"""Article files: front matter parsing, markdown rendering with sanitizing, and export.

Markdown is rendered once, when a text is saved (articles, agents' replies), and the HTML is
stored. Rendering some inputs takes time quadratic in their length (20,000 characters of `[a](`
took seconds), so text from a form or a file is rendered in a child process that is stopped
after RENDER_SECONDS (render_bounded): the writer or agent gets an error naming the field."""
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field, asdict

import markdown
import nh3
import yaml

from portal.models import STATUSES

KNOWN_KEYS = ("title", "slug", "locale", "category", "tags", "concept", "status", "summary")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,159}$", re.IGNORECASE)
MAX_BODY = 100_000  # characters of an article's markdown: the longest starter article has about 3,000
MAX_FRONT_MATTER = 20_000
RENDER_SECONDS = 5.0

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


class ArticleFormatError(ValueError):
    """An article file or form that cannot become an article; the message says why."""


class RenderTooSlow(ArticleFormatError):
    """Markdown that took longer than RENDER_SECONDS to render."""


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases: `*name` repeats a node, and a few lines of them
    nested expand to millions of nodes (a 386-byte file took 14 s and 234 MB)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in front matter",
                                              event.start_mark)
        return super().compose_node(parent, index)


@dataclass(frozen=True)
class ArticleData:
    """An article's fields as plain values, independent of the database."""

    title: str
    slug: str
    locale: str
    category: str
    body: str
    tags: tuple = ()
    concept: str | None = None
    status: str = "published"
    summary: str = ""
    extra: dict = field(default_factory=dict)

    def checksum(self):
        """Return a stable hash of every stored field, to tell unchanged imports apart."""
        payload = asdict(self)
        payload["tags"] = list(self.tags)
        raw = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def slugify(text):
    """Turn a title into a URL-safe slug (ASCII, lowercase, hyphens)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:160] or "article"


def split_front_matter(text):
    """Split '---' YAML front matter from the markdown body."""
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        raise ArticleFormatError("missing front matter: the file must start with a '---' line")
    match = re.match(r"^---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?(.*)\Z", text, re.DOTALL | re.MULTILINE)
    if not match:
        raise ArticleFormatError("front matter is not closed by a '---' line")
    if len(match.group(1)) > MAX_FRONT_MATTER:
        raise ArticleFormatError(f"front matter is longer than {MAX_FRONT_MATTER} characters")
    try:
        meta = yaml.load(match.group(1), Loader=_NoAliasLoader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark else ""
        raise ArticleFormatError(f"front matter is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(meta, dict):
        raise ArticleFormatError("front matter must be a mapping of keys to values")
    return meta, match.group(2)


def _text(meta, key, default=""):
    value = meta.get(key, default)
    if value is None:
        return default
    if not isinstance(value, (str, int, float)):
        raise ArticleFormatError(f"'{key}' must be a string")
    return str(value).strip()


def validate(meta, body, locales):
    """Check front-matter values and return an ArticleData; raise ArticleFormatError."""
    title = _text(meta, "title")
    if not title:
        heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
        title = heading.group(1).strip() if heading else ""
    if not title:
        raise ArticleFormatError("'title' is missing (and the body has no '# heading')")
    if len(title) > 300:
        raise ArticleFormatError("'title' is longer than 300 characters")
    slug = _text(meta, "slug") or slugify(title)
    if not SLUG_RE.match(slug):
        raise ArticleFormatError(f"'slug' {slug!r} is not URL-safe (letters, digits, '-' and '_')")
    locale = _text(meta, "locale")
    if locale not in locales:
        raise ArticleFormatError(f"'locale' {locale!r} is not one of {', '.join(locales)}")
    category = slugify(_text(meta, "category") or "general")
    status = _text(meta, "status") or "published"
    if status not in STATUSES:
        raise ArticleFormatError(f"'status' {status!r} is not one of {', '.join(STATUSES)}")
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    if not isinstance(tags, list) or not all(isinstance(t, (str, int, float)) for t in tags):
        raise ArticleFormatError("'tags' must be a list of strings")
    tags = tuple(dict.fromkeys(str(t).strip() for t in tags if str(t).strip()))
    concept = _text(meta, "concept") or None
    if not body.strip():
        raise ArticleFormatError("the body is empty")
    if len(body) > MAX_BODY:
        raise ArticleFormatError(f"the body is longer than {MAX_BODY} characters")
    extra = {k: v for k, v in meta.items() if k not in KNOWN_KEYS}
    # Unknown keys are kept, but only as JSON-safe values so they can be stored and exported.
    extra = json.loads(json.dumps(extra, default=str))
    return ArticleData(
        title=title, slug=slug, locale=locale, category=category, body=body.strip() + "\n",
        tags=tags, concept=concept, status=status, summary=_text(meta, "summary"), extra=extra,
    )


def parse_article(text, locales):
    """Parse a whole article file into ArticleData; raise ArticleFormatError."""
    meta, body = split_front_matter(text)
    return validate(meta, body, locales)


def sanitize(html):
    """Clean HTML with an allow-list so that no script, handler or javascript: URL survives."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(body):
    """Render markdown to sanitized HTML and a sanitized table of contents (no time bound: for
    text already checked, or in the child process of render_bounded)."""
    md = markdown.Markdown(
        extensions=["tables", "fenced_code", "sane_lists", "toc", "attr_list", "def_list"],
        extension_configs={"toc": {"permalink": False, "toc_depth": "2-4"}},
        output_format="html",
    )
    html = md.convert(body)
    toc = md.toc if getattr(md, "toc_tokens", None) else ""
    return sanitize(html), sanitize(toc)


def render_bounded(body, seconds=None):
    """render_markdown() in a child process stopped after `seconds` (default RENDER_SECONDS;
    RenderTooSlow); short texts, which cannot take long, are rendered here."""
    from portal.mdrender import RenderTimeout

    seconds = RENDER_SECONDS if seconds is None else seconds
    if len(body or "") < 2_000:
        return render_markdown(body or "")
    global _RENDERER
    if _RENDERER is None:
        from portal.mdrender import Renderer

        _RENDERER = Renderer()
    try:
        return _RENDERER.render(body, seconds)
    except RenderTimeout:
        raise RenderTooSlow(f"the markdown takes more than {seconds:g} s to render; "
                            "simplify its links and emphasis") from None
    except ValueError as exc:
        raise ArticleFormatError(f"the markdown cannot be rendered ({exc})") from None


_RENDERER = None  # made on first use, per process


def dump_article(data):
    """Write ArticleData back to the file format that parse_article reads."""
    meta = {"title": data.title, "slug": data.slug, "locale": data.locale, "category": data.category,
            "tags": list(data.tags)}
    if data.concept:
        meta["concept"] = data.concept
    meta["status"] = data.status
    if data.summary:
        meta["summary"] = data.summary
    meta.update(data.extra or {})
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n{data.body}"
