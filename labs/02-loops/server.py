# Lab 02, the server: the link loop (one caller after another) around the
# communication loop (many messages on one call).
#
#   python3 server.py [PORT]        (PORT: 8081 unless given)
#
# Let netlab be the clients, in another terminal:   netlab connect 02 --port PORT
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081

phone = socket(AF_INET, SOCK_STREAM)
phone.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)  # restart at once after a run (lab 06)
phone.bind(('127.0.0.1', port))
phone.listen(5)
print('listening on 127.0.0.1:%d' % port, flush=True)

while True:                                    # link loop: the next caller
    conn, addr = phone.accept()
    print('a call from', addr, flush=True)
    while True:                                # communication loop: the next message
        data = conn.recv(1024)
        if not data:                           # b'': the caller hung up (FIN)
            break
        print(data, flush=True)
        conn.send(data.upper())
    conn.close()
