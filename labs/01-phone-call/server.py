# Lab 01, the server: answer one phone call, then switch the phone off.
#
#   python3 server.py [PORT]        (PORT: 8080 unless given)
#
# Let netlab be the client, in another terminal:   netlab connect 01 --port PORT
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080

phone = socket(AF_INET, SOCK_STREAM)           # buy a phone
phone.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)  # restart at once after a run (lab 06)
phone.bind(('127.0.0.1', port))                # put in the SIM card: our number
phone.listen(5)                                # switch it on
print('listening on 127.0.0.1:%d' % port, flush=True)

conn, addr = phone.accept()                    # answer a call
print('a call from', addr, flush=True)
data = conn.recv(1024)                         # listen: at most 1024 bytes
print('heard', data, flush=True)
conn.send(data.upper())                        # answer in upper case
conn.close()                                   # hang up
phone.close()                                  # switch the phone off
