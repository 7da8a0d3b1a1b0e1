"""A webhook receiver for press-intake: verifies every delivery, prints each event once.

    WEBHOOK_SECRET=whsec_... python3 examples/webhook_receiver.py 8765

Every delivery is checked with the Standard Webhooks library (``pip install standardwebhooks``):
the signature over ``webhook-id``, ``webhook-timestamp`` and the body, with the secret
``POST /webhooks`` showed once, and a timestamp within 5 minutes. A delivery that fails the
check is answered 401 and printed as refused. Deliveries are at least once: one whose
``webhook-id`` was seen before is answered 204 and not printed again.
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

verifier = Webhook(os.environ["WEBHOOK_SECRET"])
seen: set[str] = set()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            event = verifier.verify(body, dict(self.headers))
        except WebhookVerificationError as error:
            self.send_response(401)
            self.end_headers()
            print("refused:", error, flush=True)
            return
        self.send_response(204)
        self.end_headers()
        if self.headers["webhook-id"] not in seen:
            seen.add(self.headers["webhook-id"])
            print(event["type"], json.dumps(event["data"]), flush=True)

    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per event is enough


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
