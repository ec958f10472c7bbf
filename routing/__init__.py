"""Pure domain logic for places and routing: no Flask, no database session.

Functions here take plain data and return plain data so the voice and SMS flows, the
operator form and the API all decide the same way, and so they can be tested and
benchmarked without a running service.
"""
