# Lab 08, the remote-command client with the first fix: read 4 bytes, unpack
# the size, then read until exactly that many bytes arrived. Type commands;
# `put FILE` uploads a file to netlab's server the same way. Ctrl-D ends.
#
#   python3 client.py [PORT]        (PORT: 8080 unless given)
#
# Let netlab be the server, in another terminal first:   netlab serve 08
import struct
import sys
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080


def recv_exactly(sock, n):
    """Exactly n bytes: recv returns what has arrived, perhaps less."""
    data = b''
    while len(data) < n:
        chunk = sock.recv(min(n - len(data), 1024))
        if not chunk:
            raise ConnectionError('closed after %d of %d bytes' % (len(data), n))
        data += chunk
    return data


def recv_reply(sock):
    header = recv_exactly(sock, 4)
    total_size = struct.unpack('i', header)[0]
    return recv_exactly(sock, total_size)


client = socket(AF_INET, SOCK_STREAM)
client.connect(('127.0.0.1', port))
while True:
    try:
        cmd = input('command>> ').strip()
    except EOFError:
        break
    if not cmd:
        continue
    if cmd.startswith('put '):
        with open(cmd[4:], 'rb') as f:
            data = f.read()
        client.send(b'put')
        print(recv_reply(client).decode('utf-8'))  # ready
        client.send(struct.pack('i', len(data)))
        client.sendall(data)
    else:
        client.send(cmd.encode('utf-8'))
    print(recv_reply(client).decode('utf-8', 'replace'), end='')
client.close()
