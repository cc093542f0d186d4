"""Content loading and validation, and the dialogue engine built on ``transitions``. Pure: no I/O but reading
content files, and no platform imports."""
