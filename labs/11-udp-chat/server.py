# Lab 11, the UDP chat server: each message from any client is shown, and the
# reply you type goes back to whoever sent it. Ctrl-D ends.
#
#   python3 server.py [PORT]        (PORT: 8081 unless given)
#
# Let netlab be a chat client:   netlab connect 11 --port PORT
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081

server = socket(AF_INET, SOCK_DGRAM)
server.bind(('127.0.0.1', port))
print('listening on 127.0.0.1:%d' % port, flush=True)
while True:
    qq_msg, addr = server.recvfrom(1024)
    print('a message from %s:%s: %s' % (addr[0], addr[1], qq_msg.decode('utf-8', 'replace')),
          flush=True)
    try:
        back_msg = input('reply: ').strip()
    except EOFError:
        break
    server.sendto(back_msg.encode('utf-8'), addr)
server.close()
