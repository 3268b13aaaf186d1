# Lab 08, the remote-command server with the first fix: before each output,
# its size as 4 bytes, struct.pack('i', size). Only the commands below run,
# never through a shell.
#
#   python3 server.py [PORT]        (PORT: 8080 unless given)
#
# Let netlab be the client:   netlab connect 08 --port PORT
import struct
import subprocess
import sys
from socket import *

ALLOWED = {'echo hello', 'seq 1 10', 'seq 1000 1400', 'seq 1 100000'}
port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080

server = socket(AF_INET, SOCK_STREAM)
server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)  # restart at once after a run (lab 06)
server.bind(('127.0.0.1', port))
server.listen(5)
print('listening on 127.0.0.1:%d' % port, flush=True)

while True:
    conn, client_addr = server.accept()
    while True:
        try:
            cmd = conn.recv(1024)
        except ConnectionResetError:
            break
        if not cmd:
            break
        text = cmd.decode('utf-8', 'replace')
        if text in ALLOWED:
            res = subprocess.run(text.split(), capture_output=True)
            out = res.stdout + res.stderr
        else:
            out = ('not allowed: %r\n' % text).encode('utf-8')
        conn.send(struct.pack('i', len(out)))  # 1. the size, 4 bytes
        conn.sendall(out)                      # 2. exactly that many bytes
    conn.close()
