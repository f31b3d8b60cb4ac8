"""Similar submissions: winnowing fingerprints (copydetect) with the stub and the class's
common code filtered out, a reference-leak check, and reports. Flags only: never a score.

sources      reading the exchange folder (what grade-batch reads) and the stub/reference
tokens       normalised token streams (renaming and literals do not hide a copy)
fingerprints winnowed k-gram fingerprints and the overlap of two documents
threshold    the class-based cut-off
detect       the pairwise comparison of one class, per assignment
html_report, export, flags   what is done with the result (the terminal table: grader.ui.similarity)
"""
