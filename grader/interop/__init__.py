"""Other graders' formats: nbgrader notebooks and their in-notebook checks."""
