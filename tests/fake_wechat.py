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
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    @property
    def requests(self):
        return self.server.requests

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
