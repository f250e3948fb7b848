"""Network probe run inside containers: `serve` answers TCP and logs multicast; `send` and `connect` test peers.

Only the standard library; every line it prints is a small JSON object so tests can parse logs.
"""

import argparse
import json
import socket
import struct
import sys
import threading


def say(**fields):
    print(json.dumps(fields), flush=True)


def serve(args):
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("0.0.0.0", args.tcp_port))
    tcp.listen(16)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind(("", args.port))
    membership = struct.pack("4s4s", socket.inet_aton(args.group), socket.inet_aton("0.0.0.0"))
    udp.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    threading.Thread(target=answer_tcp, args=(tcp,), daemon=True).start()
    say(event="ready", group=args.group, port=args.port, tcp_port=args.tcp_port)
    while True:
        data, sender = udp.recvfrom(65535)
        say(event="multicast", sender=sender[0], data=data.decode(errors="replace"))


def answer_tcp(listener):
    while True:
        conn, peer = listener.accept()
        with conn:
            conn.sendall(f"hello {peer[0]} from {socket.gethostname()}\n".encode())


def send(args):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    udp.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    udp.sendto(args.message.encode(), (args.group, args.port))
    say(event="sent", group=args.group, port=args.port, message=args.message)


def connect(args):
    with socket.create_connection((args.host, args.tcp_port), timeout=5) as conn:
        say(event="connected", host=args.host, address=conn.getpeername()[0], reply=conn.recv(200).decode().strip())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["serve", "send", "connect"])
    parser.add_argument("--group", default="224.0.1.105")
    parser.add_argument("--port", type=int, default=23364)
    parser.add_argument("--tcp-port", type=int, default=7000)
    parser.add_argument("--host", default="")
    parser.add_argument("--message", default="probe")
    args = parser.parse_args(argv)
    {"serve": serve, "send": send, "connect": connect}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
