# Lab 09, the remote-command client with the second fix: 4 bytes, the JSON
# header, then exactly total_size bytes, checked against the header's MD5.
# Type commands; `put FILE` uploads a file to netlab's server the same way.
# Ctrl-D ends.
#
#   python3 client.py [PORT]        (PORT: 8080 unless given)
#
# Let netlab be the server, in another terminal first:   netlab serve 09
import hashlib
import json
import os
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
    json_len = struct.unpack('i', header)[0]
    header_dic = json.loads(recv_exactly(sock, json_len).decode('utf-8'))
    data = recv_exactly(sock, header_dic['total_size'])
    if hashlib.md5(data).hexdigest() != header_dic.get('md5'):
        print('(the MD5 does not match the header)')
    return data


def send_with_header(sock, filename, data):
    header_dic = {
        'filename': filename,
        'total_size': len(data),
        'md5': hashlib.md5(data).hexdigest(),
    }
    header_bytes = json.dumps(header_dic).encode('utf-8')
    sock.send(struct.pack('i', len(header_bytes)))
    sock.send(header_bytes)
    sock.sendall(data)


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
        send_with_header(client, os.path.basename(cmd[4:]), data)
    else:
        client.send(cmd.encode('utf-8'))
    print(recv_reply(client).decode('utf-8', 'replace'), end='')
client.close()
