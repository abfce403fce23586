"""Find anything in an HTML page that a browser could execute: the XSS tests' assertion."""
import re
from html.parser import HTMLParser

# Elements that run code or load active content; none may come out of user data.
ACTIVE = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal", "import",
          "animate", "set", "handler", "listener", "noscript", "math", "xss"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
                  "codebase", "cite", "lowsrc", "dynsrc", "ping", "srcset"}
_SCHEME = re.compile(r"(java|vb|live)script:|data:text/html|data:image/svg", re.I)
_JUNK = re.compile(r"[\x00-\x20\x7f]+")


def _bad_url(value):
    # Browsers drop control characters and spaces before the scheme: "\x0e javascript:" runs.
    return bool(_SCHEME.match(_JUNK.sub("", value or "")))


class _Scanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)
        if tag == "script":
            self._in_script = True

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]!r}")

    def _check(self, tag, attrs):
        attrs = [(name.lower(), value or "") for name, value in attrs]
        names = dict(attrs)
        if tag == "script" and not names.get("src", "").startswith("/static/"):
            self.problems.append(f"<script> not from /static/: {attrs}")
        if tag in ACTIVE:
            self.problems.append(f"active element <{tag}> {attrs}")
        if tag == "meta" and names.get("http-equiv", "").lower() == "refresh":
            self.problems.append(f"meta refresh {attrs}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler <{tag} {name}={value[:40]!r}>")
            elif name in URL_ATTRIBUTES and _bad_url(value):
                self.problems.append(f"script URL <{tag} {name}={value[:40]!r}>")
            elif name == "srcdoc":
                self.problems.append(f"srcdoc <{tag}>")
            elif name == "style" and re.search(r"expression\s*\(|javascript:", value, re.I):
                self.problems.append(f"style with code <{tag} style={value[:40]!r}>")


def executable_parts(html):
    """Return a list describing every executable construct in the HTML (empty when safe)."""
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.problems


def assert_inert(html, where=""):
    """Fail with the list of problems when the HTML could run script."""
    problems = executable_parts(html)
    assert not problems, f"{where}: {problems}"
