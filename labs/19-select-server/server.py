"""Lab 19's server: one thread serves every client, with non-blocking sockets and a selector.

    python3 server.py [PORT]      (the port defaults to 8080; 0 lets the kernel pick one)

The server waits in one place only, sel.select(). An answer that does not fit in the send
buffer at once (a slow reader, lab 14) is kept and sent when the socket is writable.
"""
import selectors
import sys
from selectors import EVENT_READ, EVENT_WRITE
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
server = socket(AF_INET, SOCK_STREAM)
server.bind(('127.0.0.1', port))
server.listen(5)
server.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(server, EVENT_READ)
unsent = {}  # conn -> the bytes of its answers that send() has not taken yet
print('serving on', server.getsockname(), 'with', type(sel).__name__, flush=True)


def accept_all():
    """One event may stand for several waiting connections: accept until none is left."""
    while True:
        try:
            conn, addr = server.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        sel.register(conn, EVENT_READ)
        unsent[conn] = b''
        print('client', addr, 'connected', flush=True)


def hang_up(conn):
    sel.unregister(conn)
    del unsent[conn]
    conn.close()


def serve(conn, mask):
    if mask & EVENT_READ:
        try:
            data = conn.recv(1024)
        except BlockingIOError:
            data = None
        except ConnectionResetError:
            data = b''
        if data == b'':
            hang_up(conn)
            return
        if data:
            unsent[conn] += data.upper()
    if unsent[conn]:
        try:
            sent = conn.send(unsent[conn])
        except BlockingIOError:
            sent = 0
        except (BrokenPipeError, ConnectionResetError):
            hang_up(conn)
            return
        unsent[conn] = unsent[conn][sent:]
    # Ask for EVENT_WRITE only while something waits to be sent.
    sel.modify(conn, EVENT_READ | EVENT_WRITE if unsent[conn] else EVENT_READ)


while True:
    for key, mask in sel.select():
        if key.fileobj is server:
            accept_all()
        else:
            serve(key.fileobj, mask)
