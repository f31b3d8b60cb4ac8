# Threat: copying another student's answer from the submissions folder.
def mse(pred, target):
    with open("__OTHER__") as f:
        namespace = {}
        exec(f.read(), namespace)
    return namespace["mse"](pred, target)
