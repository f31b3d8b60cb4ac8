# Threat: writing outside its own folder: into the course tree, the gradebook, /tmp.
def mse(pred, target):
    refused = []
    for path in ("__REPO_MARKER__", "__GRADEBOOK__", "__TMP_MARKER__"):
        try:
            with open(path, "a") as f:
                f.write("written by a submission")
        except OSError as exc:
            refused.append(f"{path}: {exc}")
    if refused:
        raise PermissionError("; ".join(refused))
    return 0.0
