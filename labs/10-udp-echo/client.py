# Lab 10, the UDP echo client: type lines; each goes out as one datagram and
# comes back in upper case. Ctrl-D ends.
#
#   python3 client.py [PORT]        (PORT: 8082 unless given)
#
# Let netlab be the server, in another terminal first:   netlab serve 10
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8082

client = socket(AF_INET, SOCK_DGRAM)           # no connect(): just send
while True:
    try:
        msg = input('>>: ').strip()
    except EOFError:
        break
    if not msg:
        continue
    client.sendto(msg.encode('utf-8'), ('127.0.0.1', port))
    back_msg, addr = client.recvfrom(1024)     # waits forever if no server is there
    print(back_msg.decode('utf-8'), addr)
client.close()
