"""The service directory and the places of Quảng Ninh: CSV import/export, lookups of particular
points, and the routing decision over the current directory.
"""
