"""Feeds CloudFormation custom-resource events (one JSON object per line on stdin) to index.handler and
prints, per event, the response PUT to ResponseURL and the boto3 calls made, as one JSON line."""
import http.server
import json
import sys
import threading

import boto3
import index

responses = []


class Collector(http.server.BaseHTTPRequestHandler):
    def do_PUT(self):
        responses.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
threading.Thread(target=server.serve_forever, daemon=True).start()


class Context:
    log_stream_name = "test-stream"


# The handler's own prints go to stderr, so stdout carries only the results.
results = sys.stdout
sys.stdout = sys.stderr
for line in sys.stdin:
    if not line.strip():
        continue
    event = json.loads(line)
    event.update({"ResponseURL": "http://127.0.0.1:%d/cfn" % server.server_port, "StackId": "stack",
                  "LogicalResourceId": "SipMediaApplication"})
    before = len(boto3.calls)
    index.handler(event, Context())
    results.write(json.dumps({"response": responses[-1], "calls": boto3.calls[before:]}) + "\n")
    results.flush()
server.shutdown()
