import os
from http.server import BaseHTTPRequestHandler


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        target = self.path.lstrip("/")
        os.system("nslookup " + target)  # vuln: command
        os.system("nslookup example.org")  # safe: command
        self.send_response(200)
        self.end_headers()
