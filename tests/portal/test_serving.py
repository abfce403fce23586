"""gunicorn sends a whole small response in one send(), and anything else its own way."""
import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi

from portal.serving import send_whole_responses


class _Socket:
    def __init__(self):
        self.sends = []

    def sendall(self, data):
        self.sends.append(bytes(data))


class _Request:
    version, uri, path, query, fragment, scheme = (1, 1), "/", "/", "", "", "http"
    headers, proxy_protocol_info = [], None

    def __init__(self, method="GET"):
        self.method = method

    def should_close(self):
        return False


def _respond(headers, pieces, method="GET"):
    send_whole_responses()
    sock = _Socket()
    resp = wsgi.Response(_Request(method), sock, Config())
    resp.start_response("200 OK", headers)
    for piece in pieces:
        resp.write(piece)
    resp.close()
    return sock.sends


def test_a_whole_body_goes_out_with_its_headers():
    (sent,) = _respond([("Content-Type", "text/plain"), ("Content-Length", "5")], [b"hello"])
    assert sent.startswith(b"HTTP/1.1 200 OK\r\n") and sent.endswith(b"\r\nContent-Length: 5\r\n\r\nhello")


@pytest.mark.parametrize("headers, pieces", [
    ([("Content-Length", "10")], [b"hello", b"world"]),   # a body in two pieces
    ([("Content-Type", "text/plain")], [b"hello"]),       # no length: chunked
])
def test_other_bodies_take_gunicorns_path(headers, pieces):
    sends = _respond(headers, pieces)
    assert len(sends) > 1 and sends[0].endswith(b"\r\n\r\n")
    assert b"".join(sends).count(b"hello") == 1


def test_a_head_request_gets_headers_only():
    (sent,) = _respond([("Content-Length", "5")], [b"hello"], method="HEAD")
    assert sent.endswith(b"\r\n\r\n") and b"hello" not in sent


def test_patching_twice_changes_nothing():
    send_whole_responses()
    write = wsgi.Response.write
    send_whole_responses()
    assert wsgi.Response.write is write
