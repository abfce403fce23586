"""Markdown rendering and sanitizing."""
import pytest

from portal.content import ArticleFormatError, dump_article, parse_article, render_markdown, slugify

PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "<svg onload=alert(1)><circle/></svg>",
    '<iframe src="https://evil.example"></iframe>',
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<<script>script>alert(1)<</script>/script>",
    '<p onclick="alert(1)">broken <b>html',
    '<object data="x.swf"></object><embed src="x">',
    '<form action="https://evil.example"><input name=a></form>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_sanitizer_strips_script(payload):
    html, _ = render_markdown(f"# Title\n\n{payload}\n")
    lowered = html.lower()
    for bad in ("<script", "onerror", "onload", "onclick", "javascript:", "<iframe", "<svg", "<object",
                "<embed", "<form", "style=", "data:text"):
        assert bad not in lowered, (payload, html)


def test_tables_code_anchors_and_toc():
    html, toc = render_markdown("# T\n\n## Come si misura\n\n|a|b|\n|-|-|\n|1|2|\n\n```python\nx = 1\n```\n")
    assert "<table>" in html and '<code class="language-python">' in html
    assert 'id="come-si-misura"' in html
    assert 'href="#come-si-misura"' in toc


def test_slugify_folds_accents():
    assert slugify("Perché il tempo di prima risposta?") == "perche-il-tempo-di-prima-risposta"
    assert slugify("Cunoștințe și țări") == "cunostinte-si-tari"


def test_round_trip_dump_parse():
    text = "---\ntitle: \"Tag: sì\"\nslug: it-x\nlocale: it\ncategory: faq\ntags: [a, b]\nconcept: x\nstatus: draft\nsummary: \"Riassunto\"\nowner: me\n---\n# Tag\n\nCorpo.\n"
    data = parse_article(text, ("it", "ro", "en"))
    again = parse_article(dump_article(data), ("it", "ro", "en"))
    assert again == data and again.extra == {"owner": "me"}


def test_bad_status_and_slug():
    with pytest.raises(ArticleFormatError, match="status"):
        parse_article("---\ntitle: a\nlocale: it\nstatus: live\n---\nx\n", ("it",))
    with pytest.raises(ArticleFormatError, match="slug"):
        parse_article("---\ntitle: a\nlocale: it\nslug: 'a b/c'\n---\nx\n", ("it",))
