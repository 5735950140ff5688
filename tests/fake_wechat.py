"""A small fake of WeChat's API on 127.0.0.1, for tests and local development.

    python -m tests.fake_wechat --port 9100     # then WECHAT_API_BASE=http://127.0.0.1:9100

``/sns/jscode2session`` answers by the code it is given:
  ok-<openid>        {"openid": <openid>, "session_key": ...}
  union-<openid>     the same with a unionid
  bad / used         errcode 40029 / 40163
  blocked            errcode 40226
  busy / limited     errcode -1 / 45011
  slow               answers after 8 seconds (longer than our timeout)
  garbage            a body that is not JSON
  error500           HTTP 500
  list               a JSON list instead of an object

``POST /cgi-bin/stable_token`` gives ``token-<n>`` for 7200 s: the same token to every caller until
``force_refresh`` (or :meth:`FakeWeChat.invalidate_tokens`, after which the old one answers 40001).

``POST /cgi-bin/message/subscribe/send`` answers 0, unless the next entry of ``server.send_script``
(a list the tests fill) says otherwise: an errcode (43101, 47003, 40001, -1, 45009, ...), "hang"
(no answer for 8 s) or "http500"; or the ``touser`` openid starts with ``noquota-`` (43101),
``baddata-`` (47003), ``busy-`` (-1) or ``hang-`` — switches for trying it by hand.

Every request is kept in ``server.requests`` so tests can see what was sent.
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

SESSION_KEY = "fake-session-key-tIhs/IsSecret=="


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting: that is what "slow" is for

    def do_POST(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        except ValueError:
            return self._send(200, {"errcode": 47001, "errmsg": "data format error"})
        server = self.server
        with server.lock:
            server.requests.append({"path": url.path, "query": query, "body": body})
            if url.path == "/cgi-bin/stable_token":
                if body.get("appid") != server.appid or body.get("secret") != server.secret \
                        or body.get("grant_type") != "client_credential":
                    return self._send(200, {"errcode": 40013, "errmsg": "invalid appid"})
                if body.get("force_refresh") or not server.tokens:
                    server.tokens.append(f"token-{len(server.tokens) + 1}")
                return self._send(200, {"access_token": server.tokens[-1], "expires_in": 7200})
            if url.path != "/cgi-bin/message/subscribe/send":
                return self._send(404, {"errcode": 404, "errmsg": "not found"})
            if not server.tokens or query.get("access_token") != server.tokens[-1] or server.invalid:
                server.invalid = False
                return self._send(200, {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
            openid = str(body.get("touser", ""))
            step = server.send_script.pop(0) if server.send_script else None
            for prefix, code in (("noquota-", 43101), ("baddata-", 47003), ("busy-", -1), ("hang-", "hang")):
                if step is None and openid.startswith(prefix):
                    step = code
        if step == "hang":
            time.sleep(8)
            return self._send(200, {"errcode": 0, "errmsg": "ok (too late)"})
        if step == "http500":
            return self._send(500, b"<html>500</html>", "text/html")
        if step:
            return self._send(200, {"errcode": step, "errmsg": f"fake errcode {step}"})
        with server.lock:
            server.delivered.append(body)
        return self._send(200, {"errcode": 0, "errmsg": "ok"})

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.requests.append({"path": url.path, "query": query})
        if url.path != "/sns/jscode2session":
            return self._send(404, {"errcode": 404, "errmsg": "not found"})
        if query.get("appid") != self.server.appid or query.get("secret") != self.server.secret \
                or query.get("grant_type") != "authorization_code":
            return self._send(200, {"errcode": 40013, "errmsg": "invalid appid"})
        code = query.get("js_code", "")
        errors = {"bad": 40029, "used": 40163, "blocked": 40226, "busy": -1, "limited": 45011}
        if code in errors:
            return self._send(200, {"errcode": errors[code], "errmsg": "fake error"})
        if code == "slow":
            time.sleep(8)
            return self._send(200, {"openid": "slow-user", "session_key": SESSION_KEY})
        if code == "garbage":
            return self._send(200, b"<html>502 Bad Gateway</html>", "text/html")
        if code == "error500":
            return self._send(500, {"errcode": -1, "errmsg": "system error"})
        if code == "list":
            return self._send(200, [1, 2, 3])
        for prefix in ("ok-", "union-"):
            if code.startswith(prefix):
                answer = {"openid": code[len(prefix):], "session_key": SESSION_KEY}
                if prefix == "union-":
                    answer["unionid"] = "union-of-" + code[len(prefix):]
                return self._send(200, answer)
        return self._send(200, {"errcode": 40029, "errmsg": "invalid code"})


class FakeWeChat:
    def __init__(self, appid="wx-test-appid", secret="test-app-secret", port=0):
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.server.daemon_threads = True
        self.server.appid, self.server.secret, self.server.requests = appid, secret, []
        self.server.tokens, self.server.send_script, self.server.delivered = [], [], []
        self.server.invalid, self.server.lock = False, threading.Lock()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    @property
    def requests(self):
        return self.server.requests

    def reset(self):
        """Forget what was asked and sent (a fresh WeChat for the next test)."""
        with self.server.lock:
            self.server.requests.clear()
            self.server.tokens.clear()
            self.server.send_script.clear()
            self.server.delivered.clear()
            self.server.invalid = False

    def invalidate_tokens(self):
        """The next send answers 40001, as WeChat does when a token was replaced elsewhere."""
        self.server.invalid = True

    @property
    def delivered(self):
        return self.server.delivered

    def token_calls(self):
        return [r for r in self.server.requests if r["path"] == "/cgi-bin/stable_token"]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--appid", default="wx-test-appid")
    parser.add_argument("--secret", default="test-app-secret")
    args = parser.parse_args()
    fake = FakeWeChat(args.appid, args.secret, args.port)
    print(f"fake WeChat on {fake.base_url} (appid {args.appid})", flush=True)
    fake.server.serve_forever()
