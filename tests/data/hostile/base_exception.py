# Threat: a bare BaseException.
def mse(pred, target):
    raise BaseException("escaping every except Exception")
