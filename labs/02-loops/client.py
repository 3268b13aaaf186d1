# Lab 02, the client: type messages, one per line; each comes back in upper case.
# An empty line is skipped (send(b'') would send nothing, lab 03); Ctrl-D ends.
#
#   python3 client.py [PORT]        (PORT: 8081 unless given)
#
# Let netlab be the server, in another terminal first:   netlab serve 02
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081

phone = socket(AF_INET, SOCK_STREAM)
phone.connect(('127.0.0.1', port))
while True:                                    # communication loop
    try:
        msg = input('>>: ').strip()
    except EOFError:                           # Ctrl-D: no more input
        break
    if not msg:
        continue
    phone.send(msg.encode('utf-8'))
    data = phone.recv(1024)
    print(data.decode('utf-8'))
phone.close()
