# Lab 04, a client that goes away: type messages, then Ctrl-D. It closes
# politely (FIN), or, with the word reset after the port, abruptly (RST), the
# way a client killed on Windows does.
#
#   python3 client.py [PORT [reset]]   (PORT: 8080 unless given)
#
# Let netlab be the server, in another terminal first:   netlab serve 04
import struct
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080

phone = socket(AF_INET, SOCK_STREAM)
phone.connect(('127.0.0.1', port))
while True:
    try:
        msg = input('>>: ').strip()
    except EOFError:
        break
    if not msg:
        continue
    phone.send(msg.encode('utf-8'))
    print(phone.recv(1024).decode('utf-8'))
if sys.argv[2:] == ['reset']:
    # l_onoff=1, l_linger=0: close() drops the connection with RST.
    phone.setsockopt(SOL_SOCKET, SO_LINGER, struct.pack('ii', 1, 0))
phone.close()
