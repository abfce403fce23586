"""gunicorn tuning that lives in code rather than in settings (applied from gunicorn.conf.py)."""


def send_whole_responses() -> None:
    """Make gunicorn send a response's headers and body in one send() when the body comes whole.

    gunicorn writes the status line and headers with one send() and the body with another. On
    a busy server each send is a packet and a wake-up of the reader; under bench/load.py the
    header send alone was a seventh of the workers' samples. Every page and JSON answer of the
    portal is one piece of bytes with a Content-Length, so those go out in one send; anything
    else (chunked, streamed, HEAD, files) takes gunicorn's own path unchanged."""
    from gunicorn.http import wsgi

    response = wsgi.Response
    if getattr(response, "sportello_whole", False):
        return
    write = response.write

    def write_whole(self, data):
        if (self.headers_sent or self.chunked or not isinstance(data, bytes)
                or self.response_length != len(data) or getattr(self, "_omits_body", False)):
            return write(self, data)
        head = self.default_headers()
        head.extend("%s: %s\r\n" % (name, value) for name, value in self.headers)
        self.sock.sendall(("%s\r\n" % "".join(head)).encode("latin-1") + data)
        self.headers_sent = True
        self.sent += len(data)

    response.write = write_whole
    response.sportello_whole = True
