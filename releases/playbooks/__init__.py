"""Remediation playbooks: per rejection category, ordered steps; versioned, seeded from the domain."""
