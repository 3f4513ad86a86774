"""The API's pydantic schemas, one module per resource (common: the envelope and the strict base)."""
