"""Cases: validating an intake, routing it and recording it (every channel), and who may see
which case.
"""
