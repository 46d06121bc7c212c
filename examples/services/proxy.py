"""A tiny forwarding proxy for the services example: GET /path -> UPSTREAM/path."""

import http.server
import sys
import urllib.request

PORT, UPSTREAM = int(sys.argv[1]), sys.argv[2]


class Proxy(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        with urllib.request.urlopen(UPSTREAM + self.path) as answer:
            body = answer.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


server = http.server.HTTPServer(("127.0.0.1", PORT), Proxy)
print(f"proxy ready on port {PORT}", flush=True)
server.serve_forever()
