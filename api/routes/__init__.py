"""Thin routes, one module per resource: parse, check the policy, call the service, shape."""
