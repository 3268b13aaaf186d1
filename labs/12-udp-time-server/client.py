# Lab 12, the UDP time client: type a strftime format (%Y %m %d, %H:%M:%S ...)
# or just Enter for the server's default; each answer is the time. Ctrl-D ends.
#
#   python3 client.py [PORT]        (PORT: 9000 unless given)
#
# Let netlab be the server, in another terminal first:   netlab serve 12
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000

client = socket(AF_INET, SOCK_DGRAM)
while True:
    try:
        msg = input('format (e.g. %Y %m %d)>> ').strip()
    except EOFError:
        break
    client.sendto(msg.encode('utf-8'), ('127.0.0.1', port))
    data = client.recv(1024)                   # recv works on UDP too: one datagram
    print(data.decode('utf-8'))
client.close()
