"""The ceiling for bench/load.py: the smallest Flask app, served by the same gunicorn config."""
from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    """Answer a fixed small page."""
    return "hello"
