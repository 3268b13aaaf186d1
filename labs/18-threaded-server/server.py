"""Lab 18's server: the link loop gives each connection to a thread of its own.

    python3 server.py [PORT]      (the port defaults to 8080; 0 lets the kernel pick one)

Each client is answered at once, however long another one stays connected.
"""
import sys
import threading
from socket import *


def talk(conn):
    """The communication loop, run in its own thread for one connection."""
    while True:
        try:
            data = conn.recv(1024)
        except ConnectionResetError:
            break
        if not data:
            break
        conn.send(data.upper())
    conn.close()


port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
server = socket(AF_INET, SOCK_STREAM)
server.bind(('127.0.0.1', port))
server.listen(5)
print('serving on', server.getsockname(), flush=True)
while True:
    conn, addr = server.accept()
    t = threading.Thread(target=talk, args=(conn,), daemon=True)
    t.start()
    print('client', addr, 'is served by', t.name, flush=True)
