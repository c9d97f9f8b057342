"""Loopback servers the harness controls: services that can stop answering, a Discord and an OpenAI stand-in."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class Service:
    """A loopback HTTP service answering 200 "ok" until stop().

    stop("refuse") closes the listening socket: connections are refused, as when the process died.
    stop("hang") stops accepting but keeps the socket: the kernel still completes handshakes into the backlog,
    and the request is never answered, as when the process is wedged; a probe fails only at its timeout.
    start() serves again on the same port."""

    def __init__(self, port: int | None = None):
        self.port = port or 0
        self.server = None
        self.thread = None
        self.start()

    def start(self) -> None:
        if self.server is not None:
            self.server.server_close()  # a hung socket: drop its backlog before listening anew
        class H(_Quiet):
            def do_GET(self):
                self._send(200, b"ok\n", "text/plain")

            do_HEAD = do_GET

        for _ in range(50):
            try:
                self.server = _Server(("127.0.0.1", self.port), H)
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise OSError(f"cannot listen on 127.0.0.1:{self.port} again")
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self, mode: str = "refuse") -> float:
        """Stops answering; returns the monotonic time from which no request is answered."""
        self.server.shutdown()  # the serve loop ends (within its 50 ms poll): nothing is accepted any more
        if mode == "refuse":
            self.server.server_close()  # from here on, connect() is refused
        return time.monotonic()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"


class FakeDiscord:
    """Records (monotonic time, JSON body) of every webhook POST; answers 204."""

    def __init__(self):
        self.received: list[tuple[float, dict]] = []
        lock = threading.Lock()
        outer = self

        class H(_Quiet):
            def do_POST(self):
                body = self._body()
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = {"_raw": body.decode(errors="replace")}
                with lock:
                    outer.received.append((time.monotonic(), doc))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = _Server(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/webhooks/1/bench"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FakeOpenAI:
    """A Chat Completions stand-in playing a scripted remediation: it answers each request with one tool call,
    taken from `script` (skipping names the request does not offer), and records every request body.

    `remediations` names the tools that count as a remediation round (a round ends with one of them)."""

    def __init__(self, script: list[str], remediations: set[str]):
        self.requests: list[dict] = []
        self.last_request_at = 0.0
        self.calls: list[str] = []
        self.script = list(script)
        self.remediations = remediations
        lock = threading.Lock()
        outer = self

        class H(_Quiet):
            def do_POST(self):
                body = self._body()
                try:
                    req = json.loads(body)
                except ValueError:
                    self._send(400, b'{"error":{"message":"bad json","type":"invalid_request_error"}}')
                    return
                with lock:
                    outer.last_request_at = time.monotonic()
                    outer.requests.append(req)
                    name = outer._next_tool(req)
                    outer.calls.append(name)
                    n = len(outer.requests)
                resp = {
                    "id": f"chatcmpl-bench{n}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": req.get("model", "gpt-4o-mini"),
                    "choices": [{
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "logprobs": None,
                        "message": {
                            "role": "assistant",
                            "content": None,
                            "refusal": None,
                            "annotations": [],
                            "tool_calls": [{
                                "id": f"call_bench{n}",
                                "type": "function",
                                "function": {"name": name,
                                             "arguments": json.dumps({"reason": f"benchmark step {n}: {name}"})},
                            }],
                        },
                    }],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                    "service_tier": "default",
                    "system_fingerprint": "fp_bench",
                }
                self._send(200, json.dumps(resp).encode())

        self.server = _Server(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _next_tool(self, req: dict) -> str:
        offered = [t.get("function", {}).get("name") for t in req.get("tools", [])]
        while self.script:
            name = self.script.pop(0)
            if name in offered:
                return name
        return "escalate_to_human" if "escalate_to_human" in offered else (offered[0] if offered else "none")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
