"""carepool: the operating platform of a devolved, integrated health and social care economy."""

__version__ = "0.1.0"
