"""Bot-adversarial dialogue (BAD): turn labels -> fooled rates, time to first NOT OK, safety-layer accuracy, report (`python -m analysis bad`)."""
