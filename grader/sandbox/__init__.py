"""Running untrusted student code: one module per layer of the confinement.

pool.py (the trusted side: starts a zygote, sends cases, reads reports) →
zygote.py (a warm process that forks one child per submission) → child.py (runs the
student's module under limits.py and policy.py, inside bwrap.py's file system) —
messages framed by protocol.py and encoded by codec.py, plain data only, never a pickle.

Nothing is imported here: the zygote and its children import exactly what they need.
"""
