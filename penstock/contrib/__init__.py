"""Integrations with other libraries and frameworks.

Each module here imports its framework only when you import the module itself, so penstock's core
never pulls in Django, Celery or structlog.
"""
