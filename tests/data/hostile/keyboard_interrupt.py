# Threat: KeyboardInterrupt, which `except Exception` does not catch.
def mse(pred, target):
    raise KeyboardInterrupt
