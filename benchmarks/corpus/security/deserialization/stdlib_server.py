import pickle
import socketserver


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        data = self.request.recv(65536)
        job = pickle.loads(data)  # vuln: deserialization
        known = pickle.loads(pickle.dumps({"ok": True}))  # safe: deserialization
        self.request.sendall(repr([job, known]).encode())
