"""Lab 18's server written with socketserver: one thread per connection, made by the library.

    python3 server_socketserver.py [PORT]   (the port defaults to 8080; 0 lets the kernel pick)
"""
import socketserver
import sys


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        """The communication loop; socketserver closes self.request after it returns."""
        while True:
            try:
                data = self.request.recv(1024)
            except ConnectionResetError:
                break
            if not data:
                break
            self.request.send(data.upper())


port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
socketserver.ThreadingTCPServer.daemon_threads = True
with socketserver.ThreadingTCPServer(('127.0.0.1', port), Handler) as server:
    print('serving on', server.server_address, flush=True)
    server.serve_forever()
