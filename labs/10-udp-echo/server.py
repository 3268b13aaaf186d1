# Lab 10, the UDP echo server: each datagram back in upper case, to whoever
# sent it. No listen, no accept: one socket talks to every client.
#
#   python3 server.py [PORT]        (PORT: 8082 unless given)
#
# Let netlab be the client:   netlab connect 10 --port PORT
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8082

server = socket(AF_INET, SOCK_DGRAM)
server.bind(('127.0.0.1', port))
print('listening on 127.0.0.1:%d' % port, flush=True)
while True:
    msg, addr = server.recvfrom(1024)          # one datagram, and who sent it
    print(msg, addr, flush=True)
    server.sendto(msg.upper(), addr)           # the answer goes back to that address
