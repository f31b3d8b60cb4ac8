# Threat: NaN, which compares unequal to everything (and fools naive checks).
def mse(pred, target):
    return float("nan")
