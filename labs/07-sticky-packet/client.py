# Lab 07, the remote-command client with the course's bug: one recv(1024) per
# command. Type seq 1000 1400, then echo hello: the second answer starts with
# the tail of the first. Ctrl-D ends.
#
#   python3 client.py [PORT]        (PORT: 8080 unless given)
#
# Let netlab be the server, in another terminal first:   netlab serve 07
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080

client = socket(AF_INET, SOCK_STREAM)
client.connect(('127.0.0.1', port))
while True:
    try:
        cmd = input('command>> ').strip()
    except EOFError:
        break
    if not cmd:
        continue
    client.send(cmd.encode('utf-8'))
    cmd_res = client.recv(1024)                # at most 1024 bytes: the rest stays queued
    print(cmd_res.decode('utf-8', 'replace'), end='')
    print()
client.close()
