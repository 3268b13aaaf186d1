# Lab 12, the UDP time server: each request is a strftime format (an empty
# one means '%Y-%m-%d %X'); the answer is the time in that format.
#
#   python3 server.py [PORT]        (PORT: 9000 unless given)
#
# Let netlab be the client:   netlab connect 12 --port PORT
import sys
from socket import *
from time import strftime

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000

server = socket(AF_INET, SOCK_DGRAM)
server.bind(('127.0.0.1', port))
print('listening on 127.0.0.1:%d' % port, flush=True)
while True:
    msg, addr = server.recvfrom(1024)
    if not msg:
        time_fmt = '%Y-%m-%d %X'
    else:
        time_fmt = msg.decode('utf-8', 'replace')
    server.sendto(strftime(time_fmt).encode('utf-8'), addr)
