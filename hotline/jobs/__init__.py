"""How background work runs: the job registry, the RQ queues, the transactional outbox and its
relay, the worker with its periodic schedule, and sending an SMS exactly once.
"""
