"""Scenario tests: whole business flows across areas, with real numbers at every step."""
