# Threat: an infinite loop.
def mse(pred, target):
    while True:
        pass
