# Threat: sys.exit while the module is imported.
raise SystemExit(2)
