"""Staff accounts: users, passwords, API tokens, service-point membership and the duty roster."""
