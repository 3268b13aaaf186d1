# Lab 11, a UDP chat client: type messages to the chat server, see its
# answers. Start several: the server tells them apart by their addresses.
# Ctrl-D ends.
#
#   python3 client.py [PORT]        (PORT: 8081 unless given)
#
# Let netlab be the chat server, in another terminal first:   netlab serve 11
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081

client = socket(AF_INET, SOCK_DGRAM)
while True:
    try:
        msg = input('message: ').strip()
    except EOFError:
        break
    if not msg:
        continue
    client.sendto(msg.encode('utf-8'), ('127.0.0.1', port))
    back_msg, addr = client.recvfrom(1024)
    print('from %s:%s: %s' % (addr[0], addr[1], back_msg.decode('utf-8', 'replace')))
client.close()
