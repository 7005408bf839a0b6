"""A local OpenAI-compatible HTTP server standing in for a hosted LLM API.

The request's `model` picks the behaviour: `stream`/`plain` answer, `rate-limited` answers 429
with Retry-After once, `flaky` answers 500 once, `unauthorized` answers 401, `slow` streams one
token every 0.2 s. Requests are recorded (path, Authorization header, body).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER = ["Done", ": ", "the ", "item ", "is ", "finished."]


class FakeLLM:
    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.calls: Counter[str] = Counter()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                model = body["model"]
                fake.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
                )
                fake.calls[model] += 1
                if fake.api_key and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    return self.reply(401, {"error": {"message": "bad key"}})
                if model == "unauthorized":
                    return self.reply(401, {"error": {"message": "invalid api key"}})
                if model == "rate-limited" and fake.calls[model] == 1:
                    return self.reply(429, {"error": "slow down"}, {"Retry-After": "0.2"})
                if model == "flaky" and fake.calls[model] == 1:
                    return self.reply(500, {"error": "oops"})
                if not body.get("stream"):
                    return self.reply(200, {"choices": [{"message": {"content": "".join(ANSWER)}}]})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                tokens = ANSWER * 50 if model == "slow" else ANSWER
                try:
                    for token in tokens:
                        chunk = {"choices": [{"delta": {"content": token}}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                        if model == "slow":
                            time.sleep(0.2)
                    self.wfile.write(b"data: [DONE]\n\n")
                except (BrokenPipeError, ConnectionResetError):
                    fake.calls["disconnected"] += 1

            def reply(
                self, status: int, doc: object, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(doc).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
