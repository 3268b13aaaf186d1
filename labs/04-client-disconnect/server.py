# Lab 04, the server whose loop survives a client going away: b'' after a FIN
# (a client that closes or ends), ConnectionResetError after an RST (a client
# killed on Windows, or closed with SO_LINGER 0).
#
#   python3 server.py [PORT]        (PORT: 8080 unless given)
#
# Let netlab's clients go away from it:   netlab connect 04 --port PORT
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080

phone = socket(AF_INET, SOCK_STREAM)
phone.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)  # restart at once after a run (lab 06)
phone.bind(('127.0.0.1', port))
phone.listen(5)
print('listening on 127.0.0.1:%d' % port, flush=True)

while True:
    conn, addr = phone.accept()
    while True:
        try:
            data = conn.recv(1024)
        except ConnectionResetError:           # RST: gone without a goodbye
            print(addr, 'reset the connection', flush=True)
            break
        if not data:                           # b'': FIN, without this check the loop spins
            print(addr, 'hung up', flush=True)
            break
        conn.send(data.upper())
    conn.close()
