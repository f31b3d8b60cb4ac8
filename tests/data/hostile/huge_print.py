# Threat: 50 MB printed (the answer itself is right: printing never costs points).
_right_mse = mse  # noqa: F821  (the reference's, defined above)


def mse(pred, target):
    print("x" * 50_000_000)
    return _right_mse(pred, target)
