"""A small JSON API that keeps notes in memory: `python3 app.py PORT`."""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NOTES: list[dict[str, str]] = []


class Notes(BaseHTTPRequestHandler):
    """`GET /health`, `GET /notes` and `POST /notes` with `{"text": ...}`."""

    def do_GET(self) -> None:
        if self.path == "/health":
            self.answer(200, {"status": "ok"})
        elif self.path == "/notes":
            self.answer(200, NOTES)
        else:
            self.answer(404, {"error": f"no such path: {self.path}"})

    def do_POST(self) -> None:
        if self.path != "/notes":
            self.answer(404, {"error": f"no such path: {self.path}"})
            return
        note = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        NOTES.append({"text": str(note["text"])})
        self.answer(201, NOTES[-1])

    def answer(self, status: int, document: object) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Notes).serve_forever()
