# Lab 01, the client: dial, say one thing, hear the answer, hang up.
#
#   python3 client.py [PORT]        (PORT: 8080 unless given)
#
# Let netlab be the server, in another terminal first:   netlab serve 01
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080

phone = socket(AF_INET, SOCK_STREAM)           # buy a phone
phone.connect(('127.0.0.1', port))             # dial: the kernel picks our own port
phone.send('hello from my client'.encode('utf-8'))  # only bytes can be sent
data = phone.recv(1024)                        # hear the answer
print(data.decode('utf-8'))
phone.close()                                  # hang up
