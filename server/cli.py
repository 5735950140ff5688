"""Flask commands (``flask --app wsgi ...``).  Later features add theirs here."""


def register(app):
    """Attach the project's commands to ``app.cli``."""
