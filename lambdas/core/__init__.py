"""What every Tollgate function shares: config, settings, observability, AWS clients, the bus."""
