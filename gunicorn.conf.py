"""gunicorn defaults: ``gunicorn wsgi:app`` picks this file up from the project root.

gthread workers: measured on this machine, two clients uploading at 2 KB/s blocked every
request of two sync workers, while gthread workers kept answering in about 10 ms.
Every value can be overridden with GUNICORN_CMD_ARGS or on the command line.
"""
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# Uploads from phones on weak networks are slow; exports stream for a while.
timeout = 120
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never take a worker down.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
# Never log the query string: signed photo links carry their signature there.
access_log_format = '%(h)s [%({x-request-id}o)s] "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)ss "%(a)s"'
# ...and never a raw control character: a %0a in a path would forge a log line.
logger_class = "server.gunicorn_output.EscapingLogger"


def post_fork(server, worker):
    """Big short-lived blobs go back to the system when freed (server/malloc.py: 15 MB less at peak)."""
    from server.malloc import fix_mmap_threshold

    fix_mmap_threshold()


def on_starting(server):
    """gunicorn's own error answers (414, 431...) in the API's error shape, not HTML."""
    from server.gunicorn_output import install

    install()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
