"""The checker itself: it must catch what the XSS corpus tries, or the corpus test proves nothing."""
import markdown
import pytest

from tests.security.htmlcheck import executable_parts
from tests.security.payloads import FILTER_BYPASS, PAYLOADS


def _unsafe_contexts(payload):
    """The payload dropped unescaped into the places a careless template or renderer would put it."""
    yield f"<div>{payload}</div>"
    yield f'<input value="{payload}">'
    yield f"<input value='{payload}'>"
    yield markdown.markdown(payload)


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if "alert" in p and p not in FILTER_BYPASS])
def test_every_raw_payload_is_caught_somewhere(payload):
    assert any(executable_parts(html) for html in _unsafe_contexts(payload)), payload


def test_escaped_payloads_pass():
    from markupsafe import escape

    for payload in PAYLOADS:
        html = f"<p title='{escape(payload)}'>{escape(payload)}</p><a href='/articles/x?q={escape(payload)}'>x</a>"
        assert executable_parts(html) == [], payload


def test_own_static_scripts_pass():
    assert executable_parts('<script src="/static/js/search.js" defer></script>') == []
    assert executable_parts("<script>var x = 1;</script>")
