# Threat: one ever-growing file in its own folder.
def mse(pred, target):
    chunk = b"x" * (4 * 1024 * 1024)
    with open("big.bin", "wb") as f:
        for _ in range(256):
            f.write(chunk)
    return 0.0
