"""Developer tools: the embedded Redis-compatible server, the dev server, demo data and the dev
phone (off in production).
"""
