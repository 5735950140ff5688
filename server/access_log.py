"""gunicorn's access log with control characters escaped.

A path may carry ``%0a`` (or any control character) that gunicorn writes into the log as it is
decoded, so a client could forge log lines.  Every text atom (path, headers, user agent...) has
its control characters written as ``\\xNN`` instead.  Set in gunicorn.conf.py (``logger_class``).
"""
import re

from gunicorn.glogging import Logger

CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def escape(text):
    return CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


class EscapingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        return {key: escape(value) if isinstance(value, str) else value
                for key, value in super().atoms(resp, req, environ, request_time).items()}
