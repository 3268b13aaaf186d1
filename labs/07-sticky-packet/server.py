# Lab 07, the remote-command server: a command in, its output out, with
# nothing to say how long the output is. Only the commands below run, and
# never through a shell: a server that runs any text from the network lets
# whoever reaches the port run anything as you.
#
#   python3 server.py [PORT]        (PORT: 8080 unless given)
#
# Let netlab be the client:   netlab connect 07 --port PORT
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
        conn.sendall(out)                      # sendall: send() may take only part (lab 14)
    conn.close()
