"""A client for lab 18 (and 19): sends each line you type, prints the server's answer.

    python3 client.py [PORT]      (the port defaults to 8080)

An empty line is skipped (lab 03); Ctrl-D ends the client.
"""
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
client = socket(AF_INET, SOCK_STREAM)
client.connect(('127.0.0.1', port))
while True:
    try:
        msg = input('>>: ').strip()
    except EOFError:
        break
    if not msg:
        continue
    client.send(msg.encode('utf-8'))
    data = client.recv(1024)
    if not data:
        break
    print(data.decode('utf-8'))
client.close()
