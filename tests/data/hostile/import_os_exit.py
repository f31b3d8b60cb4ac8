# Threat: os._exit while the module is imported.
import os

os._exit(5)
